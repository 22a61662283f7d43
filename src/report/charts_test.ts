import assert from "node:assert/strict";
import { chartsFor, paretoFront } from "./charts.ts";
import { emptyCell } from "../result.ts";
import type { CellResult } from "../result.ts";

function cell(
  method: string,
  params: string,
  flopsReduction: number,
  accuracy: number,
): CellResult {
  return {
    ...emptyCell({
      key: crypto.randomUUID(),
      suite: "cm",
      model: "m",
      model_sha256: "0".repeat(64),
      dataset: "fashion-mnist",
      dataset_hash: "1".repeat(64),
      target: "ort-node",
      device: "cpu",
      method,
      params,
      sparsity_target: null,
      metric: "accuracy",
    }),
    flops_reduction: flopsReduction,
    accuracy,
    eval_samples: 10_000,
  };
}

const cells: CellResult[] = [
  cell("dense", "{}", 1, 0.9),
  cell("corematching-tokens", '{"a":1}', 1.2, 0.86),
  cell("corematching-tokens", '{"a":2}', 1.4, 0.7),
  cell("corematching-neurons", '{"a":1}', 1.05, 0.9),
  // Interpolated tokens-only accuracy at 1.3x is 0.78: a clear win.
  cell("corematching", '{"a":1}', 1.3, 0.85),
  // At 1.2x tokens-only measured 0.86: a clear loss.
  cell("corematching", '{"a":2}', 1.2, 0.8),
  // Beyond every single arm's reach: shown, not scored.
  cell("corematching", '{"a":3}', 1.6, 0.6),
];

Deno.test("chartsFor() draws accuracy against FLOPs reduction with one series per swept method", () => {
  const chart = chartsFor(cells).find((c) => c.id === "cm-accuracy-flops");
  assert.ok(chart);
  assert.deepEqual(chart.datasets.map((d) => d.label).sort(), [
    "corematching",
    "corematching-neurons",
    "corematching-tokens",
  ]);
  const both = chart.datasets.find((d) => d.label === "corematching")!;
  assert.deepEqual(both.data.map((p) => (p as { x: number }).x), [1.2, 1.3, 1.6]);
});

Deno.test("chartsFor() draws no chart for a figure the suite did not measure", () => {
  const theory = { ...cell("theory", "{}", 1, 0), flops_reduction: null, accuracy: null };
  assert.deepEqual(chartsFor([theory]), []);
});

Deno.test("chartsFor() draws speedup against sparsity per target with the 1.0x line and the ideal", () => {
  const s = (target: string, sparsity: number, speedup: number): CellResult => ({
    ...cell("teal", "{}", 1 / (1 - sparsity), 0.9),
    target,
    sparsity_target: sparsity,
    speedup,
    speedup_ci_low: speedup / 2,
    speedup_ci_high: speedup * 2,
  });
  const charts = chartsFor([s("wgsl", 0.5, 1.2), s("wgsl", 0.8, 1.9), s("ort-node", 0.5, 0.9)]);
  const wgsl = charts.find((c) => c.id === "cm-speedup-wgsl")!;
  assert.ok(charts.some((c) => c.id === "cm-speedup-ort-node"));
  assert.deepEqual(wgsl.refLines, [{ y: 1, label: "1.0x (dense)" }]);
  assert.deepEqual(wgsl.datasets[0]!.data, [
    { x: 0.5, y: 1.2, low: 0.6, high: 2.4 },
    { x: 0.8, y: 1.9, low: 0.95, high: 3.8 },
  ]);
  const ideal = wgsl.datasets.find((d) => d.dashed)!;
  assert.equal((ideal.data.at(-1) as { y: number }).y, 1 / (1 - 0.8));
});

Deno.test("paretoFront() keeps the variants no other is both faster and more accurate than", () => {
  const pts = [{ x: 1, y: 0.9 }, { x: 2, y: 0.8 }, { x: 1.5, y: 0.7 }, { x: 3, y: 0.5 }, {
    x: 0.8,
    y: 0.95,
  }];
  assert.deepEqual(paretoFront(pts), [{ x: 0.8, y: 0.95 }, { x: 1, y: 0.9 }, { x: 2, y: 0.8 }, {
    x: 3,
    y: 0.5,
  }]);
  assert.deepEqual(paretoFront([{ x: 1, y: 2 }, { x: 2, y: 3 }], true), [{ x: 1, y: 2 }, {
    x: 2,
    y: 3,
  }]);
});
