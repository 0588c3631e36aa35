// Tenants are neighbours in the browser: two tenants' apps on two origins of one base domain
// (auth.acme.apps.test and auth.globex.apps.test, both the auth example). This test starts its
// own platform host (base domain `apps.test`, which Chromium resolves to 127.0.0.1 here) and
// plays tenant acme as the attacker, from a page of its own app:
// - it cannot read globex's session cookie (host-only, HttpOnly; a credentialed fetch of a
//   globex page is refused by CORS);
// - cookies it plants for the whole base domain (`domain=apps.test`), named like the session
//   cookie (junk, and its own app's valid session), plus a cookie bomb, neither log a globex
//   visitor in (the planted session of alice on acme is no session on globex) nor log out or
//   break a visitor already logged in there (no reload loop, live navigation still works).
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {execFileSync} from "node:child_process"
import {mkdtempSync, rmSync} from "node:fs"
import {tmpdir} from "node:os"
import {join} from "node:path"
import {launch, screenshot, startHost} from "./browser.mjs"

const BIN = process.env.LIVEWASM_BIN
const COMPONENTS = process.env.LIVEWASM_COMPONENTS
const skip = !(BIN && COMPONENTS) && "LIVEWASM_BIN / LIVEWASM_COMPONENTS are not set (cargo xtask test sets them)"
const BASE_DOMAIN = "apps.test"
const SESSION = "_livewasm_session"

let browser, dir, host, port

const cli = (...args) => execFileSync(BIN, args, {encoding: "utf8", env: {...process.env, RUST_LOG: "warn"}})

before(async () => {
  if (skip) return
  dir = mkdtempSync(join(tmpdir(), "livewasm-cookies-"))
  const database = join(dir, "registry.db")
  host = await startHost(["--database", database, "--base-domain", BASE_DOMAIN, "--no-cache"],
    {LIVEWASM_SECRET_KEY: "ef".repeat(32), RUST_LOG: "warn"})
  port = new URL(host.base).port
  const operator = cli("token", "create", "--operator", "--database", database).trim()
  const api = ["--server", host.base, "--token", operator]
  for (const tenant of ["acme", "globex"]) {
    cli("tenant", "create", tenant, ...api)
    cli("app", "create", tenant, "auth", ...api)
    cli("deploy", `${tenant}/auth`, join(COMPONENTS, "auth.wasm"), ...api)
  }
  browser = await launch({loopbackDomains: [BASE_DOMAIN]})
})
after(async () => {
  await browser?.close()
  await host?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const origin = (tenant) => `http://auth.${tenant}.${BASE_DOMAIN}:${port}`
const connected = (page) => page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
const path = (page) => new URL(page.url()).pathname

// A page of `context` that records uncaught errors and every document it loads (a reload
// counts; a live patch, which only changes the history, does not).
async function open(context) {
  const page = await context.newPage()
  page.errors = []
  page.loads = []
  page.on("pageerror", (e) => page.errors.push(e))
  page.on("domcontentloaded", () => page.loads.push(page.url()))
  return page
}

async function logIn(page, tenant, name) {
  await page.goto(origin(tenant) + "/auth/login")
  await connected(page)
  await page.fill("#user_name", name)
  await page.fill("#user_password", "secret")
  await Promise.all([page.waitForNavigation(), page.click("#login-form button")])
  await connected(page)
  assert.equal(await page.textContent("#current-user"), `Signed in as ${name}`)
}

// The session cookies `context` holds for `tenant`'s app origin (host-only ones only).
async function ownSessionCookies(context, tenant) {
  const host = `auth.${tenant}.${BASE_DOMAIN}`
  return (await context.cookies(origin(tenant))).filter((c) => c.name === SESSION && c.domain === host)
}

// `document.cookie = ...` hands the cookie to the browser's cookie store asynchronously, so
// the store can answer before the last of a burst of writes lands: the cookies `context`
// would send to `url`, once it holds at least `count` of them (or after 5 s, as they are).
async function settledCookies(context, url, count) {
  const deadline = Date.now() + 5_000
  for (;;) {
    const cookies = await context.cookies(url)
    if (cookies.length >= count || Date.now() > deadline) return cookies
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

// From a page of acme's app: plants cookies for the whole base domain — the session cookie's
// name with junk and with `stolen` (a session value acme's app signed), on the paths the
// browser sends first, and a bomb of other names (kept under Chromium's per-domain cookie cap).
async function plant(page, stolen) {
  return page.evaluate(({name, domain, stolen}) => {
    const set = (value, path) => { document.cookie = `${name}=${value}; domain=${domain}; path=${path}` }
    set("planted-by-acme", "/")
    set(stolen, "/auth")
    set("x".repeat(3000), "/auth/")
    for (let i = 0; i < 30; i++) document.cookie = `bomb${i}=${"b".repeat(3000)}; domain=${domain}; path=/`
  }, {name: SESSION, domain: BASE_DOMAIN, stolen})
}

test("cookies: one tenant's page can neither read nor plant another tenant's session", {skip}, async () => {
  const victim = await browser.newContext()
  const attacker = await browser.newContext()
  const pages = []
  try {
    // A visitor logged in on globex as bob.
    const globex = await open(victim)
    pages.push(globex)
    await logIn(globex, "globex", "bob")
    const [bobCookie] = await ownSessionCookies(victim, "globex")
    assert.ok(bobCookie, "globex set its session cookie")
    assert.equal(bobCookie.httpOnly, true)
    assert.equal(bobCookie.domain, `auth.globex.${BASE_DOMAIN}`, "host-only")

    // The attacker's own browser: alice logged in on acme gives a session acme signed.
    const own = await open(attacker)
    pages.push(own)
    await logIn(own, "acme", "alice")
    const [stolen] = await ownSessionCookies(attacker, "acme")
    assert.ok(stolen)

    // The same visitor opens a page of acme's app.
    const acme = await open(victim)
    pages.push(acme)
    await acme.goto(origin("acme") + "/auth")
    await connected(acme)
    // It cannot read globex's cookie, nor a globex page with the visitor's cookies.
    const seen = await acme.evaluate(() => document.cookie)
    assert.ok(!seen.includes(bobCookie.value), "acme's page reads globex's session")
    assert.ok(!seen.includes(`${SESSION}=`), "the session cookie is HttpOnly")
    const read = await acme.evaluate(async (url) => {
      try {
        return await (await fetch(url, {credentials: "include"})).text()
      } catch (e) {
        return `refused: ${e.name}`
      }
    }, origin("globex") + "/auth/profile")
    assert.match(read, /^refused/, "a cross-origin read of a globex page")

    // It plants cookies for the base domain; the browser now sends them to globex too.
    await plant(acme, stolen.value)
    const sentToGlobex = await settledCookies(victim, origin("globex") + "/auth/profile", 34)
    assert.equal(sentToGlobex.filter((c) => c.name === SESSION).length, 4,
      "the three planted session cookies reach globex's origin beside its own")
    assert.equal(sentToGlobex.filter((c) => c.name.startsWith("bomb")).length, 30)

    // globex still knows bob: same cookie, no new session, no reload loop, live navigation works.
    globex.loads.length = 0
    await globex.goto(origin("globex") + "/auth/profile")
    await connected(globex)
    assert.equal(await globex.textContent("#current-user"), "Signed in as bob")
    await globex.click("#settings-link")
    await globex.waitForFunction(() => document.querySelector("h1").textContent === "Settings")
    await globex.waitForTimeout(1_500)
    assert.equal(globex.loads.length, 1, `no reloads: ${globex.loads}`)
    assert.ok(await globex.$("[data-phx-main].phx-connected"), "still connected")
    const [after] = await ownSessionCookies(victim, "globex")
    assert.equal(after.value, bobCookie.value, "the session was kept")

    // A fresh visitor with only the planted cookies: alice's acme session is no session on
    // globex (the profile sends them to log in), and logging in there still works.
    const fresh = await browser.newContext()
    try {
      const bait = await open(fresh)
      pages.push(bait)
      await bait.goto(origin("acme") + "/auth")
      await connected(bait)
      await plant(bait, stolen.value)
      const planted = await settledCookies(fresh, origin("globex") + "/auth/profile", 33)
      assert.equal(planted.filter((c) => c.name === SESSION).length, 3)
      const target = await open(fresh)
      pages.push(target)
      await target.goto(origin("globex") + "/auth/profile")
      await connected(target)
      assert.equal(path(target), "/auth/login")
      assert.equal(await target.textContent("#flash-error"), "You must log in to access this page.")
      await logIn(target, "globex", "bob")
      assert.equal(path(target), "/auth/profile")
      target.loads.length = 0
      await target.waitForTimeout(1_500)
      assert.deepEqual(target.loads, [], "no reloads")
      assert.ok(await target.$("[data-phx-main].phx-connected"), "still connected")
    } finally {
      await fresh.close()
    }
    for (const page of pages) assert.deepEqual(page.errors, [], "no uncaught page errors")
  } catch (e) {
    for (const [i, page] of pages.entries()) await screenshot(page, `cookies-${i}`)
    throw e
  } finally {
    await victim.close()
    await attacker.close()
  }
})
