// ModalLive in headless Chromium: the official client runs the JS commands the server rendered
// (show/hide with transitions, toggle, add_class, set/remove attributes, dispatch, push with a
// value), the server closes the modal after a save with a push event, and the core .modal opens
// on a live patch, closes with Escape (on_cancel patches back) or after the server saves.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const visible = (page, selector) => page.isVisible(selector)

test("modal: JS commands without a round trip, closed by the server after a save", async () => {
  const {page, errors} = await openLive(browser, "/modal")
  try {
    assert.equal(await visible(page, "#modal"), false)
    await page.click("#open-modal")
    await page.waitForSelector("#modal", {state: "visible"})
    await page.waitForSelector("#modal-content", {state: "visible"})
    // The ✕ button hides it again, with its transition.
    await page.click("#close-modal")
    await page.waitForSelector("#modal", {state: "hidden"})
    // Escape (phx-window-keydown with phx-key) hides it too.
    await page.click("#open-modal")
    await page.waitForSelector("#modal", {state: "visible"})
    await page.waitForTimeout(350)
    await page.keyboard.press("Escape")
    await page.waitForSelector("#modal", {state: "hidden"})

    // Save: pushes a value, marks the form, disables the button; the server then closes it.
    await page.click("#open-modal")
    await page.waitForSelector("#modal-content", {state: "visible"})
    await page.waitForTimeout(350)
    await page.click("#save-note")
    await page.waitForSelector("#notes:text('Notes saved: 1 Remember the milk')")
    await page.waitForSelector("#modal", {state: "hidden"})
    // hide_modal (run by the server's js-exec event) undid the saving state.
    assert.equal(await page.getAttribute("#save-note", "disabled"), null)
    assert.equal(await page.locator("#note-form.saving").count(), 0)

    // add_class with a transition, toggle with in/out transitions.
    await page.click("#show-sidebar")
    await page.waitForSelector("#sidebar.active")
    assert.equal(await visible(page, "#dropdown"), false)
    assert.equal(await page.getAttribute("#toggle-dropdown", "aria-expanded"), "false")
    await page.click("#toggle-dropdown")
    await page.waitForSelector("#dropdown", {state: "visible"})
    // JS.toggle_attribute: the button's aria-expanded follows the dropdown.
    assert.equal(await page.getAttribute("#toggle-dropdown", "aria-expanded"), "true")
    await page.waitForTimeout(250)
    await page.click("#toggle-dropdown")
    await page.waitForSelector("#dropdown", {state: "hidden"})
    assert.equal(await page.getAttribute("#toggle-dropdown", "aria-expanded"), "false")

    // set_attribute / remove_attribute, and they survive a server patch.
    assert.equal(await page.getAttribute("#submit-btn", "disabled"), "")
    await page.click("#enable-form")
    await page.waitForSelector("#menu[aria-expanded='true']")
    assert.equal(await page.getAttribute("#submit-btn", "disabled"), null)

    // dispatch: a DOM event with its detail.
    await page.evaluate(() => {
      document.getElementById("content").addEventListener("my_app:copy", (e) => {
        e.target.setAttribute("data-copied", e.detail.text)
      })
    })
    await page.click("#copy")
    await page.waitForSelector("#content[data-copied='copied']")

    // push with a value and `loading: ".spinner"`: the client gives `.spinner` the
    // phx-click-loading class while the push is in flight, and takes it off on the reply.
    // Every class change is recorded, as the round trip may be too quick to poll.
    await page.evaluate(() => {
      const spinner = document.querySelector(".spinner")
      window.spinnerClasses = []
      // `page_loading: true`: the client signals page loading around the push.
      window.pageLoading = []
      window.addEventListener("phx:page-loading-start", (e) => window.pageLoading.push(`start ${e.detail.kind}`))
      window.addEventListener("phx:page-loading-stop", (e) => window.pageLoading.push(`stop ${e.detail.kind}`))
      new MutationObserver((records) => {
        for (const r of records) window.spinnerClasses.push(r.target.getAttribute("class"))
      }).observe(spinner, {attributes: true, attributeFilter: ["class"]})
    })
    assert.equal(await page.getAttribute(".spinner", "class"), "spinner")
    await page.click("#update")
    await page.waitForSelector("#last-update:text('Last update: value')")
    await page.waitForSelector("#menu[aria-expanded='true']")
    await page.waitForSelector(".spinner:not(.phx-click-loading)")
    const spinnerClasses = await page.evaluate(() => window.spinnerClasses)
    assert.ok(spinnerClasses.some((c) => c.split(" ").includes("phx-click-loading")),
      `.spinner had phx-click-loading during the push: ${JSON.stringify(spinnerClasses)}`)
    assert.equal(await page.getAttribute(".spinner", "class"), "spinner", "and lost it on the reply")
    await page.waitForFunction(() => window.pageLoading.includes("stop element"))
    assert.deepEqual(await page.evaluate(() => window.pageLoading), ["start element", "stop element"])
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "modal")
    throw e
  } finally {
    await page.close()
  }
})

test("modal: the core .modal opens on a patch, cancels with Escape, closes after a save", async () => {
  const {page, errors} = await openLive(browser, "/modal")
  try {
    await page.click("#edit-name")
    await page.waitForSelector("#edit-modal", {state: "visible"})
    assert.equal(new URL(page.url()).pathname, "/modal/edit")
    // Focus moved into the dialog.
    await page.waitForFunction(() => document.getElementById("edit-modal-container").contains(document.activeElement))
    await page.waitForTimeout(350)
    await page.keyboard.press("Escape")
    await page.waitForFunction(() => location.pathname === "/modal")
    await page.waitForSelector("#edit-modal", {state: "detached"})

    await page.click("#edit-name")
    await page.waitForSelector("#edit-modal", {state: "visible"})
    await page.fill("#name-input", "Grace")
    await page.click("#save-name")
    await page.waitForSelector("#name:text('Name: Grace')")
    await page.waitForSelector("#flash-info:text('Name saved.')")
    await page.waitForSelector("#edit-modal", {state: "detached"})
    assert.equal(new URL(page.url()).pathname, "/modal")
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "modal-core")
    throw e
  } finally {
    await page.close()
  }
})
