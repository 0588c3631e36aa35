// The dev error overlay in headless Chromium: this test starts its own `livewasm serve --dev`
// (LIVEWASM_BIN) on a temp copy of the thermostat and opens its page. A failed build of the
// app, as `cargo xtask dev` reports it (the compiler's message written beside the component
// as `<name>.build-error`), shows over the open page with the file, line and column; a page
// opened while it is broken shows it at once; the next good build clears it.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs"
import {tmpdir} from "node:os"
import {join} from "node:path"
import {launch, screenshot, startHost} from "./browser.mjs"

const BIN = process.env.LIVEWASM_BIN
const COMPONENTS = process.env.LIVEWASM_COMPONENTS
const skip = !(BIN && COMPONENTS) && "LIVEWASM_BIN / LIVEWASM_COMPONENTS are not set (cargo xtask test sets them)"

const MESSAGE = [
  "error: expected `}`, found `<` in template",
  "  --> examples/thermostat/src/lib.rs:42:17",
  "   |",
  "42 |   <p>{@temperature</p>",
  "   |                   ^",
].join("\n")

let browser, host, dir
before(async () => {
  if (skip) return
  dir = mkdtempSync(join(tmpdir(), "livewasm-dev-overlay-"))
  writeFileSync(join(dir, "app.wasm"), readFileSync(join(COMPONENTS, "thermostat.wasm")))
  host = await startHost(["--dev", "--app", join(dir, "app.wasm")])
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await host?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const overlay = "#livewasm-dev-overlay"

test("dev overlay: a build error shows over the open page until the build is fixed", {skip}, async () => {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  try {
    await page.goto(host.base + "/thermostat?house=1")
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.equal(await page.$(overlay), null, "no overlay while the build is good")

    writeFileSync(join(dir, "app.build-error"), MESSAGE)
    await page.waitForSelector(overlay, {timeout: 10_000})
    const text = await page.textContent(overlay)
    assert.match(text, /thermostat: the build failed/)
    assert.match(text, /examples\/thermostat\/src\/lib\.rs:42:17/)
    assert.match(text, /expected `}`/)

    // A page opened while the build is broken shows it at once.
    const late = await browser.newPage()
    await late.goto(host.base + "/thermostat?house=2")
    await late.waitForSelector(overlay, {timeout: 10_000})
    await late.close()

    // Fixed: the overlay goes, the view works on.
    rmSync(join(dir, "app.build-error"))
    await page.waitForSelector(overlay, {state: "detached", timeout: 10_000})
    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("71"))
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "dev-overlay")
    throw e
  } finally {
    await page.close()
  }
})

test("dev overlay: a view that panics shows the panic's message and place", {skip}, async () => {
  const dir2 = mkdtempSync(join(tmpdir(), "livewasm-dev-overlay-panic-"))
  writeFileSync(join(dir2, "app.wasm"), readFileSync(join(COMPONENTS, "hostile.wasm")))
  const own = await startHost(["--dev", "--app", join(dir2, "app.wasm")])
  const page = await browser.newPage()
  try {
    await page.goto(own.base + "/hostile")
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    // The client sends the event that makes the view panic.
    await page.evaluate(() => {
      const main = document.querySelector("[data-phx-main]")
      window.liveSocket.execJS(main, JSON.stringify([["push", {event: "trap"}]]))
    })
    await page.waitForSelector(overlay, {timeout: 10_000})
    const text = await page.textContent(overlay)
    assert.match(text, /hostile: Hostile crashed/)
    assert.match(text, /panicked at tests\/fixtures\/hostile\/src\/lib\.rs:\d+:\d+: hostile guest panics on request/)
    // The view mounts again behind it; the overlay goes when dismissed.
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    await page.click(`${overlay} button`)
    await page.waitForSelector(overlay, {state: "detached", timeout: 5_000})
  } catch (e) {
    await screenshot(page, "dev-overlay-panic")
    throw e
  } finally {
    await page.close()
    await own.stop()
    rmSync(dir2, {recursive: true, force: true})
  }
})
