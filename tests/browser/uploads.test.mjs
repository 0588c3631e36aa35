// ProfileLive's uploads in headless Chromium with the official LiveView client: real files go
// through `allow_upload`, `lvu:` channels and binary chunk frames; the avatar uploads as soon as
// it is chosen (progress to 100 %, a preview), an oversized or unaccepted file shows its error,
// cancel removes an entry, the saved files have exactly the sizes sent, a file dropped on the
// drop zone uploads too, and too many files show the upload-level error.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

// Deterministic bytes.
const bytes = (n) => Buffer.from(Array.from({length: n}, (_, i) => (i * 7) % 251))

test("uploads: avatar, documents, errors, cancel and save", async () => {
  const {page, errors} = await openLive(browser, "/uploads")
  try {
    const avatar = 'input[type="file"][name="avatar"]'
    const documents = 'input[type="file"][name="documents"]'

    // An oversized avatar is refused with its error, then cancelled.
    await page.setInputFiles(avatar, {name: "huge.png", mimeType: "image/png", buffer: bytes(5_000_001)})
    await page.waitForSelector(".upload-entry .error:text('File is too large')")
    await page.click(".upload-entry button[aria-label='cancel']")
    await page.waitForFunction(() => !document.querySelector(".upload-entry"))

    // A good avatar uploads at once (auto_upload): progress reaches 100 and a preview shows.
    await page.setInputFiles(avatar, {name: "me.png", mimeType: "image/png", buffer: bytes(300_000)})
    await page.waitForSelector(".upload-entry figcaption:text('me.png')")
    await page.waitForSelector(".upload-entry .percent:text('100%')", {timeout: 15_000})
    assert.equal(await page.locator(".upload-entry progress").getAttribute("value"), "100")
    assert.equal(await page.locator('.upload-entry img[data-phx-hook="Phoenix.LiveImgPreview"]').count(), 1)
    const doneRefs = await page.locator(avatar).getAttribute("data-phx-done-refs")
    assert.ok(doneRefs && doneRefs.length > 0, `done refs: ${doneRefs}`)

    // Documents: one not accepted, removed; one removed before upload; one kept.
    await page.setInputFiles(documents, [
      {name: "notes.txt", mimeType: "text/plain", buffer: bytes(10)},
      {name: "draft.pdf", mimeType: "application/pdf", buffer: bytes(1_000)},
      {name: "report.pdf", mimeType: "application/pdf", buffer: bytes(200_000)},
    ])
    await page.waitForSelector(".document:has-text('notes.txt') .error:text('File type not accepted')")
    await page.click(".document:has-text('notes.txt') button")
    await page.waitForFunction(() => ![...document.querySelectorAll(".document")].some((li) => li.textContent.includes("notes.txt")))
    await page.click(".document:has-text('draft.pdf') button")
    await page.waitForFunction(() => ![...document.querySelectorAll(".document")].some((li) => li.textContent.includes("draft.pdf")))
    assert.equal(await page.locator(".document").count(), 1)

    // Submit: the client preflights and uploads the document, then `save` consumes both files.
    await page.click("button[type=submit]")
    await page.waitForSelector(".uploaded-files li.saved[data-kind='documents']", {timeout: 15_000})
    await page.getByText("Files uploaded successfully!").waitFor()
    const saved = await page.$$eval("li.saved", (lis) => lis.map((li) => [li.dataset.kind, li.textContent.split(" (")[0], li.dataset.size]))
    assert.deepEqual(saved, [["avatar", "me.png", "300000"], ["documents", "report.pdf", "200000"]])
    assert.equal(await page.locator(".upload-entry").count(), 0)
    assert.equal(await page.locator(".document").count(), 0)

    // Drag and drop onto the avatar's drop zone (phx-drop-target) uploads it the same way.
    const dropped = await page.evaluateHandle(() => {
      const dt = new DataTransfer()
      dt.items.add(new File([new Uint8Array(4321).fill(9)], "dropped.webp", {type: "image/webp"}))
      return dt
    })
    await page.dispatchEvent("section.avatar-upload", "drop", {dataTransfer: dropped})
    await page.waitForSelector(".upload-entry figcaption:text('dropped.webp')")
    await page.waitForSelector(".upload-entry .percent:text('100%')", {timeout: 15_000})

    // More documents than max_entries: the upload-level error.
    await page.setInputFiles(documents, Array.from({length: 6}, (_, i) => (
      {name: `d${i}.pdf`, mimeType: "application/pdf", buffer: bytes(10)})))
    await page.waitForSelector(".documents-upload > .error:text('Too many files selected')")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "uploads")
    throw e
  } finally {
    await page.close()
  }
})

// FNV-1a 64 in hex, as the example's `digest`.
function fnv(buffer) {
  let hash = 0xcbf29ce484222325n
  for (const byte of buffer) {
    hash ^= BigInt(byte)
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return hash.toString(16).padStart(16, "0")
}

// The cover photo is a live component with an upload of its own (Phoenix's `allow_upload` on a
// component's socket): its form has phx-target={@myself}, so the official client sends the
// preflight and progress with the component's cid, and the component's `save` consumes it.
test("uploads: a live component's own upload", async () => {
  const {page, errors} = await openLive(browser, "/uploads")
  try {
    const cover = '#cover-form input[type="file"][name="cover"]'
    const content = bytes(120_000)
    await page.setInputFiles(cover, {name: "cover.png", mimeType: "image/png", buffer: content})
    await page.waitForSelector(".cover-entry:has-text('cover.png 0%')")
    await page.click("#cover-form button[type=submit]")
    const saved = page.locator("p.cover-saved")
    await saved.waitFor({timeout: 15_000})
    assert.equal(await saved.textContent(), "cover.png")
    assert.equal(await saved.getAttribute("data-size"), "120000")
    assert.equal(await saved.getAttribute("data-checksum"), fnv(content))
    assert.equal(await page.locator(".cover-entry").count(), 0)
    // The view's own uploads never saw it.
    assert.equal(await page.locator(".upload-entry").count(), 0)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "uploads-component")
    throw e
  } finally {
    await page.close()
  }
})

// An external upload (Phoenix's `external: &presign_upload/2`) with the app's own client
// uploader: the app ships `LiveSocket.uploaders` (a `Direct` uploader) and
// `LiveSocket.metadata` as client hooks, the host hands them to the official LiveSocket, the
// preflight reply carries the presign's meta, the uploader reports progress, and `save`
// consumes the entry with its meta. A `metadata.click` function's value reaches handle_event.
test("uploads: an external upload through the app's uploader, and event metadata", async () => {
  const {page, errors} = await openLive(browser, "/uploads/direct")
  try {
    const content = bytes(4_321)
    await page.setInputFiles('#report-form input[type="file"]',
      {name: "q3.pdf", mimeType: "application/pdf", buffer: content})
    await page.waitForSelector(".report-entry:has-text('q3.pdf 0%')")
    await page.click("#report-form button[type=submit]")
    await page.waitForSelector("p.stored:text('reports/q3.pdf')", {timeout: 15_000})
    const sent = await page.evaluate(() => window.LivewasmDirectUploads)
    assert.deepEqual(sent, [{key: "reports/q3.pdf", bytes: 4_321}])
    assert.equal(await page.locator(".report-entry").count(), 0)

    await page.click("#ping")
    await page.waitForSelector("p.tag:text('from-metadata')")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "uploads-external")
    throw e
  } finally {
    await page.close()
  }
})

// The app's `LiveSocket.dom` (Phoenix's `dom: {onBeforeElUpdated}`), shipped as a client hook:
// its callback keeps the `data-js-*` attributes the page's own scripts set when a diff patches
// the element; another attribute set the same way is removed by the patch, as without it.
test("uploads: the app's LiveSocket.dom callback keeps client-set attributes", async () => {
  const {page, errors} = await openLive(browser, "/uploads/direct")
  try {
    assert.equal(await page.evaluate(() => typeof window.LivewasmSocketOptions.dom.onBeforeElUpdated), "function")
    await page.$eval("p.tag", (el) => {
      el.setAttribute("data-js-seen", "kept")
      el.setAttribute("data-other", "dropped")
    })
    await page.click("#ping")
    await page.waitForSelector("p.tag:text('(ping 1)')")
    assert.equal(await page.getAttribute("p.tag", "data-js-seen"), "kept")
    assert.equal(await page.getAttribute("p.tag", "data-other"), null, "the patch did touch the element")
    await page.click("#ping")
    await page.waitForSelector("p.tag:text('(ping 2)')")
    assert.equal(await page.getAttribute("p.tag", "data-js-seen"), "kept")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "uploads-dom")
    throw e
  } finally {
    await page.close()
  }
})
