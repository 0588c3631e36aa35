// UserRegistrationLive in headless Chromium with the official LiveView client: errors appear as
// the user types, only on fields they touched; a dropped WebSocket reconnects and
// `phx-auto-recover` restores the typed values on the server; a valid submit disables the button
// (`phx-disable-with`), then `phx-trigger-action` posts the form over plain HTTP and the session
// cookie signs the user in.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const EMAIL_ERROR = "must have the @ sign and no spaces"

test("registration: validate as you type, recover after a reconnect, save, post", async () => {
  const {page, errors} = await openLive(browser, "/users/register")
  try {
    assert.equal(await page.locator(".error").count(), 0, "no errors before typing")

    // Typing in the email shows its error, and only its error.
    await page.fill("#user_email", "ada@")
    await page.waitForSelector(`.error[data-for="email"]:text("${EMAIL_ERROR}")`)
    assert.equal(await page.locator('.error[data-for="password"]').count(), 0)
    assert.equal(await page.locator('.error[data-for="terms"]').count(), 0)

    // Drop the WebSocket: the client reconnects, rejoins (a fresh mount, no errors), and sends
    // the old form's values to the `phx-auto-recover` event, which restores them.
    await page.evaluate(() => window.liveSocket.socket.conn.close())
    await page.waitForSelector("#recovered", {timeout: 10_000})
    await page.waitForSelector("[data-phx-main].phx-connected")
    assert.equal(await page.inputValue("#user_email"), "ada@")
    await page.waitForSelector(`.error[data-for="email"]:text("${EMAIL_ERROR}")`)

    // A password that does not match its confirmation.
    await page.fill("#user_email", "ada@example.com")
    await page.waitForFunction(() => !document.querySelector('.error[data-for="email"]'))
    await page.fill("#user_password", "correct horse")
    await page.fill("#user_password_confirmation", "correct hose")
    await page.waitForSelector('.error[data-for="password_confirmation"]:text("does not match confirmation")')
    await page.fill("#user_password_confirmation", "correct horse")
    await page.waitForFunction(() => !document.querySelector('.error[data-for="password_confirmation"]'))

    // Submitting without accepting the terms shows that error.
    await page.click("button[type=submit]")
    await page.waitForSelector('.error[data-for="terms"]:text("must be accepted")')

    // Record what the button says while the submit is in flight (phx-disable-with).
    await page.evaluate(() => {
      const button = document.querySelector("button[type=submit]")
      const texts = []
      new MutationObserver(() => {
        texts.push(button.textContent.trim())
        sessionStorage.setItem("buttonTexts", JSON.stringify(texts))
      }).observe(button, {childList: true, characterData: true, subtree: true})
    })
    await page.check("#user_terms")
    await page.waitForFunction(() => !document.querySelector('.error[data-for="terms"]'))
    await Promise.all([
      page.waitForURL("**/users/log_in?_action=registered", {timeout: 10_000}),
      page.click("button[type=submit]"),
    ])
    // phx-trigger-action posted the form over HTTP; the handler set the session and redirected.
    await page.waitForSelector("[data-phx-main].phx-connected")
    assert.match(await page.textContent("#signed-in"), /Signed in as ada@example.com/)
    assert.match(await page.textContent("#welcome"), /Account created successfully/)
    const texts = JSON.parse(await page.evaluate(() => sessionStorage.getItem("buttonTexts")) || "[]")
    assert.ok(texts.includes("Creating account..."), `phx-disable-with applied: ${texts}`)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "registration")
    throw e
  } finally {
    await page.close()
  }
})
