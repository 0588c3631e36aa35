// The users page in headless Chromium with the official LiveView client: every user card is a
// live component with its own events (phx-target={@myself}), saving a card updates the parent,
// and the parent updates the cards (attributes, send_update).
//
// The users live in the app's SQL database, which the host under test shares between every
// test (and every run against it): each test adds the users it works on and assumes nothing of
// the others.
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {BASE, launch, openLive, screenshot} from "./browser.mjs"

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const text = (page, selector) => page.textContent(selector).then((t) => t.trim())
const cardIds = (page) => page.$$eval(".user-card", (cards) => cards.map((c) => Number(c.id.slice("user-".length))))
// A unique name for this run.
const unique = (name) => `${name} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`

// Adds a user with the page's "Add user" button; returns its id.
async function addUser(page) {
  const before = await cardIds(page)
  await page.click("#add-user")
  await page.waitForFunction((n) => document.querySelectorAll(".user-card").length > n, before.length)
  const added = (await cardIds(page)).filter((id) => !before.includes(id))
  assert.equal(added.length, 1, `one new card: ${added}`)
  const [id] = added
  assert.equal(await text(page, "#notice"), `Added user ${id}`)
  return id
}

// The parent's buttons next to card `id`.
const slot = (id) => `.slot:has(> #user-${id})`

test("users: cards are live components with their own state and events", async () => {
  const {page, errors} = await openLive(browser, "/users")
  try {
    const a = await addUser(page)
    const b = await addUser(page)
    const cidOf = (id) => page.$eval(`#user-${id}`, (el) => el.dataset.phxComponent)

    // The official client stamped each card's root with its cid.
    const cids = await page.$$eval(".user-card", (cards) => cards.map((c) => c.dataset.phxComponent))
    assert.ok(cids.length >= 2)
    assert.ok(cids.every((cid) => /^\d+$/.test(cid)), `cids: ${cids}`)
    assert.equal(new Set(cids).size, cids.length, `one cid per card: ${cids}`)
    const cidA = await cidOf(a)
    const targets = await page.$$eval(`#user-${a} [phx-target]`, (els) => els.map((e) => e.getAttribute("phx-target")))
    assert.ok(targets.length > 0 && targets.every((t) => t === cidA), `targets ${targets} of cid ${cidA}`)

    // Expanding B's card touches only B's card.
    await page.click(`#user-${b} button.expand`)
    await page.waitForSelector(`#user-${b} .details`)
    assert.match(await text(page, `#user-${b} .details`), /New here/)
    assert.equal(await page.$(`#user-${a} .details`), null)
    assert.equal(await text(page, `#user-${b} button.expand`), "Less")
    assert.equal(await text(page, `#user-${a} button.expand`), "More")

    // Edit and save A: the card saves the user and tells the parent, which re-renders the card
    // with the saved user.
    const name = unique("Alicia")
    await page.click(`#user-${a} button.edit`)
    await page.waitForSelector(`#user-${a} form`)
    assert.match(await text(page, `#user-${a} form h4`), /Edit User/)
    await page.fill(`#user-${a} input[name=name]`, name)
    await page.click(`#user-${a} form button[type=submit]`)
    await page.waitForFunction(([id, name]) =>
      document.querySelector(`#user-${id} h3`).textContent.trim() === name, [a, name])
    assert.equal(await page.$(`#user-${a} form`), null)
    assert.equal(await text(page, "#notice"), `Saved ${name}`)
    assert.equal(await text(page, `#user-${a} small`), "Saved 1 times")
    assert.equal(await text(page, `#user-${b} h3`), `User ${b}`)

    // The parent's attributes reach every card.
    await page.click("#toggle-emails")
    await page.waitForSelector(`#user-${b} .email`)
    assert.equal(await text(page, `#user-${b} .email`), `user${b}@example.com`)

    // send_update from the parent: B becomes a VIP.
    await page.click(`${slot(b)} button.vip`)
    await page.waitForSelector(`#user-${b}.vip .badge`)
    assert.equal(await page.$(`#user-${a}.vip`), null)
    // The card confirms to the parent from its update; the parent's notice follows in a push.
    await page.waitForFunction((id) => document.querySelector("#notice").textContent === `User ${id} is a VIP`, b)
    // B's card kept its own state through all of it.
    assert.equal(await text(page, `#user-${b} button.expand`), "Less")

    // The rename is in the app's database: a new page (a fresh mount) shows it.
    await page.goto(BASE + "/users")
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.equal(await text(page, `#user-${a} h3`), name)
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
    const a = await addUser(page)
    const b = await addUser(page)
    // Cancel is `JS::push("cancel").with_target(@myself)`: the target (the card's cid, as a
    // number) is in the JS command, not in a phx-target of the button, so without it the push
    // would go to the parent view (which has no "cancel" event).
    const cid = await page.$eval(`#user-${b}`, (el) => el.dataset.phxComponent)
    await page.click(`#user-${a} button.edit`)
    await page.click(`#user-${b} button.edit`)
    await page.waitForSelector(`#user-${b} form`)
    await page.waitForSelector(`#user-${a} form`)
    const cancel = await page.$eval(`#user-${b} button.cancel`, (el) => ({
      js: JSON.parse(el.getAttribute("phx-click")),
      target: el.getAttribute("phx-target"),
    }))
    assert.deepEqual(cancel.js, [["push", {event: "cancel", target: Number(cid)}]])
    assert.equal(cancel.target, null)

    await page.click(`#user-${b} button.cancel`)
    await page.waitForFunction((id) => document.querySelector(`#user-${id} form`) === null, b)
    assert.equal(await text(page, `#user-${b} button.edit`), "Edit")
    // Only B's card stopped editing, and the parent view is still joined (not crashed).
    assert.ok(await page.$(`#user-${a} form`), "A is still editing")
    assert.equal(await page.$(".phx-error"), null)
    await page.click(`#user-${a} button.cancel`)
    await page.waitForFunction((id) => document.querySelector(`#user-${id} form`) === null, a)
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
    const cidOf = (id) => page.$eval(`#user-${id}`, (el) => el.dataset.phxComponent)
    const gone = await addUser(page)
    const cid = await cidOf(gone)
    const held = () => page.evaluate(() => Object.keys(window.liveSocket.main.rendered.get().c || {}))
    assert.ok((await held()).includes(cid))

    await page.click(`${slot(gone)} button.delete`)
    await page.waitForFunction((id) => document.querySelector(`#user-${id}`) === null, gone)
    assert.equal(await text(page, "#notice"), `Deleted user ${gone}`)
    // The client reported the card gone (cids_will_destroy, cids_destroyed); the server's
    // reply listed it, so the client pruned it.
    await page.waitForFunction(
      (cid) => !(cid in (window.liveSocket.main.rendered.get().c || {})), cid, {timeout: 5_000})

    // A new user: a new id (ids are never reused), a new card (statics shared with a held
    // card), mounted fresh, with working events.
    const fresh = await addUser(page)
    assert.ok(fresh > gone, `${fresh} after ${gone}`)
    assert.equal(await text(page, `#user-${fresh} h3`), `User ${fresh}`)
    assert.notEqual(await cidOf(fresh), cid)
    await page.click(`#user-${fresh} button.expand`)
    await page.waitForSelector(`#user-${fresh} .details`)
    assert.match(await text(page, `#user-${fresh} .details`), /New here/)
    assert.equal(await page.locator(".details").count(), 1, "only the new card is expanded")

    // The deletion is in the app's database: a new page does not list the user.
    await page.goto(BASE + "/users")
    await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
    assert.equal(await page.$(`#user-${gone}`), null)
    assert.ok(await page.$(`#user-${fresh}`))
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
    const id = await addUser(page)
    const loads = []
    page.on("domcontentloaded", () => loads.push(page.url()))
    await page.click(`#user-${id} button.expand`)
    await page.waitForSelector(`#user-${id} .details button.send-message`)
    await page.click(`#user-${id} button.send-message`)
    await page.waitForSelector("#chat h1")
    assert.equal(await text(page, "#chat h1"), `Chat with User ${id}`)
    assert.equal(new URL(page.url()).pathname, `/chat/${id}`)
    assert.deepEqual(loads, [], "live navigation, no page load")
    await page.waitForSelector("[data-phx-main].phx-connected")
    // Back is live too.
    await page.goBack()
    await page.waitForSelector(`#user-${id}`)
    assert.deepEqual(loads, [], "still no page load")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "users-chat")
    throw e
  } finally {
    await page.close()
  }
})

// The chat's messages are a temporary assign: each render sends only the new message and the
// view forgets it; the page keeps them all (phx-update="append"), through renders that carry
// no message (typing). A page keeping only the host's last batch would show one message.
test("users: chat messages (temporary assigns) stay on the page, in order", async () => {
  const {page, errors} = await openLive(browser, "/users")
  try {
    const id = await addUser(page)
    // What the server sends over the chat page's socket.
    const received = []
    page.on("websocket", (ws) => ws.on("framereceived", ({payload}) => received.push(String(payload))))
    await page.goto(`${BASE}/chat/${id}`)
    await page.waitForSelector("[data-phx-main].phx-connected")
    const messages = () => page.$$eval("#messages > li", (lis) => lis.map((li) => li.textContent))
    assert.deepEqual(await messages(), [`You are now chatting with User ${id}.`])
    for (const [i, said] of ["hello", "how are you?", "bye"].entries()) {
      await page.fill("#chat-form input[name=text]", said)
      await page.press("#chat-form input[name=text]", "Enter")
      await page.waitForSelector(`#sent:text-is('Sent ${i + 1} messages')`)
    }
    await page.waitForFunction(() => document.querySelectorAll("#messages > li").length === 4)
    assert.deepEqual((await messages()).slice(1), ["hello", "how are you?", "bye"])
    // The render of the last message sent it alone: the view kept none of the earlier ones.
    const last = received.filter((frame) => frame.includes('"bye"') && frame.includes("message-"))
    assert.equal(last.length, 1, `one frame carries the message "bye": ${last}`)
    assert.ok(!last[0].includes("how are you?") && !last[0].includes('"hello"'), last[0])
    // Typing renders other assigns only: the messages stay.
    await page.fill("#chat-form input[name=text]", "abc")
    await page.waitForSelector("#draft-length:text-is('3 characters typed')")
    assert.deepEqual((await messages()).slice(1), ["hello", "how are you?", "bye"])
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "users-chat-messages")
    throw e
  } finally {
    await page.close()
  }
})

// "Leave chat" is push_navigate(replace: true): the chat's history entry is replaced by the
// users page, so the history does not grow and Back skips the chat.
test("users: leaving the chat replaces its history entry", async () => {
  const {page, errors} = await openLive(browser, "/users")
  try {
    const id = await addUser(page)
    await page.click(`#user-${id} button.expand`)
    await page.click(`#user-${id} button.chat-now`)
    await page.waitForSelector("#chat #leave")
    await page.waitForSelector("[data-phx-main].phx-connected")
    const length = await page.evaluate(() => history.length)
    await page.click("#leave")
    await page.waitForSelector("#users #add-user")
    assert.equal(new URL(page.url()).pathname, "/users")
    assert.equal(await page.evaluate(() => history.length), length, "replaced, not pushed")
    await page.goBack()
    await page.waitForTimeout(300)
    assert.equal(new URL(page.url()).pathname, "/users", "Back skips the chat")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "users-chat-leave")
    throw e
  } finally {
    await page.close()
  }
})
