// The thermostat in headless Chromium with the official LiveView client: + raises the
// temperature, ArrowUp too, and the 1 s tick updates the time.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const temperature = (page) => page.textContent(".temperature")

test("thermostat: connect, click +, press ArrowUp, see the tick", async (t) => {
  const {page, errors} = await openLive(browser, "/thermostat?house=1")
  try {
    assert.equal(await temperature(page), "Temperature: 70°F")
    assert.match(await page.textContent("h1"), /House 1 - 70°F/)

    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("71"))
    assert.equal(await temperature(page), "Temperature: 71°F")

    await page.keyboard.press("ArrowUp")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("72"))

    const before = await page.textContent("#last-update")
    await page.waitForFunction(
      (old) => document.querySelector("#last-update").textContent !== old, before, {timeout: 3_000})
    assert.notEqual(await page.textContent("#last-update"), before)

    await page.click("button:text-is('-')")
    await page.waitForFunction(() => document.querySelector(".temperature").textContent.includes("71"))
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "thermostat")
    throw e
  } finally {
    await page.close()
  }
})

test("thermostat: a page without a view is a clear 404", async () => {
  const page = await browser.newPage()
  const response = await page.goto((process.env.LIVEWASM_URL || "http://127.0.0.1:4000") + "/no-such-page")
  assert.equal(response.status(), 404)
  assert.match(await page.textContent("h1"), /404/)
  await page.close()
})
