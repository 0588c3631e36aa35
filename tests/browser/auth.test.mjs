// LiveAuth in headless Chromium: on_mount hooks redirect with a flash, the login form posts
// over plain HTTP and sets the cookie session, patches stay inside the live session, a link
// into the admin live session is a full page load checked by require_admin, log out clears
// the session.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, BASE, screenshot, waitTitle} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const path = (page) => new URL(page.url()).pathname
const connected = (page) => page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})

async function logIn(page, name) {
  await page.fill("#user_name", name)
  await page.fill("#user_password", "secret")
  await Promise.all([page.waitForNavigation(), page.click("#login-form button")])
  await connected(page)
}

test("auth: require_user redirects, log in over HTTP, admin check, log out", async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  try {
    // The router's require_user plug answers the page's HTTP request: to the login page,
    // which brings the user back to the page asked for.
    await page.goto(BASE + "/auth/settings")
    await connected(page)
    assert.equal(path(page), "/auth/login")
    assert.equal(new URL(page.url()).searchParams.get("return_to"), "/auth/settings")
    assert.equal(await page.textContent("#flash-error"), "You must log in to access this page.")
    await logIn(page, "bob")
    assert.equal(path(page), "/auth/settings")
    await Promise.all([page.waitForNavigation(), page.click("#logout-form button")])
    await connected(page)

    await page.goto(BASE + "/auth/profile")
    await connected(page)
    assert.equal(path(page), "/auth/login")
    assert.equal(await page.textContent("#flash-error"), "You must log in to access this page.")

    await logIn(page, "alice")
    assert.equal(path(page), "/auth/profile")
    assert.equal(await page.textContent("#flash-info"), "Welcome back, alice!")
    assert.equal(await page.textContent("#current-user"), "Signed in as alice")

    // A patch inside the live session.
    await page.evaluate(() => { window.__noReload = true })
    await page.click("#settings-link")
    await page.waitForFunction(() => document.querySelector("h1").textContent === "Settings")
    assert.equal(path(page), "/auth/settings")
    await waitTitle(page, "Settings")
    assert.ok(await page.evaluate(() => window.__noReload === true))

    // Admin is another live session: full page load, require_admin lets alice in.
    await page.click("#admin-link")
    await page.waitForSelector("#admin-only")
    await connected(page)
    assert.equal(await page.textContent("#admin-only"), "Only admins see this, alice.")
    assert.equal(await page.evaluate(() => window.__noReload), undefined)

    // Log out (a form with _method=delete).
    await Promise.all([page.waitForNavigation(), page.click("#logout-form button")])
    await connected(page)
    assert.equal(path(page), "/auth")
    assert.equal(await page.textContent("#flash-info"), "Logged out successfully.")
    assert.equal(await page.textContent("#greeting"), "Hello, guest!")

    // Bob is no admin: require_admin sends him home with a flash.
    await page.click("#login-link")
    await page.waitForSelector("#login-form")
    await connected(page)
    await logIn(page, "bob")
    await page.click("#admin-link")
    await page.waitForFunction(() => location.pathname === "/auth" && document.querySelector("#flash-error"))
    await connected(page)
    assert.equal(await page.textContent("#flash-error"), "Admins only.")
    assert.equal(await page.textContent("#current-user"), "Signed in as bob")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "auth")
    throw e
  } finally {
    await context.close()
  }
})
