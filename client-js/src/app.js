// Livewasm's browser glue: connects the official Phoenix LiveView client to the host.
// Pages may define window.LivewasmHooks (LiveView hooks) before this script runs.
import {Socket} from "phoenix"
import {LiveSocket} from "phoenix_live_view"

const csrfMeta = document.querySelector("meta[name='csrf-token']")
const csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : null

const liveSocket = new LiveSocket("/live", Socket, {
  params: {_csrf_token: csrfToken},
  hooks: window.LivewasmHooks || {},
})

liveSocket.connect()
window.liveSocket = liveSocket
