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

const path = process.argv[2];
if (!path) fail("usage: node tests/conformance/check.mjs CASES.json");
const cases = JSON.parse(readFileSync(path, "utf8"));
const Rendered = await loadRendered();
const version = JSON.parse(readFileSync(join(lvDir, "package.json"), "utf8")).version;

let steps = 0;
for (const { name, steps: sequence } of cases) {
  let rendered = null;
  sequence.forEach((step, i) => {
    const { diff, title } = Rendered.extract(structuredClone(step.diff));
    if (rendered === null) {
      rendered = new Rendered("phx-conformance", diff);
    } else {
      rendered.mergeDiff(diff);
    }
    const html = rendered.toString().buffer;
    if (html !== step.html) {
      fail(
        `case "${name}", step ${i}: the official client renders\n  ${html}\n` +
          `but the server's tree is\n  ${step.html}\n` +
          `after the diff\n  ${JSON.stringify(step.diff)}`,
      );
    }
    if ((title ?? null) !== (step.title ?? null)) {
      fail(`case "${name}", step ${i}: title ${title} != ${step.title}`);
    }
    steps += 1;
  });
}
console.log(
  `conformance: phoenix_live_view ${version} agrees with the server on ${cases.length} cases, ${steps} steps`,
);
