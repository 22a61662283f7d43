import assert from "node:assert/strict";
import { coAdaptiveSections } from "./corematching_report.ts";
import { STUDY_REPORTS } from "./reports.ts";
import { runFindings } from "../src/report/findings.ts";
import { emptyCell } from "../src/result.ts";
import type { CellResult } from "../src/result.ts";

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

Deno.test("coAdaptiveSections() scores co-adaptive sparsity against each single arm at matched FLOPs", () => {
  const section = coAdaptiveSections(cells).find((s) => s.title.includes("matched FLOPs"));
  assert.ok(section, "the ablation section is there");
  assert.match(String(section.body), /wins at <b>1<\/b>, loses at <b>1<\/b>/);
  assert.match(String(section.body), /at <b>0<\/b> of 2 settings/);
  assert.match(String(section.body), /0\.7800/);
  assert.match(String(section.body), /not reached/);
});

Deno.test("the CoreMatching findings put the paper's claims beside what the run measured", () => {
  const run = {
    id: "r",
    run: {
      suites: [{
        id: "corematching-vit-relu",
        claims: [{ label: "FLOPs reduction", value: 5, unit: "x", source: "paper" }],
      }],
    },
    cells: cells.map((c) => ({ ...c, suite: "corematching-vit-relu", accuracy_dense: 0.9 })),
  };
  const text = runFindings(run, { studies: STUDY_REPORTS }).map((f) => f.text).join("\n");
  assert.match(
    text,
    /the paper claims 5x FLOPs reduction \(paper\); measured here: no co-adaptive setting passed the quality gate; the largest was 1\.60x fewer FLOPs \(m\), accuracy 0\.6000 vs dense 0\.9000/,
  );
});
