// Hibernation in headless Chromium with the official LiveView client: an idle thermostat
// (no tick) hibernates on a host of its own (--hibernate-after-secs 1), the metrics say so,
// and the next click wakes it: the page shows the right temperature, with no reload, no
// error and no rejoin; typed input elsewhere on the page is untouched.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {join} from "node:path"
import {freePort, launch, screenshot, startHost} from "./browser.mjs"

const COMPONENTS = process.env.LIVEWASM_COMPONENTS ||
  new URL("../../target/components", import.meta.url).pathname

const skip = !process.env.LIVEWASM_BIN && "LIVEWASM_BIN is not set (cargo xtask test sets it)"

let browser, host, metrics
before(async () => {
  if (skip) return
  browser = await launch()
  const port = await freePort()
  metrics = `http://127.0.0.1:${port}/metrics`
  host = await startHost(["--app", join(COMPONENTS, "thermostat.wasm"), "--no-cache",
    "--hibernate-after-secs", "1", "--metrics-listen", `127.0.0.1:${port}`],
    {LIVEWASM_SECRET_KEY: "ab".repeat(32), RUST_LOG: "warn"})
})
after(async () => {
  await browser?.close()
  await host?.stop()
})

// livewasm_instances and livewasm_hibernated_instances of the thermostat.
async function counts() {
  const text = await (await fetch(metrics)).text()
  const value = (name) => {
    const line = text.split("\n").find((l) => l.startsWith(name + "{") && l.includes('app="thermostat"'))
    return line ? Number(line.split(" ").pop()) : 0
  }
  return [value("livewasm_instances"), value("livewasm_hibernated_instances")]
}

async function untilCounts(want) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const got = await counts()
    if (got[0] === want[0] && got[1] === want[1]) return
    assert.ok(Date.now() < deadline, `(live, hibernated) stayed ${got}, expected ${want}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test("hibernation: an idle view sleeps, the next click wakes it with its state", {skip}, async () => {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  const sockets = []
  page.on("websocket", (ws) => sockets.push(ws.url()))
  try {
    await page.goto(host.base + "/thermostat?house=4&tick=off")
    await page.waitForSelector("[data-phx-main].phx-connected")
    await page.evaluate(() => { window.__noReload = true })
    // Something the user typed that the server knows nothing of.
    await page.evaluate(() => {
      const input = document.createElement("input")
      input.id = "scratch"
      document.body.appendChild(input)
    })
    await page.fill("#scratch", "typed before sleeping")

    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("71"))

    await untilCounts([0, 1])
    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("72"))
    assert.match(await page.textContent("h1"), /House 4 - 72°F/)
    await untilCounts([1, 0])

    // Asleep again; the keyboard binding wakes it too.
    await untilCounts([0, 1])
    await page.keyboard.press("ArrowUp")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("73"))

    assert.ok(await page.evaluate(() => window.__noReload === true), "no reload")
    assert.equal(await page.inputValue("#scratch"), "typed before sleeping")
    assert.equal(sockets.length, 1, "one socket: never a rejoin")
    assert.ok(await page.$("[data-phx-main].phx-connected"), "still connected")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "hibernation")
    throw e
  } finally {
    await page.close()
  }
})
