// The dashboard in headless Chromium with the official LiveView client: async assigns load
// after the loading state, start_async metrics arrive, a crashing task fails only its result,
// and PubSub carries a sale from one tab's sales console to another tab's dashboard.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {BASE, launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const revenue = async (page) =>
  Number((await page.textContent("#revenue")).replace(/[^0-9]/g, ""))

test("dashboard: the dead render shows the loading states in the route's container", async () => {
  const html = await (await fetch(BASE + "/dashboard/acme")).text()
  assert.match(html, /<main[^>]*class="dashboard-container"/)
  assert.match(html, /Loading organization\.\.\./)
  assert.match(html, /Calculating metrics\.\.\./)
})

test("dashboard: async data arrives, a sale on another tab updates it live", async () => {
  const {page, errors} = await openLive(browser, "/dashboard/acme")
  const other = await openLive(browser, "/dashboard/acme")
  let sales
  try {
    assert.equal(await page.getAttribute("[data-phx-main]", "class").then((c) => c.includes("dashboard-container")), true)
    await page.waitForSelector("#org h2:text-is('Acme Corp')")
    await page.waitForSelector("#profile :text('Profile: Wile E. Coyote (rank #1)')")
    await page.waitForSelector("#revenue")
    const before = await revenue(page)

    sales = await openLive(browser, "/dashboard/acme/sales")
    await sales.page.click("#sale-250")
    await sales.page.waitForSelector("#recorded:text-is('Recorded 1 sales')")

    await page.waitForFunction((b) =>
      Number(document.querySelector("#revenue").textContent.replace(/[^0-9]/g, "")) === b + 250, before)
    assert.match(await page.textContent("#activity"), /Sale: \$250/)
    await other.page.waitForSelector("#activity li:text-is('Sale: $250')")

    // Wave: the other viewer hears it, the sender does not.
    await page.click("#wave")
    await other.page.waitForSelector("#activity li:text-is('guest waved')")
    assert.doesNotMatch(await page.textContent("#activity"), /waved/)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "dashboard")
    throw e
  } finally {
    await page.close()
    await other.page.close()
    await sales?.page.close()
  }
})

test("dashboard: a crashing task fails the metrics, the view stays connected", async () => {
  const {page, errors} = await openLive(browser, "/dashboard/crashy")
  try {
    await page.waitForSelector("#metrics-failed:text('the task crashed')")
    await page.waitForSelector("#flash-error:has-text('Failed to load metrics')")
    await page.waitForSelector("#org h2:text-is('Crashy Inc')")
    assert.equal(await page.$("[data-phx-main].phx-connected") !== null, true)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "dashboard-crashy")
    throw e
  } finally {
    await page.close()
  }
})

// The team card is a live component: it starts its own task (start_async on its socket) and
// shows the outcome from its own handle_async; hooks attached to its socket count every event
// ("audit") and halt a reload past the limit ("limit"), so no further load starts.
test("dashboard: a live component's start_async and attach_hook", async () => {
  const {page, errors} = await openLive(browser, "/dashboard/globex")
  try {
    await page.waitForSelector("#team-members:text-is('2 members: Hank Scorpio, Homer Simpson')")
    await page.waitForSelector("#team-loads:text-is('Loaded 1 times')")
    for (const round of [1, 2]) {
      await page.click("#team-reload")
      await page.waitForSelector(`#team-events:text-is('Events seen: ${round}')`)
      await page.waitForSelector(`#team-loads:text-is('Loaded ${round + 1} times')`)
    }
    await page.click("#team-reload")
    await page.waitForSelector("#team-notice:text-is('Reload limit reached')")
    await page.waitForSelector("#team-events:text-is('Events seen: 3')")
    // The halted reload started nothing: give a load the time it takes, then check.
    await page.waitForTimeout(500)
    assert.equal(await page.textContent("#team-loads"), "Loaded 3 times")
    assert.equal(await page.$("#team-reloading"), null)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "dashboard-team")
    throw e
  } finally {
    await page.close()
  }
})
