// Shared helpers for the browser tests: launch Debian's Chromium headless and open a page of the
// host under test (LIVEWASM_URL), failing the test on any uncaught page error.
import {chromium} from "playwright-core"
import {spawn} from "node:child_process"
import {mkdirSync} from "node:fs"
import {createServer} from "node:net"
import {join} from "node:path"

export const BASE = process.env.LIVEWASM_URL || "http://127.0.0.1:4000"
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium"

// Playwright gives each launch a fresh temporary profile. `loopbackDomains` are further
// domains whose subdomains resolve to 127.0.0.1 (a test's own base domain, e.g. `apps.test`).
export async function launch({loopbackDomains = []} = {}) {
  const rules = ["localhost", ...loopbackDomains].map((d) => `MAP *.${d} 127.0.0.1`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync",
      // App origins are <app>.<tenant>.localhost: always loopback, never DNS.
      `--host-resolver-rules=${rules.join(", ")}`,
    ],
  })
}

// Opens `path` and waits until the main LiveView is connected. Returns {page, errors}.
export async function openLive(browser, path) {
  const page = await browser.newPage()
  const errors = []
  page.on("pageerror", (e) => errors.push(e))
  await page.goto(BASE + path)
  await page.waitForSelector("[data-phx-main].phx-connected", {timeout: 10_000})
  return {page, errors}
}

// Saves a screenshot under target/browser/ (for failures).
export async function screenshot(page, name) {
  const dir = new URL("../../target/browser/", import.meta.url).pathname
  mkdirSync(dir, {recursive: true})
  await page.screenshot({path: join(dir, `${name}.png`)}).catch(() => {})
}

// Waits for `document.title` to read `title`. The official client applies a title from a diff
// in the next animation frame, after the DOM patch, so a test that saw the new DOM must still
// wait for the title.
export async function waitTitle(page, title) {
  await page.waitForFunction((t) => document.title === t, title, {timeout: 10_000})
}

// A free loopback port.
export const freePort = () => new Promise((resolve, reject) => {
  const server = createServer()
  server.on("error", reject)
  server.listen(0, "127.0.0.1", () => {
    const {port} = server.address()
    server.close(() => resolve(port))
  })
})

// Starts a host of its own for a test: `livewasm serve --listen <free port> ...args` (the
// binary xtask built, LIVEWASM_BIN, unless `bin` names another), resolved once it answers
// /health. Returns {base, port, process, log()}; `stop()` ends it and waits for the exit.
export async function startHost(args, env = {}, {bin = process.env.LIVEWASM_BIN} = {}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let log = ""
  const child = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`, ...args],
    {stdio: ["ignore", "pipe", "pipe"], env: {...process.env, ...env}})
  child.stdout.on("data", (d) => { log += d })
  child.stderr.on("data", (d) => { log += d })
  const started = Date.now()
  for (;;) {
    try {
      if ((await fetch(base + "/health")).ok) break
    } catch {}
    if (Date.now() - started > 30_000) {
      child.kill()
      throw new Error(`the host did not start:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const stop = async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.kill("SIGTERM")
    await exited
  }
  return {base, port, process: child, log: () => log, stop}
}
