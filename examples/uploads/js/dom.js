// LiveSocket `dom` callbacks (Phoenix's `new LiveSocket(.., {dom: {onBeforeElUpdated}})`),
// shipped as the client hook `LiveSocket.dom`: attributes the page's own scripts put on an
// element (`data-js-*`) survive the server's patches, which would otherwise remove them.
{
  onBeforeElUpdated(from, to) {
    for (const attr of from.attributes) {
      if (attr.name.startsWith("data-js-") && !to.hasAttribute(attr.name)) {
        to.setAttribute(attr.name, attr.value)
      }
    }
  },
}
