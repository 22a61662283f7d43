import assert from "node:assert/strict";
import { chartsFor } from "./charts.ts";
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
