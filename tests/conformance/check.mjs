// Diff conformance against the official client: loads phoenix_live_view's own Rendered class
// (the code the browser runs to merge diffs), feeds it each case's join render and then its
// diffs, and checks that the HTML it renders equals our server's render after every step.
//
// Usage: node tests/conformance/check.mjs CASES.json
// (CASES.json comes from `cargo run -p livewasm-protocol --example conformance_cases`.)

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const clientDir = join(root, "client-js");
const require = createRequire(join(clientDir, "package.json"));
const esbuild = require("esbuild");
const lvDir = join(clientDir, "node_modules", "phoenix_live_view");
const entry = join(lvDir, "assets/js/phoenix_live_view/rendered.js");

async function loadRendered() {
  if (!existsSync(entry)) {
    fail(`${entry} is missing: run \`npm ci --prefix client-js\` (cargo xtask test does)`);
  }
  const built = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "error",
  });
  // The merge code reads `window` (for structuredClone); Node has the same globals.
  globalThis.window ??= globalThis;
  const dir = mkdtempSync(join(tmpdir(), "livewasm-conformance-"));
  const file = join(dir, "rendered.mjs");
  writeFileSync(file, built.outputFiles[0].text);
  const mod = await import(pathToFileURL(file).href);
  rmSync(dir, { recursive: true, force: true });
  return mod.default;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

// The key of the components map in a rendered tree (phoenix_live_view's constants: "c").
const COMPONENTS = "c";

const path = process.argv[2];
if (!path) fail("usage: node tests/conformance/check.mjs CASES.json");
const cases = JSON.parse(readFileSync(path, "utf8"));
const Rendered = await loadRendered();
const version = JSON.parse(readFileSync(join(lvDir, "package.json"), "utf8")).version;

// The client stamps every component's root element with these; our own HTML has none of them.
const injected = / data-phx-(?:id|component|view)="[^"]*"/g;
const componentIds = (html) =>
  [...html.matchAll(/ data-phx-component="(\d+)"/g)].map((m) => Number(m[1]));

let steps = 0;
for (const { name, steps: sequence } of cases) {
  let rendered = null;
  sequence.forEach((step, i) => {
    if (step.destroy !== undefined) {
      // The client got the reply to `cids_destroyed`: it prunes what the server removed.
      rendered.pruneCIDs(step.removed);
      const left = Object.keys(rendered.get()[COMPONENTS] ?? {}).map(Number);
      const gone = step.removed.filter((cid) => left.includes(cid));
      if (gone.length > 0) fail(`case "${name}", step ${i}: components ${gone} still held`);
    } else {
      const { diff, title } = Rendered.extract(structuredClone(step.diff));
      if (rendered === null) {
        rendered = new Rendered("phx-conformance", diff);
      } else {
        rendered.mergeDiff(diff);
      }
      if ((title ?? null) !== (step.title ?? null)) {
        fail(`case "${name}", step ${i}: title ${title} != ${step.title}`);
      }
    }
    const { buffer: full, streams } = rendered.toString();
    // The streams the client hands to its DOM patch (inserts, deletes, reset) are exactly the
    // operations the view made, in document order.
    if (step.streams !== undefined) {
      const got = JSON.stringify([...streams]);
      if (got !== JSON.stringify(step.streams)) {
        fail(`case "${name}", step ${i}: the client patches streams ${got}, expected ${JSON.stringify(step.streams)}`);
      }
    }
    // Every component's root got its cid (the diff's `r: 1` is what makes the client do it).
    const cids = componentIds(full);
    if (step.cids !== undefined && JSON.stringify(cids) !== JSON.stringify(step.cids)) {
      fail(
        `case "${name}", step ${i}: the client stamped components ${JSON.stringify(cids)}, ` +
          `the page shows ${JSON.stringify(step.cids)}\n  ${full}`,
      );
    }
    const html = full.replace(injected, "");
    if (html !== step.html) {
      fail(
        `case "${name}", step ${i}: the official client renders\n  ${html}\n` +
          `but the server's tree is\n  ${step.html}\n` +
          `after the diff\n  ${JSON.stringify(step.diff ?? step)}`,
      );
    }
    if (step.full !== undefined) {
      // A join at this point (our complete render, components included) renders the same.
      const joined = new Rendered("phx-conformance", structuredClone(step.full)).toString().buffer;
      if (joined.replace(injected, "") !== step.html) {
        fail(`case "${name}", step ${i}: a join renders\n  ${joined}\nnot\n  ${step.html}`);
      }
    }
    steps += 1;
  });
}
console.log(
  `conformance: phoenix_live_view ${version} agrees with the server on ${cases.length} cases, ${steps} steps`,
);
