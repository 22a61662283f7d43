import assert from "node:assert/strict";
import { renderRunReport, writeRunReport } from "./run_report.ts";
import { writeIndex } from "./index_page.ts";
import { readRun } from "./run_data.ts";
import { codeDifferences, compareRuns } from "./compare.ts";
import { renderCompareReport } from "./compare_report.ts";
import { emptyCell } from "../result.ts";
import type { CellResult } from "../result.ts";
import { STUDY_REPORTS } from "../../suites/reports.ts";
import { HAS_CHROMIUM, paintedPixels, withPages } from "./chromium.ts";

function cell(over: Partial<CellResult>): CellResult {
  return {
    ...emptyCell({
      key: crypto.randomUUID(),
      suite: "demo",
      model: "m<script>alert(1)</script>",
      model_sha256: "0".repeat(64),
      dataset: "mnist",
      dataset_hash: "1".repeat(64),
      target: "ort-wasm",
      device: 'CPU "quoted" & <b>bold</b>',
      method: "dense",
      params: "{}",
      sparsity_target: null,
      metric: "accuracy",
    }),
    ...over,
  };
}

Deno.test({
  name: "the HTML report draws every chart in headless Chromium, offline, without console errors",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const cells: CellResult[] = [
    cell({
      accuracy: 0.98,
      accuracy_dense: 0.98,
      speedup: 1,
      flops_reduction: 1,
      time_median_ms: 1,
    }),
  ];
  for (const target of ["ort-wasm", "wgsl"]) {
    for (const [s, acc] of [[0.5, 0.975], [0.8, 0.95]] as [number, number][]) {
      cells.push(cell({
        target,
        method: "teal",
        sparsity_target: s,
        sparsity_realized: s + 0.01,
        flops_reduction: 1 / (1 - s),
        speedup: target === "wgsl" ? 1.5 : 0.9,
        speedup_ci_low: 0.8,
        speedup_ci_high: 1.7,
        accuracy: acc,
        accuracy_dense: 0.98,
        time_median_ms: 0.7,
        layer_density: { "/fc1/Gemm": 1 - s, "/fc2/Gemm": 0.4 },
        error: "</script><script>window.__pwned = true</script>",
      }));
    }
  }
  const html = await renderRunReport({
    id: "test-run",
    run: {
      runId: "test-run",
      status: "finished",
      commandLine: ["deno", "task", "bench"],
      environment: { deno: "2.9.6" },
      backends: {},
    },
    cells,
  });
  assert.ok(!html.includes("<script>alert(1)</script>"), "model names must be escaped");
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/index.html`, html);
  await withPages([`${dir}/index.html`], async (page, log) => {
    const canvases = await paintedPixels(page);
    assert.ok(canvases.length >= 4, `expected at least 4 charts, got ${canvases.length}`);
    canvases.forEach((painted, i) => assert.ok(painted > 1000, `chart ${i} is blank`));
    // Each chart's SVG link saves a standalone SVG file from the page opened from disk.
    for (let i = 0; i < canvases.length; i++) {
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click(`#svg-${i}`),
      ]);
      assert.match(download.suggestedFilename(), /\.svg$/);
      const svg = await Deno.readTextFile(await download.path());
      assert.match(svg, /^<\?xml [^\n]*\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.ok(svg.trimEnd().endsWith("</svg>"), `chart ${i}'s SVG is complete`);
    }
    assert.deepEqual(log.errors, []);
    assert.deepEqual(log.requests, [], "the report must not make network requests");
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: boolean }).__pwned ?? false),
      false,
    );
  });
});

/** Payloads that would run script if any reached the page unescaped. */
const HOSTILE = [
  `"><img src=x onerror="window.__pwned=1;alert(1)">`,
  `</script><script>window.__pwned=2;alert(2)</script>`,
  `'><svg onload=alert(3)>`,
  `javascript:alert(4)`,
  `<!--<script>alert(5)</script>-->`,
  `\u2028</SCRIPT ><iframe srcdoc="<script>parent.alert(6)</script>">`,
];

function hostile(i: number): string {
  return `${HOSTILE[i % HOSTILE.length]}#${i}`;
}

/** A run folder with a hostile string in every string field of run.json and of each cell. */
async function hostileRun(root: string, id: string): Promise<string> {
  const dir = `${root}results/published/${id}`;
  await Deno.mkdir(dir, { recursive: true });
  let n = 0;
  const h = () => hostile(n++);
  const suite = h();
  const run = {
    runId: id,
    status: "running",
    startedAt: h(),
    wallMs: h(),
    commandLine: [h(), h()],
    quick: h(),
    environment: {
      deno: h(),
      v8: h(),
      typescript: h(),
      os: h(),
      cpuModel: h(),
      cpuCores: h(),
      git: { commit: h(), dirty: h() },
      packages: { [h()]: h() },
    },
    backends: { [h()]: { device: h(), runtime: h(), threads: h() } },
    suites: [{
      id: suite,
      file: h(),
      sha256: h(),
      seed: h(),
      model: { path: h(), sha256: h() },
      dataset: { id: h(), hash: h() },
      claims: [{ label: h(), value: h(), unit: h(), source: h() }],
    }],
  };
  await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify(run));
  const lines: string[] = [];
  for (const [i, method] of ["dense", h(), h()].entries()) {
    for (const target of [h(), h()]) {
      const c = cell({
        key: h(),
        suite,
        model: h(),
        model_sha256: h(),
        dataset: h(),
        dataset_hash: h(),
        target,
        device: h(),
        method,
        params: h(),
        sparsity_target: i === 0 ? null : 0.25 * i,
        metric: h(),
      });
      Object.assign(c, {
        sparsity_realized: i * 0.25,
        flops_reduction: 1 + i,
        speedup: 1 + i / 10,
        speedup_ci_low: 0.9,
        speedup_ci_high: 1.4,
        time_median_ms: 1,
        accuracy: 0.9 - i / 100,
        accuracy_dense: 0.9,
        gate: i < 2 ? "pass" : h(),
        status: i === 2 ? h() : "completed",
        error: h(),
        warnings: h(),
        notes: h(),
        layer_density: { [h()]: 0.5, [h()]: 0.3 },
        extra: { [h()]: h(), shape: h(), kernel: h(), dnr_layers: JSON.stringify({ [h()]: 0.4 }) },
      });
      lines.push(JSON.stringify(c));
    }
  }
  lines.push(h(), JSON.stringify({ key: h(), suite: h(), extra: h(), speedup: h() }));
  await Deno.writeTextFile(`${dir}/cells.jsonl`, lines.join("\n") + "\n");
  return dir;
}

Deno.test({
  name:
    "hostile strings in every field of a run folder run no script and open no dialog in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const root = `${await Deno.makeTempDir()}/`;
  const dir = await hostileRun(root, "hostile-run");
  const report = await writeRunReport(dir, {
    studies: STUDY_REPORTS,
    reportsDir: `${root}reports`,
  });
  const index = await writeIndex({ studies: STUDY_REPORTS, root });
  const second = await hostileRun(root, "hostile-run-2");
  const runs = [await readRun(dir), await readRun(second)];
  const compare = `${root}reports/compare.html`;
  await Deno.writeTextFile(
    compare,
    await renderCompareReport(runs, compareRuns(runs, { allowDifferentCode: true }), {
      studies: STUDY_REPORTS,
      codeDifferences: codeDifferences(runs),
    }),
  );
  for (const path of [report, index, compare]) {
    const html = await Deno.readTextFile(path);
    const csp = (/Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? "")
      .replaceAll("&#39;", "'");
    assert.match(csp, /script-src 'sha256-/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  }
  const results = await withPages([report, index, compare], async (page, log) => {
    const pwned = await page.evaluate(() =>
      (globalThis as unknown as { __pwned?: number }).__pwned ?? 0
    );
    const iframes = await page.$$eval("iframe, svg, img[src='x']", (els: unknown[]) => els.length);
    return { pwned, iframes, log };
  });
  for (const r of results) {
    assert.equal(r.pwned, 0, "no hostile script ran");
    assert.equal(r.iframes, 0, "no hostile element was created");
    assert.deepEqual(r.log.dialogs, [], "no dialog opened");
    assert.deepEqual(r.log.errors, []);
    assert.deepEqual(r.log.requests, []);
  }
});
