// Dev live reload in headless Chromium: this test starts its own `livewasm serve --dev` (the
// binary xtask built, LIVEWASM_BIN) on a temp copy of the thermostat, opens the page, then
// overwrites the file the way a rebuild does. The page reloads by itself, at the same URL,
// on the new build: first a different build of the same app (a custom section appended, so
// it is a new component with the same views), then another app (the rows table), after which
// the thermostat's route is no longer served.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs"
import {tmpdir} from "node:os"
import {join} from "node:path"
import {launch, screenshot, startHost} from "./browser.mjs"

const BIN = process.env.LIVEWASM_BIN
const COMPONENTS = process.env.LIVEWASM_COMPONENTS
const skip = !(BIN && COMPONENTS) && "LIVEWASM_BIN / LIVEWASM_COMPONENTS are not set (cargo xtask test sets them)"

// A WebAssembly custom section (id 0) named `name` holding `payload`, appended to a component:
// still a valid component, with different bytes.
const leb = (n) => {
  const out = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n) byte |= 0x80
    out.push(byte)
  } while (n)
  return Buffer.from(out)
}
const withCustomSection = (wasm, name, payload) => {
  const body = Buffer.concat([leb(name.length), Buffer.from(name), Buffer.from(payload)])
  return Buffer.concat([wasm, Buffer.from([0]), leb(body.length), body])
}

let browser, host, dir, base
before(async () => {
  if (skip) return
  dir = mkdtempSync(join(tmpdir(), "livewasm-dev-reload-"))
  writeFileSync(join(dir, "app.wasm"), readFileSync(join(COMPONENTS, "thermostat.wasm")))
  host = await startHost(["--dev", "--app", join(dir, "app.wasm")])
  base = host.base
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await host?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

test("dev reload: the page reloads by itself on the new build, at the same URL", {skip}, async () => {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  const url = base + "/thermostat?house=3"
  try {
    await page.goto(url)
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("71"))
    // Gone once the document is replaced.
    await page.evaluate(() => { window.__beforeReload = true })

    // A new build of the same app: the page reloads and mounts it fresh (70 again).
    const thermostat = readFileSync(join(COMPONENTS, "thermostat.wasm"))
    writeFileSync(join(dir, "app.wasm"), withCustomSection(thermostat, "dev-reload-test", "build 2"))
    await page.waitForFunction(() => !window.__beforeReload, null, {timeout: 15_000})
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.equal(page.url(), url, "the reload keeps the URL")
    assert.match(await page.textContent("h1"), /House 3 - 70°F/)
    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("71"))

    // Another app replaces it: the page reloads and finds the thermostat gone.
    await page.evaluate(() => { window.__beforeReload = true })
    writeFileSync(join(dir, "app.wasm"), readFileSync(join(COMPONENTS, "rows.wasm")))
    await page.waitForFunction(() => !window.__beforeReload, null, {timeout: 15_000})
    await page.waitForFunction(() => document.body && /Nothing is served at \/thermostat/.test(document.body.textContent),
      null, {timeout: 10_000})
    assert.equal(page.url(), url)
    const rows = await browser.newPage()
    await rows.goto(base + "/rows")
    await rows.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.equal(await rows.locator("tbody tr").count(), 300)
    await rows.close()
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "dev_reload")
    console.error(host?.log())
    throw e
  } finally {
    await page.close()
  }
})
