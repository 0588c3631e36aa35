// The feed's stream in headless Chromium with the official LiveView client: the DOM order
// after appending pages with a limit, prepending a new post, deleting, liking in place,
// prepending a page with a leading limit, resetting, and loading pages by scrolling
// (phx-viewport-bottom). The same sequences run through the harness in examples/feed/tests.
// Deleting asks first (`data-confirm`, phoenix_html's handler in the client bundle): a
// dismissed confirm must keep the post. The list's empty-state child shows only while no post
// is shown, and survives deletes, resets and limits.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {execFile} from "node:child_process"
import {existsSync} from "node:fs"
import {fileURLToPath} from "node:url"
import {promisify} from "node:util"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

// The post ids the stream container shows, in DOM order (its empty-state child left out).
const shown = (page) =>
  page.$$eval("#posts > li.post", (lis) => lis.map((li) => Number(li.id.replace("posts-", ""))))

async function expectShown(page, expected) {
  await page.waitForFunction(
    (want) => JSON.stringify([...document.querySelectorAll("#posts > li.post")].map((li) => Number(li.id.replace("posts-", "")))) === want,
    JSON.stringify(expected),
    {timeout: 5_000},
  ).catch(() => {})
  assert.deepEqual(await shown(page), expected)
}

// Opens `path` and runs `body(page, dialogs)`. Every dialog the page opens is recorded in
// `dialogs.seen` ({type, message}) and accepted, unless the test set `dialogs.answer` to
// "dismiss" (as a user pressing Cancel).
async function run(name, path, body) {
  const {page, errors} = await openLive(browser, path)
  const dialogs = {seen: [], answer: "accept"}
  page.on("dialog", (dialog) => {
    dialogs.seen.push({type: dialog.type(), message: dialog.message()})
    return dialogs.answer === "dismiss" ? dialog.dismiss() : dialog.accept()
  })
  try {
    await body(page, dialogs)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, name)
    throw e
  } finally {
    await page.close()
  }
}

test("feed: append pages with a limit, prepend, delete, like in place, reset", async () => {
  await run("feed-ops", "/feed?per_page=2&total=9&scroll=off", async (page) => {
    await expectShown(page, [9, 8])
    // The client tags stream children with the stream's ref.
    assert.equal(await page.getAttribute("#posts-9", "data-phx-stream"), "0")

    await page.click("#load-more")
    await expectShown(page, [9, 8, 7, 6])
    await page.click("#load-more")
    await expectShown(page, [9, 8, 7, 6, 5, 4])
    await page.click("#load-more")
    // limit -6: the oldest page on screen was pruned.
    await expectShown(page, [7, 6, 5, 4, 3, 2])
    await page.waitForSelector("#page:text('Page 4')")

    await page.click("#new-post")
    await expectShown(page, [10, 7, 6, 5, 4, 3, 2])

    await page.click("#posts-5 button.delete") // the confirm is accepted (run's default)
    await expectShown(page, [10, 7, 6, 4, 3, 2])
    await page.waitForSelector("#flash:text('Post deleted')")

    await page.click("#posts-4 button.like")
    await page.waitForSelector("#posts-4 button.like:text('♥ 1')")
    await expectShown(page, [10, 7, 6, 4, 3, 2])

    await page.click("#reset")
    await expectShown(page, [10, 9])
    await page.waitForSelector("#page:text('Page 1')")
  })
})

test("feed: data-confirm asks before deleting; Cancel keeps the post, OK deletes it", async () => {
  await run("feed-confirm", "/feed?per_page=2&total=9&scroll=off", async (page, dialogs) => {
    await expectShown(page, [9, 8])
    const confirm = {type: "confirm", message: "Are you sure?"}

    // Cancel: the confirm was shown, and the phx-click never reached the view.
    dialogs.answer = "dismiss"
    await page.click("#posts-9 button.delete")
    assert.deepEqual(dialogs.seen, [confirm], "clicking Delete asks to confirm")
    // A later event on the same channel is handled after a delete would have been: once this
    // like shows, a delete pushed by the dismissed click would have shown too.
    await page.click("#posts-8 button.like")
    await page.waitForSelector("#posts-8 button.like:text('♥ 1')")
    assert.deepEqual(await shown(page), [9, 8], "a dismissed confirm keeps the post")
    assert.equal(await page.textContent("#flash"), "", "no flash: nothing was deleted")

    // OK: deleted.
    dialogs.answer = "accept"
    await page.click("#posts-9 button.delete")
    await expectShown(page, [8])
    await page.waitForSelector("#flash:text('Post deleted')")
    assert.deepEqual(dialogs.seen, [confirm, confirm])
  })
})

test("feed: a page prepended at 0 keeps the first six (limit 6), newest first", async () => {
  await run("feed-prev", "/feed?per_page=2&total=20&scroll=off", async (page) => {
    for (let i = 0; i < 4; i++) {
      await page.click("#load-more")
      await page.waitForSelector(`#page:text('Page ${i + 2}')`)
    }
    await expectShown(page, [16, 15, 14, 13, 12, 11])
    // As phx-viewport-top does when the user scrolled past the top.
    await page.evaluate(() =>
      window.liveSocket.execJS(
        document.getElementById("posts"),
        JSON.stringify([["push", {event: "prev-page", value: {_overran: true}}]]),
      ))
    await page.waitForSelector("#page:text('Page 1')")
    await expectShown(page, [20, 19, 16, 15, 14, 13])
  })
})

test("feed: scrolling to the bottom loads the next page (phx-viewport-bottom)", async () => {
  await run("feed-scroll", "/feed?per_page=5&total=40", async (page) => {
    await page.setViewportSize({width: 800, height: 300})
    await expectShown(page, [40, 39, 38, 37, 36])
    // The list keeps a screen-high gap below the loaded posts: bringing the last post into view
    // while scrolling down is what fires `next-page`.
    for (let i = 0; i < 10 && (await shown(page)).length < 10; i++) {
      await page.evaluate(() => {
        window.scrollTo(0, 0)
        ;[...document.querySelectorAll("#posts > li.post")].at(-1).scrollIntoView({block: "end"})
      })
      await page.waitForTimeout(300)
    }
    const ids = await shown(page)
    assert.ok(ids.length >= 10, `scrolling loaded more posts: ${ids}`)
    assert.deepEqual(ids.slice(0, 10), [40, 39, 38, 37, 36, 35, 34, 33, 32, 31])
  })
})

// The empty-state child (`<li id="posts-empty" class="only:block hidden">`, Phoenix 1.2's
// pattern): not a stream item, so the client keeps it through inserts, deletes, resets and
// limits, and the stylesheet shows it only while it is the list's only child.
const emptyState = (page) =>
  page.$$eval("#posts > #posts-empty", (els) => els.map((el) => ({
    shown: getComputedStyle(el).display !== "none",
    streamChild: el.hasAttribute("data-phx-stream"),
    text: el.textContent.trim(),
  })))

async function expectEmptyState(page, shown) {
  await page.waitForFunction(
    (want) => {
      const el = document.querySelector("#posts > #posts-empty")
      return el !== null && (getComputedStyle(el).display !== "none") === want
    },
    shown,
    {timeout: 5_000},
  ).catch(() => {})
  assert.deepEqual(await emptyState(page), [{shown, streamChild: false, text: "No posts yet."}])
}

test("feed: the empty state shows only while the stream is empty, through deletes and resets", async () => {
  await run("feed-empty", "/feed?per_page=2&total=2&scroll=off", async (page) => {
    await expectShown(page, [2, 1])
    await expectEmptyState(page, false)

    await page.click("#posts-2 button.delete")
    await expectShown(page, [1])
    await expectEmptyState(page, false)
    await page.click("#posts-1 button.delete")
    await expectShown(page, [])
    await expectEmptyState(page, true)

    // A reset to nothing: the stream's children go, the empty state stays.
    await page.click("#reset")
    await page.waitForFunction(() => !document.querySelector("#reset").classList.contains("phx-click-loading"))
    await expectShown(page, [])
    await expectEmptyState(page, true)

    await page.click("#new-post")
    await expectShown(page, [3])
    await expectEmptyState(page, false)
    await page.click("#new-post")
    await expectShown(page, [4, 3])

    // A reset with posts: they replace the old ones, the empty state stays hidden.
    await page.click("#posts-3 button.delete")
    await expectShown(page, [4])
    await page.click("#reset")
    await expectShown(page, [4])
    await expectEmptyState(page, false)
    await page.click("#posts-4 button.delete")
    await expectShown(page, [])
    await expectEmptyState(page, true)
  })
})

test("feed: an empty timeline shows the empty state once joined", async () => {
  const {page, errors} = await openLive(browser, "/feed?total=0&scroll=off")
  try {
    await expectShown(page, [])
    await expectEmptyState(page, true)
    await page.click("#new-post")
    await expectShown(page, [1])
    await expectEmptyState(page, false)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "feed-empty-dead")
    throw e
  } finally {
    await page.close()
  }
})

test("feed: a leading limit trims the empty state; the next patch brings it back", async () => {
  await run("feed-empty-limit", "/feed?per_page=1&total=5&scroll=off", async (page) => {
    for (let i = 2; i <= 4; i++) {
      await page.click("#load-more")
      await page.waitForSelector(`#page:text('Page ${i}')`)
    }
    // limit -4 counts the empty state: three posts and it.
    await expectShown(page, [4, 3, 2])
    await expectEmptyState(page, false)
    for (let i = 3; i >= 1; i--) {
      await page.click("#prev-page")
      await page.waitForSelector(`#page:text('Page ${i}')`)
    }
    // Post 5 prepended with limit 3: the client trimmed the empty state (last) and post 2.
    await expectShown(page, [5, 4, 3])
    assert.deepEqual(await emptyState(page), [], "trimmed by the leading limit")
    for (const id of [5, 4]) {
      await page.click(`#posts-${id} button.delete`)
    }
    await expectShown(page, [3])
    await expectEmptyState(page, false)
    await page.click("#posts-3 button.delete")
    await expectShown(page, [])
    await expectEmptyState(page, true)
  })
})

// A stream container inside `:if` (/feed/toggle): the items streamed while it is hidden show
// when it appears; hiding it drops its items from the page (the server keeps none), so shown
// again it holds only what was inserted since. examples/feed/tests/toggle.rs runs the same
// sequence through the harness's model of the client. The stream gives its items configured
// DOM ids (stream_configure): `toggled-post-<id>`, which "Remove" sends back to delete by.
test("feed: a stream container that appears later inside :if", async () => {
  const items = (page) =>
    page.$$eval("#items > li", (lis) => lis.map((li) => Number(li.id.replace("toggled-post-", ""))))
  async function expectItems(page, expected) {
    await page.waitForFunction(
      (want) => {
        const ul = document.getElementById("items")
        const got = ul && [...ul.children].map((li) => Number(li.id.replace("toggled-post-", "")))
        return JSON.stringify(got) === want
      },
      JSON.stringify(expected),
      {timeout: 5_000},
    ).catch(() => {})
    assert.deepEqual(await page.$("#items") && await items(page), expected)
  }
  async function click(page, id) {
    await page.click(id)
    await page.waitForFunction((id) => !document.querySelector(id).classList.contains("phx-click-loading"), id)
  }
  await run("feed-toggle", "/feed/toggle", async (page) => {
    assert.equal(await page.$("#items"), null, "hidden at first")
    await click(page, "#toggle")
    await expectItems(page, [3, 2, 1])
    await click(page, "#toggle")
    await expectItems(page, null)
    await click(page, "#toggle")
    await expectItems(page, [])
    await click(page, "#add")
    await expectItems(page, [4])
    await click(page, "#toggle")
    await click(page, "#add")
    await expectItems(page, null)
    await click(page, "#toggle")
    await expectItems(page, [5])
    // The stream's configured DOM ids (stream_configure): removing sends the id back.
    await click(page, "#add")
    await expectItems(page, [5, 6])
    await page.click("#toggled-post-5 button.remove")
    await expectItems(page, [6])
  })
  await run("feed-toggle-on", "/feed/toggle?show=on", async (page) => {
    await expectItems(page, [3, 2, 1])
    await click(page, "#toggle")
    await click(page, "#toggle")
    await expectItems(page, [])
  })
})

// The diff conformance cases (written by `cargo xtask test`'s conformance step, or by
// `cargo run -p livewasm-protocol --example conformance_cases -- target/conformance/cases.json`)
// replayed through the official client's DOM patch: its stream children must match our model.
const cases = fileURLToPath(new URL("../../target/conformance/cases.json", import.meta.url))
const replay = fileURLToPath(new URL("../conformance/stream_dom.mjs", import.meta.url))

test("streams: the official DOM patch agrees with our model on every stream case", {
  skip: existsSync(cases) ? false : `no ${cases}: run the conformance step first`,
}, async () => {
  const {stdout} = await promisify(execFile)(process.execPath, [replay, cases], {timeout: 300_000})
  assert.match(stdout, /agrees with our model on \d+ cases/)
})
