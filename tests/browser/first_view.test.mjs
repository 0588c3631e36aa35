// "Your first view in five minutes", as a new user lives it: a counter made by `livewasm new`,
// served by the real dev loop (`cargo xtask dev --crate DIR`, which xtask starts for this test
// and names in LIVEWASM_DEV_LOOP_URL / LIVEWASM_DEV_LOOP_CRATE), open in Chromium while its
// template is edited and saved.
//
// It prints how long an edit takes to show in the page ("edit → visible: N ms", from the file
// write to the new text in the DOM), which is a figure to read, not a timed assertion. Then a
// template syntax error: the overlay must show on the open page with the file, line and column
// of the mistake, and fixing it must clear the overlay and show the fix.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {readFileSync, writeFileSync} from "node:fs"
import {join} from "node:path"
import {launch, screenshot} from "./browser.mjs"

const URL_BASE = process.env.LIVEWASM_DEV_LOOP_URL
const CRATE = process.env.LIVEWASM_DEV_LOOP_CRATE
const skip = !(URL_BASE && CRATE) &&
  "LIVEWASM_DEV_LOOP_URL / LIVEWASM_DEV_LOOP_CRATE are not set (cargo xtask test sets them)"

const SOURCE = CRATE && join(CRATE, "src/lib.rs")
const OVERLAY = "#livewasm-dev-overlay"
// An edit or a build seldom takes more than a few seconds; this only bounds a broken loop.
const PATIENCE_MS = 120_000

let browser, original
before(async () => {
  if (skip) return
  original = readFileSync(SOURCE, "utf8")
  browser = await launch()
})
after(async () => {
  await browser?.close()
  if (original !== undefined) writeFileSync(SOURCE, original)
})

// The template's `Count:` label, replaced by `label` (the scaffold's template has it once).
function withLabel(label) {
  assert.equal(original.split("<p>Count: ").length, 2, "the scaffold's template has one <p>Count:")
  return original.replace("<p>Count: ", `<p>${label}: `)
}

// Resolves with the time at which `text` is in the page's DOM, looking every 10 ms across the
// page's reloads (an evaluation during a navigation fails and is tried again).
async function whenShown(page, text) {
  const deadline = Date.now() + PATIENCE_MS
  for (;;) {
    const found = await page.evaluate((t) => document.body?.textContent.includes(t) ?? false, text)
      .catch(() => false)
    if (found) return Date.now()
    if (Date.now() > deadline) throw new Error(`"${text}" did not show within ${PATIENCE_MS} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function openCounter() {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  await page.goto(URL_BASE + "/counter")
  await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
  return {page, errors}
}

// The 1-based line and column of the first `needle` in `text`.
function position(text, needle) {
  const at = text.indexOf(needle)
  assert.ok(at >= 0, `${needle} is in the source`)
  const before = text.slice(0, at).split("\n")
  return {line: before.length, column: before[before.length - 1].length + 1}
}

// Each run's edits are new text, so the host cannot find the components compiled already (its
// artifact cache outlives a run).
const RUN = Date.now().toString(36)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

test("first view: an edited template shows in the open page (edit → visible)", {skip}, async () => {
  const {page, errors} = await openCounter()
  try {
    assert.equal(await page.$(OVERLAY), null, "no overlay while the build is good")
    const took = []
    for (let n = 1; n <= 3; n++) {
      const label = `Clicks, edit ${n} of run ${RUN}`
      const saved = Date.now()
      writeFileSync(SOURCE, withLabel(label))
      const shown = await whenShown(page, `${label}:`)
      took.push(shown - saved)
      console.log(`edit → visible: ${shown - saved} ms (edit ${n})`)
      // The page runs the new version: live and counting.
      await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    }
    console.log(`edit → visible: median ${median(took)} ms of ${took.join(", ")} ms`)
    await page.click("button:text-is('+')")
    await page.waitForFunction(() => document.querySelector(".count")?.textContent === "1")
    assert.equal(await page.textContent("p"), `Clicks, edit 3 of run ${RUN}: 1`)
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "first-view-edit")
    throw e
  } finally {
    await page.close()
  }
})

test("first view: a template syntax error shows with its line and column, and the fix clears it", {skip}, async () => {
  const {page, errors} = await openCounter()
  try {
    // An interpolation that is never closed.
    const broken = withLabel(`Broken in run ${RUN}`).replace(`{@count}</span>`, `{@count</span>`)
    assert.notEqual(broken, withLabel(`Broken in run ${RUN}`), "the template has {@count}")
    const {line, column} = position(broken, "{@count</span>")
    const saved = Date.now()
    writeFileSync(SOURCE, broken)
    await page.waitForSelector(OVERLAY, {timeout: PATIENCE_MS})
    console.log(`syntax error → overlay: ${Date.now() - saved} ms`)
    const text = await page.textContent(OVERLAY)
    assert.match(text, /counter: the build failed/)
    assert.match(text, /is never closed/)
    // The compiler's message names the place of the mistake in the file, not only the
    // template's first line.
    assert.ok(text.includes(`src/lib.rs:${line}:${column}`),
      `the overlay names src/lib.rs:${line}:${column}:\n${text}`)
    // The page under it still runs the previous version.
    assert.doesNotMatch(await page.textContent("p"), /Broken/)

    const fixedAt = Date.now()
    writeFileSync(SOURCE, withLabel(`Fixed in run ${RUN}`))
    await page.waitForSelector(OVERLAY, {state: "detached", timeout: PATIENCE_MS})
    const shown = await whenShown(page, `Fixed in run ${RUN}:`)
    console.log(`fix → overlay gone and fix visible: ${shown - fixedAt} ms`)
    assert.equal(await page.$(OVERLAY), null, "the overlay stays away")
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.deepEqual(errors, [])
  } catch (e) {
    await screenshot(page, "first-view-syntax-error")
    throw e
  } finally {
    await page.close()
  }
})
