// FormLive in headless Chromium with the official LiveView client: phx-value-* on clicks,
// phx-click-away, a form validated on blur (phx-debounce="blur") and submitted, a throttled
// button, window arrow keys, phx-key="Enter", phx-focus/phx-blur, and a JS hook whose
// pushEvent gets the server's reply.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const text = (page, selector) => page.textContent(selector)

test("forms: every event binding of FormLive", async () => {
  const {page, errors} = await openLive(browser, "/form")
  try {
    // Click with phx-value-id / phx-value-confirm.
    await page.click("#delete")
    await page.waitForSelector("#notice:text('User 42 deleted successfully')")
    assert.equal(await page.locator("#delete").count(), 0)

    // The dropdown opens, and a click anywhere else closes it.
    await page.click("#menu")
    await page.waitForSelector(".menu")
    await page.click("#menu")
    await page.waitForFunction(() => !document.querySelector(".menu"))
    await page.click("#menu")
    await page.waitForSelector(".menu")
    await page.click("#outside")
    await page.waitForFunction(() => !document.querySelector(".menu"))

    // The email is debounced until blur: typing alone validates nothing.
    await page.fill("#profile_email", "invalid")
    await page.waitForTimeout(400)
    assert.equal(await page.locator('.error[data-for="email"]').count(), 0, "no error before blur")
    await page.focus("#profile_search")
    await page.waitForSelector('.error[data-for="email"]:text("must have the @ sign and no spaces")')
    await page.fill("#profile_email", "ada@example.com")
    await page.click("#save")
    await page.waitForSelector("#notice:text('Saved ada@example.com')")
    assert.equal(await page.locator(".error").count(), 0)
    // The pressed submit button (the submitter) is part of the submit.
    await page.fill("#profile_email", "bob@example.com")
    await page.click("#save-draft")
    await page.waitForSelector("#notice:text('Draft saved for bob@example.com')")

    // Three quick clicks on a button throttled to 1 s count once.
    await page.click("#increment")
    await page.click("#increment")
    await page.click("#increment")
    await page.waitForSelector("#count:text('1')")
    await page.waitForTimeout(300)
    assert.equal(await text(page, "#count"), "1")

    // Window keys move the position.
    await page.click("#outside")
    await page.keyboard.press("ArrowRight")
    await page.waitForSelector("#position:text('1,0')")
    await page.waitForTimeout(150)
    await page.keyboard.press("ArrowDown")
    await page.waitForSelector("#position:text('1,1')")
    await page.waitForSelector("#last-key:has-text('ArrowDown')")

    // phx-keyup with phx-key="Enter": other keys send nothing.
    await page.fill("#search", "phoenix")
    await page.waitForTimeout(400)
    assert.equal(await text(page, "#search-result"), "")
    await page.press("#search", "Enter")
    await page.waitForSelector("#search-result:text('Searched for phoenix')")

    // Focus and blur.
    await page.focus("#focus-email")
    await page.waitForSelector("#focus:text('Focused: email')")
    await page.focus("#search")
    await page.waitForSelector("#focus:text('Blurred: email')")

    // The hook pushes an event and shows the server's reply.
    await page.click("#custom-element")
    await page.waitForSelector("#custom-element[data-reply='hello from the server']")
    await page.waitForSelector("#custom-element:text('Event received: hello from the server')")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "forms")
    throw e
  } finally {
    await page.close()
  }
})
