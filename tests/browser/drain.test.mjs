// Draining in a real browser (issue 14): two hosts, A and B, serve the thermostat with the same
// signing key behind a tiny loopback proxy (a TCP proxy, as a load balancer's: each new
// connection, HTTP or WebSocket, goes to the first backend, B then A, whose /health/ready answers
// 200). The page is opened through the proxy, so it is served by B; the test raises the
// temperature, sends SIGTERM to B and checks, in Chromium with the official LiveView client:
// - B exits within its drain timeout, having closed the page's socket with 1012;
// - the client reconnects by itself, through the proxy, to A, and the same document (no reload)
//   is connected again (`.phx-connected`, no error class) and usable: a click changes the value;
// - nothing the host acknowledged was lost beyond LiveView's semantics (see the comments there).
//
// It starts its own hosts: the binary and components xtask passes (LIVEWASM_BIN,
// LIVEWASM_COMPONENTS), else those of a local build (target/debug/livewasm,
// target/components/); it needs no shared host (LIVEWASM_URL).
import {test, before, after} from "node:test"
import assert from "node:assert/strict"
import {existsSync, mkdtempSync, rmSync, writeFileSync} from "node:fs"
import {get} from "node:http"
import {connect, createServer} from "node:net"
import {randomBytes} from "node:crypto"
import {tmpdir} from "node:os"
import {join} from "node:path"
import {launch, screenshot, startHost} from "./browser.mjs"

const REPO = new URL("../../", import.meta.url).pathname
const BIN = process.env.LIVEWASM_BIN || join(REPO, "target/debug/livewasm")
const COMPONENTS = process.env.LIVEWASM_COMPONENTS || join(REPO, "target/components")
const APP = join(COMPONENTS, "thermostat.wasm")
const skip = !(existsSync(BIN) && existsSync(APP)) &&
  `no ${BIN} or ${APP}: run \`cargo build -p livewasm\` and \`cargo xtask build thermostat\``

// B's drain timeout: it has nothing in flight, so it should exit well within it.
const DRAIN_TIMEOUT_S = 10
const ROOT = "[data-phx-main]"
const ERROR_CLASSES = ["phx-error", "phx-client-error", "phx-server-error", "phx-loading"]

let browser, dir, a, b, proxy

// Readiness as a load balancer probes it: a fresh connection, a short timeout, 200 or not.
const ready = (port) => new Promise((resolve) => {
  const request = get({host: "127.0.0.1", port, path: "/health/ready", agent: false, timeout: 1_000},
    (response) => { response.resume(); resolve(response.statusCode === 200) })
  request.on("timeout", () => request.destroy())
  request.on("error", () => resolve(false))
})

// The proxy: listens on a free loopback port; each accepted connection is piped, bytes as they
// come (so WebSocket upgrades pass as well), to the first of `backends` ({name, port}) that is
// ready, or answered 502 when none is. `log` lists each connection: {backend, line} (the
// request line it began with).
function startProxy(backends) {
  const log = []
  const open = new Set()
  const track = (socket) => { open.add(socket); socket.on("close", () => open.delete(socket)) }
  const server = createServer(async (client) => {
    track(client)
    const entry = {backend: null, line: null}
    log.push(entry)
    const early = []
    const hold = (chunk) => early.push(chunk)
    client.on("data", hold)
    client.once("data", (chunk) => { entry.line = chunk.toString("latin1").split("\r\n")[0] })
    client.on("error", () => {})
    let backend = null
    for (const candidate of backends) {
      if (await ready(candidate.port)) { backend = candidate; break }
    }
    if (client.destroyed) return
    if (!backend) {
      entry.backend = "none"
      client.off("data", hold)
      client.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
      return
    }
    entry.backend = backend.name
    const upstream = connect(backend.port, "127.0.0.1")
    track(upstream)
    upstream.on("error", () => client.destroy())
    client.on("error", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
    client.on("close", () => upstream.destroy())
    client.off("data", hold)
    for (const chunk of early) upstream.write(chunk)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  return new Promise((resolve, reject) => {
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => resolve({
      base: `http://127.0.0.1:${server.address().port}`,
      log,
      close: () => new Promise((done) => {
        for (const socket of open) socket.destroy()
        server.close(() => done())
      }),
    }))
  })
}

before(async () => {
  if (skip) return
  dir = mkdtempSync(join(tmpdir(), "livewasm-drain-"))
  // Same key on both hosts: A must accept the page B rendered (its signed session and static
  // tokens) when the client rejoins there, as hosts behind one load balancer do.
  const key = join(dir, "secret-key")
  writeFileSync(key, randomBytes(32).toString("hex"))
  const args = ["--secret-key-file", key, "--cache-dir", join(dir, "cache"), "--app", APP,
    "--drain-timeout-secs", String(DRAIN_TIMEOUT_S)]
  // One after the other: A loads what B compiled from the shared artifact cache.
  b = await startHost(args, {}, {bin: BIN})
  a = await startHost(args, {}, {bin: BIN})
  proxy = await startProxy([{name: "B", port: b.port}, {name: "A", port: a.port}])
  browser = await launch()
})

after(async () => {
  await browser?.close()
  await proxy?.close()
  await b?.stop()
  await a?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const temperature = (page) => page.textContent(".temperature")
const showing = (page, degrees) => page.waitForFunction(
  (d) => document.querySelector(".temperature")?.textContent === `Temperature: ${d}°F`, degrees,
  {timeout: 10_000})

// The + button is throttled (phx-throttle="1000"): a click within a second of the last one
// would be held back, so each click waits that second out.
let lastClick = 0
async function clickPlus(page) {
  const wait = lastClick + 1_100 - Date.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  await page.click("button:text-is('+')")
  lastClick = Date.now()
}

test("drain: the page on B rejoins on A through the proxy when B drains", {skip, timeout: 120_000}, async () => {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  // Every WebSocket the page opens, with how it closed (Playwright does not tell the code).
  await page.addInitScript(() => {
    const Native = window.WebSocket
    const seen = (window.__sockets = [])
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args)
        const socket = {url: String(args[0]), open: false, close: null}
        seen.push(socket)
        this.addEventListener("open", () => { socket.open = true })
        this.addEventListener("close", (e) => { socket.close = {code: e.code, reason: e.reason} })
      }
    }
  })
  // The Phoenix frames of each socket, in order: [join_ref, ref, topic, event, payload].
  const sockets = []
  page.on("websocket", (ws) => {
    const frames = {url: ws.url(), sent: [], received: [], closed: false}
    sockets.push(frames)
    ws.on("framesent", ({payload}) => frames.sent.push(JSON.parse(payload)))
    ws.on("framereceived", ({payload}) => frames.received.push(JSON.parse(payload)))
    ws.on("close", () => { frames.closed = true })
  })
  const liveSockets = () => proxy.log.filter((c) => c.line?.startsWith("GET /live/websocket"))
  try {
    await page.goto(proxy.base + "/thermostat?house=7")
    await page.waitForSelector(`${ROOT}.phx-connected`, {timeout: 10_000})
    assert.equal(await temperature(page), "Temperature: 70°F")
    assert.deepEqual(liveSockets().map((c) => c.backend), ["B"], "the page's socket went to B")
    assert.ok(proxy.log.filter((c) => c.line?.startsWith("GET /thermostat")).every((c) => c.backend === "B"),
      "the page was served by B")

    // State on B: 71, acknowledged by B (its reply carried the diff the page shows).
    await clickPlus(page)
    await showing(page, 71)
    await page.evaluate(() => { window.__sameDocument = true })

    const before = proxy.log.length
    const started = Date.now()
    const exited = new Promise((resolve) => b.process.once("exit", (code, signal) => resolve({code, signal})))
    b.process.kill("SIGTERM")
    const exit = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r(null), (DRAIN_TIMEOUT_S + 5) * 1_000)),
    ])
    const took = Date.now() - started
    assert.ok(exit, `B exited after SIGTERM (still running after ${took} ms):\n${b.log()}`)
    assert.ok(took < DRAIN_TIMEOUT_S * 1_000, `B exited within its drain timeout (${took} ms)`)
    assert.deepEqual(exit, {code: 0, signal: null}, `B exited cleanly:\n${b.log()}`)
    console.log(`B drained and exited ${took} ms after SIGTERM`)

    // B told the page's socket to reconnect: close code 1012, "service restart".
    await page.waitForFunction(() => window.__sockets[0]?.close, null, {timeout: 10_000})
    const first = await page.evaluate(() => window.__sockets[0])
    assert.equal(first.close.code, 1012, `B closed the socket with 1012: ${JSON.stringify(first)}`)

    // The client reconnects by itself, through the proxy, now to A, and the view is connected
    // again: a new socket is open and the root has phx-connected and no error class.
    await page.waitForFunction(([root, bad]) => {
      const el = document.querySelector(root)
      return window.__sockets.length >= 2 && window.__sockets.at(-1).open && !window.__sockets.at(-1).close &&
        el?.classList.contains("phx-connected") && !bad.some((c) => el.classList.contains(c))
    }, [ROOT, ERROR_CLASSES], {timeout: 20_000})
    const after = proxy.log.slice(before)
    assert.ok(after.length > 0, "the browser came back through the proxy")
    assert.deepEqual([...new Set(after.map((c) => c.backend))], ["A"],
      `every connection after the drain went to A: ${JSON.stringify(after)}`)
    assert.equal(liveSockets().at(-1).backend, "A", "the page's new socket is on A")
    // A rejoin of the same document, not a page load: A accepted the tokens B signed.
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded")

    // Nothing acknowledged then lost: every event the page pushed to B got B's ok reply on that
    // socket before B closed it (a frame sent after the drain began would get no reply at all,
    // so the client never takes it as done).
    const onB = sockets[0]
    const events = onB.sent.filter((f) => f[3] === "event")
    assert.equal(events.length, 1, "one click went to B")
    for (const event of events) {
      const reply = onB.received.find((f) => f[3] === "phx_reply" && f[1] === event[1])
      assert.equal(reply?.[4]?.status, "ok", `B replied to ${JSON.stringify(event)}: ${JSON.stringify(reply)}`)
    }
    // What LiveView's semantics say about the rest: a view's state lives in its instance,
    // which went with B, so the rejoin on A is a fresh mount from the same URL and session. The
    // page shows mount state (70°F, not B's acknowledged 71) for the house from the URL (7);
    // the thermostat has no form, so there is nothing for the client to recover.
    await showing(page, 70)
    assert.match(await page.textContent("h1"), /House 7 - 70°F/)

    // Usable on A: a click changes the value again, answered on the new socket.
    await clickPlus(page)
    await showing(page, 71)
    const onA = sockets.at(-1)
    assert.ok(sockets.length >= 2 && onA !== onB, "a second socket")
    const click = onA.sent.find((f) => f[3] === "event")
    assert.ok(click, "the click went out on the new socket")
    assert.ok(onA.received.some((f) => f[3] === "phx_reply" && f[1] === click[1] && f[4]?.status === "ok"),
      "A replied to the click")
    assert.deepEqual(errors, [], "no uncaught page errors")
  } catch (e) {
    await screenshot(page, "drain")
    console.log(`proxy log: ${JSON.stringify(proxy.log)}\n--- B:\n${b.log()}\n--- A:\n${a.log()}`)
    throw e
  } finally {
    await page.close()
  }
})
