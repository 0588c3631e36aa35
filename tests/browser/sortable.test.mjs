// SortableList in headless Chromium with the official LiveView client: the app's own client
// hook (served by the host as a script, not inline) reorders the list by a pointer drag and by
// Alt+Arrow keys; the server's attached hook answers, and detaching it refuses moves.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {BASE, launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const order = (page) =>
  page.$$eval("#items [data-sortable-item]", (items) => items.map((li) => li.dataset.id).join(","))

async function waitOrder(page, expected) {
  await page.waitForFunction(
    (expected) => Array.from(document.querySelectorAll("#items [data-sortable-item]"))
      .map((li) => li.dataset.id).join(",") === expected,
    expected,
  )
}

test("sortable: a client hook drags and moves items, attached hooks handle them", async () => {
  const {page, errors} = await openLive(browser, "/sortable")
  try {
    // The hook arrives as a separate, cacheable script loaded before the bundle.
    const src = await page.$eval("script[src^='/assets/hooks/']", (s) => s.getAttribute("src"))
    const res = await page.request.get(BASE + src)
    assert.equal(res.status(), 200)
    assert.match(res.headers()["content-type"], /^text\/javascript/)
    assert.match(res.headers()["cache-control"], /immutable/)
    assert.equal(await page.locator("script:not([src])").count(), 0, "no inline script")
    assert.equal(await order(page), "1,2,3,4,5")
    // The after_render hook's push event reached the hook.
    await page.waitForSelector("#order-status:text('1 2 3 4 5')")

    // Drag item 1 onto item 3 with the pointer.
    const from = await page.locator("#item-1 .name").boundingBox()
    const to = await page.locator("#item-3 .name").boundingBox()
    await page.mouse.move(from.x + 5, from.y + from.height / 2)
    await page.mouse.down()
    await page.mouse.move(to.x + 5, to.y + to.height / 2, {steps: 5})
    await page.mouse.up()
    await waitOrder(page, "2,3,1,4,5")
    await page.waitForSelector("#items[data-reply='2,3,1,4,5']")
    await page.waitForSelector("#log:text('Events logged: 1 (last: reposition)')")
    await page.waitForSelector("#order-status:text('2 3 1 4 5')")

    // Keyboard: focus item 5, Alt+ArrowUp twice.
    await page.focus("#item-5")
    await page.keyboard.press("Alt+ArrowUp")
    await waitOrder(page, "2,3,1,5,4")
    await page.keyboard.press("Alt+ArrowUp")
    await waitOrder(page, "2,3,5,1,4")

    // The move buttons work without the hook's help.
    await page.click("#item-4 .up")
    await waitOrder(page, "2,3,5,4,1")

    // Detached: a drag is refused by the view itself.
    await page.click("#toggle-sort")
    await page.waitForSelector("#sorting:text('Sorting is off.')")
    await page.focus("#item-2")
    await page.keyboard.press("Alt+ArrowDown")
    await page.waitForSelector("#flash-error:text('Sorting is disabled.')")
    await page.waitForSelector("#items[data-reply='2,3,5,4,1']")
    assert.equal(await order(page), "2,3,5,4,1")

    // Re-attached.
    await page.click("#toggle-sort")
    await page.waitForSelector("#sorting:text('Sorting is on.')")
    await page.focus("#item-2")
    await page.keyboard.press("Alt+ArrowDown")
    await waitOrder(page, "3,2,5,4,1")
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "sortable")
    throw e
  } finally {
    await page.close()
  }
})

test("sortable: the app's hooks work after live navigation into the list", async () => {
  const {page, errors} = await openLive(browser, "/sortable/about")
  try {
    assert.equal(await page.locator("[phx-hook]").count(), 0, "no hook on the first page")
    await page.click("#to-list")
    await page.waitForSelector("#items [data-sortable-item]")
    await page.waitForSelector("[data-phx-main].phx-connected #items")
    await page.focus("#item-1")
    await page.keyboard.press("Alt+ArrowDown")
    await waitOrder(page, "2,1,3,4,5")
    await page.waitForSelector("#items[data-reply='2,1,3,4,5']")
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "sortable-navigate")
    throw e
  } finally {
    await page.close()
  }
})

// A handle_info hook: "Reset order" makes the view send itself {"restore": "initial"}, which
// the attached "restore" hook handles (the first order comes back) and halts, so the view's
// handle_info never shows it; "Say hello" sends a message the hook lets through.
test("sortable: an attached handle_info hook halts its message, passes the others", async () => {
  const {page, errors} = await openLive(browser, "/sortable")
  try {
    await page.click("#item-5 .up")
    await waitOrder(page, "1,2,3,5,4")
    await page.click("#say-hello")
    await page.waitForSelector(`#last-info:text-is('Last message: {"hello":"from the page"}')`)
    await page.click("#reset-order")
    await waitOrder(page, "1,2,3,4,5")
    await page.waitForSelector("#restored:text-is('Order restored 1 times')")
    assert.equal(await page.textContent("#last-info"), `Last message: {"hello":"from the page"}`)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "sortable-info-hook")
    throw e
  } finally {
    await page.close()
  }
})
