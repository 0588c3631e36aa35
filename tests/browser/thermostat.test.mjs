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

test("thermostat: the app's own stylesheet applies, from its content-addressed URL", async () => {
  const {page, errors} = await openLive(browser, "/thermostat?house=1")
  try {
    const href = await page.getAttribute("link[rel=stylesheet]", "href")
    assert.match(href, /^\/assets\/app\/[0-9a-f]{16}\/app\.css$/)
    // text-4xl font-semibold text-orange-600 on the temperature, from app.css.
    const style = await page.evaluate(() => {
      const s = getComputedStyle(document.querySelector(".temperature"))
      return {fontSize: s.fontSize, fontWeight: s.fontWeight, color: s.color}
    })
    assert.deepEqual(style, {fontSize: "36px", fontWeight: "600", color: "rgb(234, 88, 12)"})
    const button = await page.evaluate(() => getComputedStyle(document.querySelector("button")).backgroundColor)
    assert.equal(button, "rgb(37, 99, 235)")
    // The root layout: the title suffix and the body's classes.
    assert.equal(await page.title(), "thermostat · Livewasm")
    assert.equal(await page.getAttribute("body", "class"), "bg-gray-50 antialiased")
    // Cached for good: the browser is told the bytes never change.
    const response = await page.request.get(new URL(href, page.url()).href)
    assert.equal(response.status(), 200)
    assert.equal(response.headers()["cache-control"], "public, max-age=31536000, immutable")
    assert.equal(response.headers()["content-type"], "text/css; charset=utf-8")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "thermostat-style")
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
