// Livewasm's browser glue: connects the official Phoenix LiveView client to the host.
//
// Client hooks live in window.LivewasmHooks. An app's own hooks (declared in its `app!`
// manifest) arrive in a deferred script the host serves before this bundle, so they are
// registered before the client connects; a page may also define hooks there itself. The
// client is given that very object, so hooks added to it later are found when their
// elements mount.
import {Socket} from "phoenix"
import {LiveSocket} from "phoenix_live_view"

const csrfMeta = document.querySelector("meta[name='csrf-token']")
const csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : null
const hooks = (window.LivewasmHooks = window.LivewasmHooks || {})

const liveSocket = new LiveSocket("/live", Socket, {
  params: {_csrf_token: csrfToken},
  hooks,
})

// A view runs JS commands it rendered into an attribute with
// push_event("js-exec", {to: selector, attr: name}): e.g. closing a modal after a save.
window.addEventListener("phx:js-exec", ({detail}) => {
  if (!detail || typeof detail.to !== "string" || typeof detail.attr !== "string") return
  document.querySelectorAll(detail.to).forEach((el) => {
    const js = el.getAttribute(detail.attr)
    if (js) liveSocket.execJS(el, js)
  })
})

liveSocket.connect()
window.liveSocket = liveSocket
