// GameLive in headless Chromium with the official LiveView client: the app's Game hook asks
// for the state with pushEvent and draws the reply on a canvas, sends arrow-key moves with
// pushEvent (and gets replies), and draws what the server pushes with push_event (moves, the
// bot on its timer, coins, the score, game over), which also reach window "phx:" listeners.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

async function press(page, key, times, expected) {
  for (let i = 0; i < times; i++) {
    const before = await page.getAttribute("#board-canvas", "data-you")
    await page.keyboard.press(key)
    await page.waitForFunction(
      (before) => document.getElementById("board-canvas").dataset.you !== before, before)
  }
  assert.equal(await page.getAttribute("#board-canvas", "data-you"), expected)
}

test("game: push events drawn by the hook, moves pushed with replies", async () => {
  const {page, errors} = await openLive(browser, "/game")
  try {
    await page.evaluate(() => {
      window.moves = []
      window.addEventListener("phx:player-moved", (e) => window.moves.push(e.detail))
    })
    // The hook drew the state it got in its reply.
    await page.waitForSelector("#board-canvas[data-you='0,0'][data-coin='3,0']")
    await page.waitForSelector("#hook-score:text('Score: 0')")
    // The bot moves on the server's timer; its moves arrive as push events.
    await page.waitForFunction(() => {
      const bot = document.getElementById("board-canvas").dataset.bot
      return bot && bot !== "9,9"
    })
    // Something was drawn: the canvas is not blank where the player stands.
    const blue = await page.evaluate(() => {
      const ctx = document.getElementById("board-canvas").getContext("2d")
      const [r, g, b] = ctx.getImageData(15, 15, 1, 1).data
      return b > 200 && r < 100
    })
    assert.ok(blue, "the player is drawn at 0,0")

    await press(page, "ArrowRight", 3, "3,0")
    await page.waitForSelector("#board-canvas[data-last-reply='ok']")
    await page.waitForSelector("#hook-score:text('Score: 1')")
    await page.waitForSelector("#score:text('Score: 1')")
    await page.waitForSelector("#board-canvas[data-coin='3,3']")
    await press(page, "ArrowDown", 3, "3,3")
    await page.waitForSelector("#hook-score:text('Score: 2')")
    await press(page, "ArrowLeft", 3, "0,3")
    await page.waitForSelector("#hook-score:text('Game over! Winner: you (3)')")
    await page.waitForSelector("#flash-info:text('Game Over! Winner: you')")
    const mine = await page.evaluate(() => window.moves.filter((m) => m.player_id === "you").length)
    assert.equal(mine, 9, "window listeners saw every move")

    // A move after the game is refused in the reply.
    await page.keyboard.press("ArrowUp")
    await page.waitForSelector("#board-canvas[data-last-reply='refused']")
    await page.click("#restart")
    await page.waitForSelector("#hook-score:text('Score: 0')")
    await page.waitForSelector("#board-canvas[data-you='0,0'][data-coin='3,0']")
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "game")
    throw e
  } finally {
    await page.close()
  }
})
