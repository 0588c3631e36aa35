// CustomHook: a click pushes "custom_event" with the element's data-info; the server's reply
// is written to data-reply.
{
  mounted() {
    this.el.addEventListener("click", () => {
      this.pushEvent("custom_event", {data: this.el.dataset.info}, (reply) => {
        this.el.setAttribute("data-reply", reply.echo)
      })
    })
  },
}
