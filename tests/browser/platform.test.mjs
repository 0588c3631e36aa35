// The multi-tenant path in headless Chromium: xtask started a host on a fresh registry and, with
// the CLI, created tenant `acme` and deployed the thermostat. Here the browser opens the app on
// its own origin (thermostat.acme.localhost), a second version is deployed and taken by new
// page loads while the open socket keeps its instance, and a rollback restores the first.
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

// http://127.0.0.1:PORT → http://thermostat.acme.localhost:PORT
const origin = (app) => {
  const url = new URL(PLATFORM)
  return `http://${app}.acme.localhost:${url.port}`
}

const cli = (...args) =>
  execFileSync(BIN, [...args, "--server", PLATFORM, "--token", TOKEN], {encoding: "utf8"})

let browser
before(async () => { if (!skip) browser = await launch() })
after(async () => { await browser?.close() })

test("platform: the deployed thermostat on its origin; new version; rollback", {skip}, async () => {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  try {
    await page.goto(origin("thermostat") + "/thermostat?house=1")
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("71"))

    // Version 2 (a different component: the rows table) becomes active for new page loads.
    cli("deploy", "acme/thermostat", join(COMPONENTS, "rows.wasm"))
    const fresh = await browser.newPage()
    const rows = await fresh.goto(origin("thermostat") + "/rows")
    assert.equal(rows.status(), 200)
    await fresh.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.equal(await fresh.locator("tbody tr").count(), 300)
    const gone = await fresh.goto(origin("thermostat") + "/thermostat")
    assert.equal(gone.status(), 404)
    await fresh.close()

    // The socket opened before the deploy keeps its instance of version 1. (ArrowUp, not a
    // second click on +: that button has phx-throttle="1000", which would drop a click this soon.)
    await page.keyboard.press("ArrowUp")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("72"))

    // One call rolls back: the thermostat is served again.
    const listing = cli("rollback", "acme/thermostat")
    assert.match(listing, /1/)
    const back = await browser.newPage()
    await back.goto(origin("thermostat") + "/thermostat?house=2")
    await back.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.match(await back.textContent("h1"), /House 2/)
    await back.close()

    // Another tenant's origin, or an app that does not exist, is a clear 404.
    const unknown = await browser.newPage()
    const missing = await unknown.goto(origin("nothing") + "/thermostat")
    assert.equal(missing.status(), 404)
    assert.match(await unknown.textContent("body"), /No app is served at/)
    await unknown.close()
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "platform")
    throw e
  } finally {
    await page.close()
  }
})
