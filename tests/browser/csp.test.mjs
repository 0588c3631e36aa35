// The default Content-Security-Policy (script-src 'self', no inline script, the socket on the
// page's own origin, images from the origin, data: and blob:) in headless Chromium: every
// example page loads, connects and runs its hooks with no violation reported (an avatar's
// blob: preview included), while a script injected inline, as an XSS would, does not run and
// is reported.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, BASE, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const PAGES = [
  "/thermostat", "/uploads", "/modal", "/game", "/sortable", "/dashboard", "/users",
  "/auth", "/auth/login", "/form", "/feed", "/articles", "/users/register",
]

// A 1×1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64")

// A page whose CSP violations (as the document reports them) land in `page.violations`.
async function watched() {
  const page = await browser.newPage()
  page.violations = []
  page.errors = []
  await page.exposeFunction("__reportViolation", (v) => page.violations.push(v))
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__reportViolation(`${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`)
    })
  })
  page.on("pageerror", (e) => page.errors.push(e))
  return page
}

const connected = (page) => page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})

test("csp: every example page runs under the default policy without a violation", async () => {
  const page = await watched()
  try {
    for (const path of PAGES) {
      const response = await page.goto(BASE + path)
      const policy = response.headers()["content-security-policy"] || ""
      assert.match(policy, /script-src 'self'(;|$)/, `${path}: ${policy}`)
      await connected(page)
      // Hooks registered from the app's script (game, sortable) mount too.
      await page.waitForTimeout(200)
      assert.deepEqual(page.violations, [], path)
    }
    // An upload preview is a blob: image.
    await page.goto(BASE + "/uploads")
    await connected(page)
    await page.setInputFiles('input[type="file"][name="avatar"]', {name: "me.png", mimeType: "image/png", buffer: PNG})
    await page.waitForFunction(() => {
      const img = document.querySelector('.upload-entry img[data-phx-hook="Phoenix.LiveImgPreview"]')
      return img && img.src.startsWith("blob:") && img.complete && img.naturalWidth === 1
    }, null, {timeout: 10_000})
    assert.deepEqual(page.violations, [])
    assert.deepEqual(page.errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "csp")
    throw e
  } finally {
    await page.close()
  }
})

test("csp: a script injected inline does not run and is reported", async () => {
  const page = await watched()
  try {
    await page.goto(BASE + "/thermostat")
    await connected(page)
    await page.evaluate(() => {
      const script = document.createElement("script")
      script.textContent = "window.__injected = true"
      document.body.appendChild(script)
      const img = document.createElement("img")
      img.setAttribute("onerror", "window.__injected = true")
      img.src = "/nothing.png"
      document.body.appendChild(img)
    })
    await page.waitForFunction(() => document.querySelector("img[onerror]").complete)
    await page.waitForTimeout(200)
    assert.equal(await page.evaluate(() => window.__injected), undefined)
    assert.ok(page.violations.some((v) => v.startsWith("script-src")), `${page.violations}`)
  } finally {
    await page.close()
  }
})
