// LiveSocket `metadata` (Phoenix's per-event metadata functions), shipped as the client hook
// `LiveSocket.metadata`: what a function returns is merged into the event's value.
{
  click: (e, el) => ({client_tag: el.dataset.tag || "none", alt_key: e.altKey}),
}
