// The users page in headless Chromium with the official LiveView client: every user card is a
// live component with its own events (phx-target={@myself}), saving a card updates the parent,
// and the parent updates the cards (attributes, send_update).
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const text = (page, selector) => page.textContent(selector).then((t) => t.trim())

test("users: cards are live components with their own state and events", async () => {
  const {page, errors} = await openLive(browser, "/users")
  try {
    // The official client stamped each card's root with its cid.
    const cids = await page.$$eval(".user-card", (cards) => cards.map((c) => c.dataset.phxComponent))
    assert.equal(cids.length, 3)
    assert.ok(cids.every((cid) => /^\d+$/.test(cid)), `cids: ${cids}`)
    const targets = await page.$$eval("#user-1 [phx-target]", (els) => els.map((e) => e.getAttribute("phx-target")))
    assert.ok(targets.length > 0 && targets.every((t) => t === cids[0]), `targets ${targets} of cid ${cids[0]}`)

    // Expanding Bob's card touches only Bob's card.
    await page.click("#user-2 button.expand")
    await page.waitForSelector("#user-2 .details")
    assert.match(await text(page, "#user-2 .details"), /Writes Elixir/)
    assert.equal(await page.$("#user-1 .details"), null)
    assert.equal(await text(page, "#user-2 button.expand"), "Less")
    assert.equal(await text(page, "#user-1 button.expand"), "More")

    // Edit and save Alice: the card tells the parent, which re-renders the card with the new user.
    await page.click("#user-1 button.edit")
    await page.waitForSelector("#user-1 form")
    assert.match(await text(page, "#user-1 form h4"), /Edit User/)
    await page.fill("#user-1 input[name=name]", "Alicia")
    await page.click("#user-1 form button[type=submit]")
    await page.waitForFunction(() => document.querySelector("#user-1 h3").textContent.trim() === "Alicia")
    assert.equal(await page.$("#user-1 form"), null)
    assert.equal(await text(page, "#notice"), "Saved Alicia")
    assert.equal(await text(page, "#user-1 small"), "Saved 1 times")
    assert.equal(await text(page, "#user-2 h3"), "Bob")

    // The parent's attributes reach every card.
    await page.click("#toggle-emails")
    await page.waitForSelector("#user-3 .email")
    assert.equal(await text(page, "#user-3 .email"), "carol@example.com")

    // send_update from the parent: Carol becomes a VIP.
    await page.click(".slot:nth-child(3) button.vip")
    await page.waitForSelector("#user-3.vip .badge")
    assert.equal(await page.$("#user-1.vip"), null)
    // The card confirms to the parent from its update; the parent's notice follows in a push.
    await page.waitForFunction(() => document.querySelector("#notice").textContent === "User 3 is a VIP")
    // Bob's card kept its own state through all of it.
    assert.equal(await text(page, "#user-2 button.expand"), "Less")

    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "users")
    throw e
  } finally {
    await page.close()
  }
})

test("users: a JS push targeted with Myself reaches the card", async () => {
  const {page, errors} = await openLive(browser, "/users")
  try {
    // Cancel is `JS::push("cancel").with_target(@myself)`: the target (the card's cid, as a
    // number) is in the JS command, not in a phx-target of the button, so without it the push
    // would go to the parent view (which has no "cancel" event).
    const cid = await page.$eval("#user-2", (el) => el.dataset.phxComponent)
    await page.click("#user-1 button.edit")
    await page.click("#user-2 button.edit")
    await page.waitForSelector("#user-2 form")
    await page.waitForSelector("#user-1 form")
    const cancel = await page.$eval("#user-2 button.cancel", (el) => ({
      js: JSON.parse(el.getAttribute("phx-click")),
      target: el.getAttribute("phx-target"),
    }))
    assert.deepEqual(cancel.js, [["push", {event: "cancel", target: Number(cid)}]])
    assert.equal(cancel.target, null)

    await page.click("#user-2 button.cancel")
    await page.waitForFunction(() => document.querySelector("#user-2 form") === null)
    assert.equal(await text(page, "#user-2 button.edit"), "Edit")
    // Only Bob's card stopped editing, and the parent view is still joined (not crashed).
    assert.ok(await page.$("#user-1 form"), "Alice is still editing")
    assert.equal(await page.$(".phx-error"), null)
    await page.click("#user-1 button.cancel")
    await page.waitForFunction(() => document.querySelector("#user-1 form") === null)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "users-js-target")
    throw e
  } finally {
    await page.close()
  }
})

test("users: a deleted card is destroyed on both sides, a new card mounts fresh", async () => {
  const {page, errors} = await openLive(browser, "/users")
  try {
    const cidOf = (id) => page.$eval(id, (el) => el.dataset.phxComponent)
    const alice = await cidOf("#user-1")
    const held = () => page.evaluate(() => Object.keys(window.liveSocket.main.rendered.get().c || {}))
    assert.ok((await held()).includes(alice))

    await page.click(".slot:nth-child(1) button.delete")
    await page.waitForFunction(() => document.querySelector("#user-1") === null)
    assert.equal(await text(page, "#notice"), "Deleted user 1")
    // The client reported the card gone (cids_will_destroy, cids_destroyed); the server's
    // reply listed it, so the client pruned it.
    await page.waitForFunction(
      (cid) => !(cid in (window.liveSocket.main.rendered.get().c || {})), alice, {timeout: 5_000})

    // A new user: a new card (statics shared with a held card), mounted fresh, with working events.
    await page.click("#add-user")
    await page.waitForSelector("#user-4")
    assert.equal(await text(page, "#user-4 h3"), "User 4")
    const fresh = await cidOf("#user-4")
    assert.notEqual(fresh, alice)
    await page.click("#user-4 button.expand")
    await page.waitForSelector("#user-4 .details")
    assert.match(await text(page, "#user-4 .details"), /New here/)
    assert.equal(await page.$("#user-2 .details"), null)
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "users-destroy")
    throw e
  } finally {
    await page.close()
  }
})

test("users: Send Message in a card navigates live to the chat (the seed's open_chat)", async () => {
  const {page, errors} = await openLive(browser, "/users")
  try {
    const loads = []
    page.on("domcontentloaded", () => loads.push(page.url()))
    await page.click("#user-2 button.expand")
    await page.waitForSelector("#user-2 .details button.send-message")
    await page.click("#user-2 button.send-message")
    await page.waitForSelector("#chat h1")
    assert.equal(await text(page, "#chat h1"), "Chat with Bob")
    assert.equal(new URL(page.url()).pathname, "/chat/2")
    assert.deepEqual(loads, [], "live navigation, no page load")
    await page.waitForSelector("[data-phx-main].phx-connected")
    // Back is live too.
    await page.goBack()
    await page.waitForSelector("#user-2")
    assert.deepEqual(loads, [], "still no page load")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "users-chat")
    throw e
  } finally {
    await page.close()
  }
})
