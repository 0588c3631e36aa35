// ArticlesLive in headless Chromium with the official LiveView client: patch links switch the
// live action without remounting, navigate links and push_navigate mount another view over the
// same socket (no page load), the flash follows, browser back/forward replay patches and
// navigation, and a link into another live session falls back to a full page load.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot, waitTitle} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const path = (page) => new URL(page.url()).pathname
const connected = (page) => page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
// A marker on window survives live patches and live navigation, not page loads.
const mark = (page) => page.evaluate(() => { window.__noReload = true })
const marked = (page) => page.evaluate(() => window.__noReload === true)
const waitPath = (page, p) => page.waitForFunction((p) => location.pathname === p, p)

test("articles: patch, create with flash, back/forward, navigate, cross-session load", async () => {
  const {page, errors} = await openLive(browser, "/articles")
  try {
    await waitTitle(page, "Articles")
    await mark(page)

    // Patch link: the modal of the `new` action, same view.
    await page.click("#new-article")
    await page.waitForSelector("#article-modal")
    assert.equal(path(page), "/articles/new")
    await waitTitle(page, "New Article")

    // The form is ArticleFormComponent inside the seed's <.modal>: shown by its phx-mounted JS,
    // validating as the user types (phx-change to the component).
    await page.waitForSelector("#article-modal", {state: "visible"})
    await page.fill("input[name='article[title]']", "x")
    await page.fill("input[name='article[title]']", "")
    await page.waitForSelector("#article-form .error:text(\"Title can't be blank\")")

    // Create: saved by the component, the parent's flash + push_patch to the new article.
    await page.fill("input[name='article[title]']", "Mine")
    await page.fill("textarea[name='article[body]']", "Written in a browser")
    await page.waitForSelector("#article-form .error", {state: "detached"})
    await page.click("#article-form button[type=submit]")
    await page.waitForSelector("#flash-info")
    assert.equal(await page.textContent("#flash-info"), "Article created!")
    await page.waitForFunction(() => /^\/articles\/\d+$/.test(location.pathname))
    const created = path(page)
    assert.equal(await page.textContent("#current-article h2"), "Mine")
    await waitTitle(page, "Mine")

    // lv:clear-flash
    await page.click("#flash-info")
    await page.waitForSelector("#flash-info", {state: "detached"})

    // Back: the client patches back to /articles/new; forward again.
    await page.goBack()
    await waitPath(page, "/articles/new")
    await page.waitForSelector("#article-modal")
    await page.goForward()
    await waitPath(page, created)
    await page.waitForSelector("#current-article")

    // Escape runs the modal's on_cancel, JS.patch("/articles"): the modal goes, same view.
    await page.click("#new-article")
    await page.waitForSelector("#article-modal", {state: "visible"})
    await page.keyboard.press("Escape")
    await waitPath(page, "/articles")
    await page.waitForSelector("#article-modal", {state: "detached"})
    assert.ok(await marked(page), "patches never reload the page")

    // Navigate link: another view of the same live session, over the same socket.
    await page.click("#new-article")
    await page.click("#cancel")
    await waitPath(page, "/articles")
    await page.click("a[href='/articles/1/show']")
    await page.waitForSelector("#article-show")
    assert.equal(path(page), "/articles/1/show")
    await waitTitle(page, "Hello, Livewasm")
    assert.ok(await marked(page), "live navigation does not reload the page")
    // The show route's container attributes (`class="article-page"`) replaced the page's.
    await page.waitForSelector("div[data-phx-main].article-page.phx-connected")

    // Back to the list view (a live navigation back), then forward to the show view.
    await page.goBack()
    await waitPath(page, "/articles")
    await page.waitForSelector("#articles")
    await page.waitForSelector("div[data-phx-main]:not(.article-page)")
    await connected(page)
    await page.goForward()
    await page.waitForSelector("#article-show")
    assert.ok(await marked(page), "back/forward across views stay live")

    // push_navigate from a delete carries the flash.
    await page.click("#back")
    await page.waitForSelector("#article-list")
    await connected(page)
    // The article this run made (a shared host keeps what other runs made, and theirs).
    await page.click(`#article-${created.split("/").pop()} button`)
    await page.waitForSelector("#flash-info")
    assert.equal(await page.textContent("#flash-info"), "Article deleted")
    assert.equal(path(page), "/articles")
    assert.ok(await marked(page))

    // Another live session: the join is refused and the client loads the page.
    await page.click("#archive-link")
    await page.waitForSelector("#archive")
    await connected(page)
    assert.equal(path(page), "/articles-archive")
    assert.equal(await page.textContent("#mode"), "live")
    assert.ok(await page.$("main[data-phx-main].archive[data-kind=archive]"), "the dead render's container")
    assert.equal(await marked(page), false, "crossing live sessions is a full page load")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "articles")
    throw e
  } finally {
    await page.close()
  }
})
