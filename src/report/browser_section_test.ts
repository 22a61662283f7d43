import assert from "node:assert/strict";
import { browserFindings, browserSections, substitutionsOf } from "./browser_section.ts";
import { renderRunReport } from "./run_report.ts";
import type { RunData } from "./run_data.ts";
import { emptyCell } from "../result.ts";

const CELL = {
  ...emptyCell({
    key: "k",
    suite: "lazy-neuron",
    model: "m",
    model_sha256: "0".repeat(64),
    dataset: "fmnist",
    dataset_hash: "1".repeat(64),
    target: "ort-wasm",
    device: "cpu",
    method: "dense",
    params: "{}",
    sparsity_target: null,
    metric: "accuracy",
  }),
  status: "completed" as const,
};

const BROWSER = {
  userAgent: "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/150.0.0.0 <b>x</b>",
  crossOriginIsolated: true,
  hardwareConcurrency: 2,
  wasmThreads: 1,
  adapter: {
    vendor: "google",
    architecture: "swiftshader",
    description: "google swiftshader",
    isFallbackAdapter: true,
    features: ["subgroups", "timestamp-query"],
    maxStorageBufferBindingSize: 1073741824,
  },
  page: "?autostart=1",
};

const SUBS = [
  { suite: "lazy-neuron", role: "accuracy", from: "ort-node", to: "ort-wasm" },
  { suite: "lazy-neuron", role: "timing", from: "ort-node", to: "ort-wasm" },
  { suite: "mlp-mnist", role: "calibration", from: "ort-node", to: "ort-wasm" },
];

function runOf(extra: Record<string, unknown>): RunData {
  return {
    id: "r1",
    run: { runId: "r1", status: "finished", environment: {}, ...extra },
    cells: [CELL],
  };
}

Deno.test("a browser run's report shows its browser and a table of its substitutions", async () => {
  const page = (await renderRunReport(runOf({ browser: { ...BROWSER, substitutions: SUBS } })))
    // The html tag indents markup; compare it without the whitespace between tags.
    .replace(/>\s+</g, "><");
  assert.match(page, /<h2>Browser and substitutions<\/h2>/);
  assert.match(
    page,
    /<dt>WebGPU adapter<\/dt><dd>google swiftshader \(software fallback adapter\)<\/dd>/,
  );
  assert.match(page, /<dt>crossOriginIsolated<\/dt>\s*<dd>yes /);
  assert.match(page, /<dt>max storage buffer \(MiB\)<\/dt>\s*<dd>1024<\/dd>/);
  // One row per suite and pair of targets, with every role it covers.
  assert.match(
    page,
    /<tr><td>lazy-neuron<\/td><td>ort-node<\/td><td>ort-wasm<\/td><td>accuracy, timing<\/td><\/tr>/,
  );
  assert.match(
    page,
    /<tr><td>mlp-mnist<\/td><td>ort-node<\/td><td>ort-wasm<\/td><td>calibration<\/td><\/tr>/,
  );
  assert.match(
    page,
    /<p class="warn">This run ran in a browser page, which ran ort-wasm for ort-node in 2 suite\(s\) \(lazy-neuron, mlp-mnist\)/,
  );
  // The user agent is text, not markup.
  assert.ok(page.includes("HeadlessChrome/150.0.0.0 &lt;b&gt;x&lt;/b&gt;"));
  assert.ok(!page.includes("<b>x</b>"));
});

Deno.test("a browser run without substitutions shows its browser but no table or banner", async () => {
  const page = await renderRunReport(
    runOf({
      browser: {
        ...BROWSER,
        crossOriginIsolated: false,
        adapter: null,
        adapterError: "no adapter",
      },
    }),
  );
  assert.match(page, /<h2>Browser and substitutions<\/h2>/);
  assert.match(page, /<dd>none \(no adapter\)<\/dd>/);
  assert.match(page, /<dt>crossOriginIsolated<\/dt>\s*<dd>no /);
  assert.ok(!page.includes('class="substitutions"'));
  assert.ok(!page.includes("This run ran in a browser page"));
});

Deno.test("a Deno run's report has nothing of the browser", async () => {
  const run = runOf({});
  assert.deepEqual(browserSections(run.run), []);
  assert.deepEqual(browserFindings(run.run), []);
  assert.deepEqual(substitutionsOf(run.run), []);
  const page = await renderRunReport(run);
  assert.ok(!page.includes("Browser and substitutions"));
  assert.ok(!page.includes("substitution"));
  assert.ok(!page.includes("browser page"));
});

Deno.test("substitutionsOf() drops entries that are not objects", () => {
  const run = { browser: { substitutions: [null, 3, "x", SUBS[0]] } };
  assert.deepEqual(substitutionsOf(run), [SUBS[0]]);
  assert.deepEqual(substitutionsOf({ browser: { substitutions: "oops" } }), []);
});
