// Game: draws the board on a canvas from the server's push events and sends the player's
// moves (arrow keys, or a click on the board) with pushEvent; the replies confirm them.
{
  mounted() {
    this.cell = 30
    this.size = 10
    this.players = {}
    this.coin = null
    this.score = 0
    this.over = null
    this.canvas = document.createElement("canvas")
    this.canvas.id = "board-canvas"
    this.canvas.width = this.cell * this.size
    this.canvas.height = this.cell * this.size
    this.scoreEl = document.createElement("p")
    this.scoreEl.id = "hook-score"
    this.el.replaceChildren(this.canvas, this.scoreEl)

    this.move = (x, y) => {
      this.pushEvent("player_move", {x, y}, (reply) => {
        this.canvas.setAttribute("data-last-reply", reply.ok ? "ok" : "refused")
      })
    }
    this.onKey = (e) => {
      const me = this.players.you
      if (!me) return
      const delta = {ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0]}[e.key]
      if (!delta) return
      e.preventDefault()
      this.move(me.x + delta[0], me.y + delta[1])
    }
    window.addEventListener("keydown", this.onKey)
    this.canvas.addEventListener("click", (e) => {
      const rect = this.canvas.getBoundingClientRect()
      this.move(Math.floor((e.clientX - rect.left) / this.cell), Math.floor((e.clientY - rect.top) / this.cell))
    })

    this.handleEvent("player-moved", ({player_id, x, y}) => {
      this.players[player_id] = {x, y}
      this.draw()
    })
    this.handleEvent("coin", ({x, y}) => {
      this.coin = {x, y}
      this.draw()
    })
    this.handleEvent("score", ({score}) => {
      this.score = score
      this.draw()
    })
    this.handleEvent("game-over", ({winner, score}) => {
      this.over = {winner, score}
      this.draw()
    })
    this.reset = (state) => {
      this.players = state.players
      this.coin = state.coin
      this.score = state.score
      this.over = state.over
      this.draw()
    }
    this.handleEvent("new-game", (state) => this.reset(state))
    // Ask for the whole state once; the reply seeds the drawing.
    this.pushEvent("ready", {}, (state) => this.reset(state))
  },
  destroyed() {
    window.removeEventListener("keydown", this.onKey)
  },
  draw() {
    const ctx = this.canvas.getContext("2d")
    const c = this.cell
    ctx.fillStyle = "#f4f4f5"
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height)
    if (this.coin) {
      ctx.fillStyle = "#eab308"
      ctx.beginPath()
      ctx.arc(this.coin.x * c + c / 2, this.coin.y * c + c / 2, c / 3, 0, 2 * Math.PI)
      ctx.fill()
    }
    const colors = {you: "#2563eb", bot: "#dc2626"}
    for (const [id, p] of Object.entries(this.players)) {
      ctx.fillStyle = colors[id] || "#111"
      ctx.fillRect(p.x * c + 3, p.y * c + 3, c - 6, c - 6)
      this.canvas.setAttribute("data-" + id, p.x + "," + p.y)
    }
    if (this.coin) this.canvas.setAttribute("data-coin", this.coin.x + "," + this.coin.y)
    this.scoreEl.textContent = this.over
      ? "Game over! Winner: " + this.over.winner + " (" + this.over.score + ")"
      : "Score: " + this.score
  },
}
