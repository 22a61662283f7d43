import assert from "node:assert/strict";
import { renderRunReport } from "./run_report.ts";
import { emptyCell } from "../result.ts";
import type { CellResult } from "../result.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

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
  ignore: !hasChromium,
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

  // playwright-core probes /proc for WSL when it loads; Deno grants /proc only with --allow-all,
  // which the test task does not have. This machine is not WSL: answer "no" for those paths.
  const fs = (await import("node:fs")).default;
  const existsSync = fs.existsSync;
  (fs as { existsSync: (p: unknown) => boolean }).existsSync = (p: unknown) =>
    typeof p === "string" && (p.startsWith("/proc/") || p === "/run/WSL")
      ? false
      : existsSync(p as string);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (!url.startsWith("file://")) {
        requests.push(url);
        return route.abort();
      }
      return route.continue();
    });
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`file://${dir}/index.html`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 20000 });
    // The browser's canvas, typed structurally (Deno's type check has no DOM library).
    type Canvas = {
      width: number;
      height: number;
      getContext(
        kind: "2d",
      ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
    };
    const canvases = await page.$$eval("canvas", (els) =>
      els.map((el) => {
        const c = el as unknown as Canvas;
        const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
        return painted;
      }));
    assert.ok(canvases.length >= 4, `expected at least 4 charts, got ${canvases.length}`);
    canvases.forEach((painted, i) => assert.ok(painted > 1000, `chart ${i} is blank`));
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], "the report must not make network requests");
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: boolean }).__pwned ?? false),
      false,
    );
  } finally {
    await browser.close();
  }
});
