// Apps keep their data across a host restart, in headless Chromium: this test starts its own
// host (the binary xtask built, LIVEWASM_BIN) on a fresh registry database with the articles,
// uploads, users and registration components, creates an article and uploads an avatar in the
// browser, stops the host, starts a new one on the same database, and finds both again: the
// article listed, the avatar shown (a real PNG the browser decodes, served from the app's
// blobs). Likewise a renamed user keeps its name and a registered email stays taken (both in
// their app's SQL database).
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {mkdtempSync, rmSync} from "node:fs"
import {tmpdir} from "node:os"
import {join} from "node:path"
import {launch, screenshot, startHost} from "./browser.mjs"

const BIN = process.env.LIVEWASM_BIN
const COMPONENTS = process.env.LIVEWASM_COMPONENTS
const skip = !(BIN && COMPONENTS) && "LIVEWASM_BIN / LIVEWASM_COMPONENTS are not set (cargo xtask test sets them)"

// A 1×1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64")

let browser, dir, host

// Starts a host on the test's database.
const startOwnHost = () => startHost([
  "--database", join(dir, "registry.db"),
  "--app", join(COMPONENTS, "articles.wasm"),
  "--app", join(COMPONENTS, "uploads.wasm"),
  "--app", join(COMPONENTS, "users.wasm"),
  "--app", join(COMPONENTS, "registration.wasm"),
], {LIVEWASM_SECRET_KEY: "ab".repeat(32)})

before(async () => {
  if (skip) return
  dir = mkdtempSync(join(tmpdir(), "livewasm-persistence-"))
  host = await startOwnHost()
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await host?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const connected = (page) => page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
const avatarShown = (page) => page.waitForFunction(() => {
  const img = document.querySelector("#current-avatar")
  return img && img.complete && img.naturalWidth === 1
}, null, {timeout: 10_000})

test("persistence: an article and an avatar outlive a host restart", {skip}, async () => {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  try {
    // An article, created through the live form.
    await page.goto(host.base + "/articles/new")
    await connected(page)
    await page.fill("input[name='article[title]']", "Kept across restarts")
    await page.fill("textarea[name='article[body]']", "Stored in the app's kv")
    await page.click("#article-form button[type=submit]")
    await page.waitForSelector("#flash-info")
    await page.waitForSelector("#article-list td.title:text-is('Kept across restarts')")

    // An avatar: uploaded at once, saved by submitting the form, shown from the app's blobs.
    await page.goto(host.base + "/uploads")
    await connected(page)
    await page.setInputFiles('input[type="file"][name="avatar"]', {name: "me.png", mimeType: "image/png", buffer: PNG})
    await page.waitForSelector(".upload-entry .percent:text('100%')", {timeout: 15_000})
    await page.click("button[type=submit]")
    await page.getByText("Files uploaded successfully!").waitFor()
    await avatarShown(page)
    const src = await page.getAttribute("#current-avatar", "src")
    assert.match(src, /^\/_blobs\/uploads\/avatar\?v=[0-9a-f]+$/)

    // A new host on the same database.
    await host.stop()
    host = await startOwnHost()
    await page.goto(host.base + "/articles")
    await connected(page)
    assert.equal(await page.locator("#article-list td.title:text-is('Kept across restarts')").count(), 1)
    await page.goto(host.base + "/uploads")
    await connected(page)
    await avatarShown(page)
    assert.equal(await page.getAttribute("#current-avatar", "src"), src)
    const served = await fetch(host.base + src)
    assert.equal(served.status, 200)
    assert.equal(served.headers.get("content-type"), "image/png")
    assert.equal(served.headers.get("cache-control"), "public, max-age=31536000, immutable")
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "persistence")
    throw e
  } finally {
    await page.close()
  }
})

test("persistence: a renamed user and a registered email outlive a host restart", {skip}, async () => {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  try {
    // Bob (user 2 of the seed rows), renamed through his card.
    await page.goto(host.base + "/users")
    await connected(page)
    await page.click("#user-2 button.edit")
    await page.fill("#user-2 input[name=name]", "Robert")
    await page.click("#user-2 form button[type=submit]")
    await page.waitForSelector("#user-2 h3:text-is('Robert')")

    // A registration, through the form and its phx-trigger-action post.
    await page.goto(host.base + "/users/register")
    await connected(page)
    await page.fill("#user_email", "kept@example.com")
    await page.fill("#user_password", "correct horse")
    await page.fill("#user_password_confirmation", "correct horse")
    await page.check("#user_terms")
    await Promise.all([
      page.waitForURL("**/users/log_in?_action=registered", {timeout: 10_000}),
      page.click("button[type=submit]"),
    ])

    // A new host on the same database.
    await host.stop()
    host = await startOwnHost()
    await page.goto(host.base + "/users")
    await connected(page)
    assert.equal((await page.textContent("#user-2 h3")).trim(), "Robert")
    await page.goto(host.base + "/users/register")
    await connected(page)
    await page.fill("#user_email", "kept@example.com")
    await page.waitForSelector('.error[data-for="email"]:text("has already been taken")')
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "persistence-sql")
    throw e
  } finally {
    await page.close()
  }
})
