// Stream conformance at the DOM level: replays the stream cases (those marked `dom`) through the
// official client running in headless Chromium — its Rendered merge *and* its DOM patch, where
// stream inserts, limits, deletes and resets are applied — and checks after every step that the
// stream container shows exactly the ids our own client model (host/protocol's stream_dom, which
// the test harness uses) says it shows.
//
// The page is served by request interception, its container holding the case's first render
// as the host's dead render would, and the LiveView channel is a fake WebSocket server inside
// Playwright: it answers the join with the case's first render (so, as in production, the
// join patch clears the dead-rendered stream items and inserts them again); later steps are
// handed to the view the way a `diff` push is (`applyDiff` + `update`), so each is patched
// synchronously.
//
// Usage: node tests/conformance/stream_dom.mjs CASES.json [MAX_CASES]
// Needs Chromium (/usr/bin/chromium, or $CHROMIUM) and tests/browser's npm packages.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(root, "tests", "browser", "package.json"));
const { chromium } = require("playwright-core");

function fail(message) {
  console.error(message);
  process.exit(1);
}

const [path, max] = process.argv.slice(2);
if (!path) fail("usage: node tests/conformance/stream_dom.mjs CASES.json [MAX_CASES]");
const cases = JSON.parse(readFileSync(path, "utf8"))
  .filter((c) => c.dom)
  .slice(0, max ? Number(max) : undefined);
const bundle = readFileSync(join(root, "client-js", "dist", "livewasm.js"), "utf8");

const ORIGIN = "http://conformance.localhost";
const VIEW = "phx-conformance";
const page = (dead) => `<!doctype html><html><head><meta name="csrf-token" content="csrf"></head>
<body><div id="${VIEW}" data-phx-main data-phx-session="session" data-phx-static="">${dead}</div>
<script src="/assets/livewasm.js"></script></body></html>`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
});
let steps = 0;
// The case being replayed: its first render (the join reply) and that render's HTML.
let joinRender = null;
let dead = "";
try {
  const context = await browser.newContext();
  await context.route(`${ORIGIN}/**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === "/assets/livewasm.js") {
      return route.fulfill({ contentType: "text/javascript", body: bundle });
    }
    return route.fulfill({ contentType: "text/html", body: page(dead) });
  });
  const tab = await context.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e));
  await tab.routeWebSocket(/\/live\/websocket/, (ws) => {
    ws.onMessage((text) => {
      const [joinRef, ref, topic, event] = JSON.parse(text);
      const reply = (response) =>
        ws.send(JSON.stringify([joinRef, ref, topic, "phx_reply", { status: "ok", response }]));
      if (event === "phx_join") {
        reply({ rendered: structuredClone(joinRender), liveview_version: "conformance" });
      } else {
        reply({});
      }
    });
  });
  const shown = () =>
    tab.evaluate(() => [...document.querySelectorAll("#items > *")].map((el) => el.id));

  for (const { name, steps: sequence } of cases) {
    joinRender = sequence[0].diff;
    dead = sequence[0].html;
    await tab.goto(`${ORIGIN}/`);
    await tab.waitForSelector(`#${VIEW}.phx-connected`, { timeout: 10_000 });
    for (const [i, step] of sequence.entries()) {
      if (i > 0) {
        await tab.evaluate((diff) => {
          const view = window.liveSocket.main;
          view.applyDiff("update", diff, ({ diff, events }) => view.update(diff, events));
        }, step.diff);
      }
      const ids = await shown();
      if (JSON.stringify(ids) !== JSON.stringify(step.stream_ids)) {
        fail(
          `case "${name}", step ${i}: the official client's DOM shows ${JSON.stringify(ids)}, ` +
            `our model ${JSON.stringify(step.stream_ids)}\n  after the diff ${JSON.stringify(step.diff)}`,
        );
      }
      steps += 1;
    }
    if (errors.length > 0) fail(`case "${name}": page errors: ${errors.join("; ")}`);
  }
} finally {
  await browser.close();
}
console.log(
  `stream DOM conformance: the official client's DOM patch agrees with our model on ${cases.length} cases, ${steps} steps`,
);
