// Livewasm's browser glue: connects the official Phoenix LiveView client to the host.
//
// Client hooks live in window.LivewasmHooks. An app's own hooks (declared in its `app!`
// manifest) arrive in a deferred script the host serves before this bundle, so they are
// registered before the client connects; a page may also define hooks there itself. The
// client is given that very object, so hooks added to it later are found when their
// elements mount.
//
// phoenix_html first, as Phoenix's generated app.js does: it is what makes `data-confirm` ask
// ("Are you sure?") and `data-method`/`data-to` links work. Its window click listener must be
// registered before LiveSocket's, so that a dismissed confirm (it calls stopImmediatePropagation)
// stops the element's phx-click from ever reaching the view.
import "phoenix_html"
import {Socket} from "phoenix"
import {LiveSocket} from "phoenix_live_view"

const csrfMeta = document.querySelector("meta[name='csrf-token']")
const csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : null
const hooks = (window.LivewasmHooks = window.LivewasmHooks || {})
// An app's LiveSocket options, from its client hooks named `LiveSocket.uploaders`,
// `LiveSocket.metadata` and `LiveSocket.dom` (or set by a page itself before this bundle):
// external uploaders, per-event metadata functions and DOM callbacks, as Phoenix's
// `new LiveSocket("/live", Socket, {uploaders, metadata, dom})` takes them.
const options = window.LivewasmSocketOptions || {}

const liveSocket = new LiveSocket("/live", Socket, {
  params: {_csrf_token: csrfToken},
  hooks,
  uploaders: options.uploaders || {},
  metadata: options.metadata || {},
  dom: options.dom || {},
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

// Dev live reload (`livewasm serve --dev` only: other pages carry no such meta, and the host
// refuses the topic). The page names its app and the generation it was rendered with; when
// the host swaps in a new build of the app it pushes "reloaded" (at once if this page is
// already out of date). A full reload, not a remount: it keeps the URL (live patches and
// navigation are in it) and also picks up what only the dead render gives: the new build's
// hook script, title and container, and routes or views that were renamed.
//
// On the same channel, a build of the page's app that failed shows the compiler's message over
// the page ("build_error") until the source builds again ("build_fixed", or the reload that
// follows a good build), and a view that crashed shows its trap and panic message
// ("guest_error") until dismissed. Dev pages only: production pages never join the channel.
const reloadMeta = document.querySelector("meta[name='livewasm-reload']")
if (reloadMeta) {
  const channel = liveSocket.getSocket().channel("livewasm:reload", {token: reloadMeta.content})
  channel.on("reloaded", () => window.location.reload())
  channel.on("build_error", ({app, message}) =>
    showOverlay(`${app}: the build failed (the previous version is still serving)`, message))
  channel.on("build_fixed", () => hideOverlay())
  channel.on("guest_error", ({app, view, message}) =>
    showOverlay(`${app}: ${view} crashed (it mounts again)`, message))
  channel.join().receive("error", () => channel.leave())
}

const OVERLAY_ID = "livewasm-dev-overlay"

function showOverlay(heading, message) {
  hideOverlay()
  const overlay = document.createElement("div")
  overlay.id = OVERLAY_ID
  overlay.setAttribute("role", "alert")
  overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
    "background:rgba(20,20,24,.94);color:#f8f8f2;font:13px/1.5 ui-monospace,monospace;padding:24px"
  const title = document.createElement("h2")
  title.style.cssText = "margin:0 0 12px;color:#ff6b6b;font:600 16px/1.4 system-ui,sans-serif"
  title.textContent = heading
  const text = document.createElement("pre")
  text.style.cssText = "white-space:pre-wrap;margin:0"
  text.textContent = message
  const close = document.createElement("button")
  close.textContent = "Dismiss"
  close.style.cssText = "position:absolute;top:16px;right:16px"
  close.addEventListener("click", hideOverlay)
  overlay.append(title, text, close)
  document.body.append(overlay)
}

function hideOverlay() {
  document.getElementById(OVERLAY_ID)?.remove()
}
