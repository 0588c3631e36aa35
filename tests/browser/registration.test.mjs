// UserRegistrationLive in headless Chromium with the official LiveView client: errors appear as
// the user types, only on fields they touched; a dropped WebSocket reconnects and
// `phx-auto-recover` restores the typed values on the server; a valid submit disables the button
// (`phx-disable-with`), then `phx-trigger-action` posts the form over plain HTTP and the session
// cookie signs the user in. The email is then taken: another visitor sees the error as they type
// it and on submit (the app's SQL database, shared by every test and run against the host, so
// each run registers an email of its own).
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const EMAIL_ERROR = "must have the @ sign and no spaces"
const TAKEN = "has already been taken"
// An email no run registered before.
const email = `ada-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}@example.com`

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
    await page.fill("#user_email", email)
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
    assert.equal((await page.textContent("#signed-in")).trim(), `Signed in as ${email}`)
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

test("registration: a registered email is taken for the next visitor, as they type and on submit", async () => {
  const {page, errors} = await openLive(browser, "/users/register")
  try {
    const mine = `grace-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}@example.com`
    const fillValid = async (address) => {
      await page.fill("#user_email", address)
      await page.fill("#user_password", "correct horse")
      await page.fill("#user_password_confirmation", "correct horse")
      await page.check("#user_terms")
    }
    await fillValid(mine)
    await page.waitForFunction(() => !document.querySelector(".error"))
    await Promise.all([
      page.waitForURL("**/users/log_in?_action=registered", {timeout: 10_000}),
      page.click("button[type=submit]"),
    ])

    // Another visitor: the email, in another case, is taken as it is typed (the lookup)...
    await page.goto(new URL("/users/register", page.url()).href)
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    await page.fill("#user_email", mine.toUpperCase())
    await page.waitForSelector(`.error[data-for="email"]:text("${TAKEN}")`)
    // ... and on submit of an otherwise valid form (the unique index refuses the insert).
    await fillValid(mine)
    await page.waitForSelector(`.error[data-for="email"]:text("${TAKEN}")`)
    await page.click("button[type=submit]")
    await page.waitForSelector('button[type=submit]:not([disabled])')
    await page.waitForSelector(`.error[data-for="email"]:text("${TAKEN}")`)
    assert.equal(new URL(page.url()).pathname, "/users/register")
    assert.equal(await page.locator("#registered").count(), 0)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "registration-taken")
    throw e
  } finally {
    await page.close()
  }
})
