// Live upgrade in headless Chromium with the official LiveView client, on the platform host
// xtask started (tenant `acme`): an app `upgrade` serves the thermostat; with a page open, the
// thermostat's version 2 is deployed, and the open page turns into version 2 in place — the
// temperature the user raised kept, no reload, no rejoin, what the user typed elsewhere on the
// page untouched — and keeps working. A house version 2 refuses is remounted (the page moves to
// the same URL on version 2, starting afresh).
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {execFileSync} from "node:child_process"
import {join} from "node:path"
import {launch, screenshot} from "./browser.mjs"

const PLATFORM = process.env.LIVEWASM_PLATFORM_URL
const TOKEN = process.env.LIVEWASM_PLATFORM_TOKEN
const BIN = process.env.LIVEWASM_BIN
const COMPONENTS = process.env.LIVEWASM_COMPONENTS
const skip = !PLATFORM && "LIVEWASM_PLATFORM_URL is not set (cargo xtask test sets it)"

const origin = () => `http://upgrade.acme.localhost:${new URL(PLATFORM).port}`

const cli = (...args) =>
  execFileSync(BIN, [...args, "--server", PLATFORM, "--token", TOKEN], {encoding: "utf8"})

let browser
before(async () => {
  if (skip) return
  browser = await launch()
  cli("app", "create", "acme", "upgrade")
  cli("deploy", "acme/upgrade", join(COMPONENTS, "thermostat.wasm"))
})
after(async () => { await browser?.close() })

async function open(path) {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  const sockets = []
  page.on("websocket", (ws) => sockets.push(ws.url()))
  await page.goto(origin() + path)
  await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
  await page.evaluate(() => { window.__noReload = true })
  return {page, errors, sockets}
}

const temperature = (page, text) =>
  page.waitForFunction((t) => document.querySelector(".temperature").textContent.includes(t), text)

test("live upgrade: a deploy turns the open page into the new version in place", {skip}, async () => {
  const kept = await open("/thermostat?house=5&tick=off")
  const refused = await open("/thermostat?house=x9&tick=off")
  const {page, errors, sockets} = kept
  try {
    // Something the user typed that the server knows nothing of.
    await page.evaluate(() => {
      const input = document.createElement("input")
      input.id = "scratch"
      document.body.appendChild(input)
    })
    await page.fill("#scratch", "typed before the deploy")
    await page.click("button:text-is('+')")
    await temperature(page, "71°F")
    await refused.page.click("button:text-is('+')")
    await temperature(refused.page, "71°F")
    assert.equal(await page.locator("#version").count(), 0)
    let joins = 0
    page.on("websocket", (ws) => ws.on("framesent", (f) => {
      if (String(f.payload).includes('"phx_join"')) joins++
    }))

    cli("deploy", "acme/upgrade", join(COMPONENTS, "thermostat-v2.wasm"))

    // The open page shows version 2, with the temperature the user set.
    await page.waitForSelector("#version", {timeout: 10_000})
    assert.equal(await page.textContent("#version"), "Thermostat v2")
    assert.match(await page.textContent("h1"), /House 5 - 71°F/)
    assert.ok(await page.evaluate(() => window.__noReload), "the page did not reload")
    assert.equal(await page.inputValue("#scratch"), "typed before the deploy")
    assert.equal(joins, 0, "no rejoin")
    assert.equal(sockets.length, 1, "one socket")
    assert.equal(await page.locator("[data-phx-main].phx-connected").count(), 1)

    // And it keeps working on version 2.
    await page.keyboard.press("ArrowUp")
    await temperature(page, "72°F")

    // The page version 2 refused came back on version 2, mounted afresh (70°F), no error.
    await refused.page.waitForSelector("#version", {timeout: 10_000})
    await temperature(refused.page, "70°F")
    await refused.page.waitForSelector("[data-phx-main].phx-connected")
    assert.match(await refused.page.textContent("h1"), /House x9/)
    assert.deepEqual([...errors, ...refused.errors], [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "live-upgrade")
    await screenshot(refused.page, "live-upgrade-refused")
    throw e
  } finally {
    await page.close()
    await refused.page.close()
  }
})
