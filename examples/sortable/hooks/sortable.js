// Sortable: reorders the list's items by dragging (pointer events) or from the keyboard
// (focus an item, Alt+ArrowUp / Alt+ArrowDown), then pushes "reposition" {from, to}. The
// server answers with the new order, which the hook keeps in data-reply on the list.
{
  mounted() {
    this.dragging = null
    this.items = () => Array.from(this.el.querySelectorAll("[data-sortable-item]"))
    this.reposition = (from, to) => {
      if (from === to || from < 0 || to < 0) return
      this.pushEvent("reposition", {from, to}, (reply) => {
        this.el.setAttribute("data-reply", reply.order.join(","))
      })
    }
    this.el.addEventListener("pointerdown", (e) => {
      const item = e.target.closest("[data-sortable-item]")
      if (!item || e.target.closest("button")) return
      this.dragging = item
      item.classList.add("dragging")
    })
    this.el.addEventListener("pointerup", (e) => {
      const from = this.dragging
      this.dragging = null
      if (!from) return
      from.classList.remove("dragging")
      const over = document.elementFromPoint(e.clientX, e.clientY)
      const target = over && over.closest("[data-sortable-item]")
      if (!target) return
      const items = this.items()
      this.reposition(items.indexOf(from), items.indexOf(target))
    })
    this.el.addEventListener("keydown", (e) => {
      const item = e.target.closest("[data-sortable-item]")
      if (!item || !e.altKey) return
      const items = this.items()
      const from = items.indexOf(item)
      if (e.key === "ArrowUp" && from > 0) {
        e.preventDefault()
        this.reposition(from, from - 1)
      } else if (e.key === "ArrowDown" && from < items.length - 1) {
        e.preventDefault()
        this.reposition(from, from + 1)
      }
    })
    // The server announces the order after each render (an after_render hook).
    this.handleEvent("sortable:order", ({order}) => {
      const status = document.getElementById("order-status")
      if (status) status.textContent = order.join(" ")
    })
  },
  updated() {
    // Keep the keyboard focus on the item that moved.
    const id = this.el.getAttribute("data-moved")
    const moved = id && document.getElementById(id)
    if (moved && document.activeElement && document.activeElement.closest("#" + this.el.id)) {
      moved.focus()
    }
  },
}
