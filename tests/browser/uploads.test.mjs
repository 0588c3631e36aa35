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
