import assert from "node:assert/strict";
import { SUITES } from "./mod.ts";
import { METHODS } from "../methods/mod.ts";
import { STUDY_REPORTS } from "./reports.ts";
import { chartsFor } from "../src/report/charts.ts";
import { runFindings } from "../src/report/findings.ts";
import { emptyCell } from "../src/result.ts";
import type { CellResult } from "../src/result.ts";

Deno.test("the generic reporter names no method, kernel or suite: studies hold them", async () => {
  const ids = [
    ...SUITES.map((s) => s.suite.id),
    ...METHODS.keys(),
    "input-sparse",
    "input-sparse-indexed",
    "gemv",
    "theory",
    "monte-carlo",
  ];
  const dir = new URL("../src/report/", import.meta.url);
  const offenders: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
    const text = await Deno.readTextFile(new URL(e.name, dir));
    for (const id of ids) {
      if (text.includes(`"${id}"`) || text.includes(`'${id}'`)) {
        offenders.push(`${e.name}: "${id}"`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

function cell(over: Partial<CellResult>): CellResult {
  return {
    ...emptyCell({
      key: crypto.randomUUID(),
      suite: "kernels",
      model: "",
      model_sha256: "",
      dataset: "",
      dataset_hash: "",
      target: "wgsl",
      device: "GPU",
      method: "gemv",
      params: "{}",
      sparsity_target: null,
      metric: "",
    }),
    ...over,
  };
}

Deno.test("the kernels study states the dense GEMV's share of the copy ceiling and what sparsity buys", () => {
  const cells = [
    cell({ method: "copy", extra: { kernel: "copy", gb_per_s: 4200, pct_of_ceiling: 100 } }),
    cell({ extra: { kernel: "gemv", shape: "4096x11008", pct_of_ceiling: 97.9 } }),
    cell({ extra: { kernel: "gemv", shape: "512x128", pct_of_ceiling: 2.1 } }),
    cell({
      method: "input-sparse",
      sparsity_target: 0.9,
      speedup: 3.5,
      extra: { kernel: "input-sparse", shape: "4096x11008" },
    }),
  ];
  const text = runFindings({ id: "r", run: { status: "finished" }, cells }, {
    studies: STUDY_REPORTS,
  }).map((f) => f.text);
  assert.deepEqual(text, [
    "kernels on GPU: the dense GEMV reaches 97.9 % of the copy ceiling at 4096x11008 and 2.1 % at 512x128 (copy ceiling 4200 GB/s).",
    "kernels: at 90 % input sparsity the input-sparse GEMV runs 3.50x (4096x11008) as fast as the dense GEMV, against an ideal 10.0x.",
  ]);
  const ids = chartsFor(cells, { studies: STUDY_REPORTS }).map((c) => c.id);
  assert.deepEqual(ids, ["kernels-kernel-speedup", "kernels-bandwidth"]);
});

Deno.test("the activation-sparsity study counts a WINA gap within one standard error as a tie", () => {
  const acc = (method: string, params: string, a: number): CellResult =>
    cell({
      suite: "activation-sparsity-vit",
      target: "ort-node",
      method,
      params,
      sparsity_target: 0.5,
      metric: "accuracy",
      accuracy: a,
      accuracy_dense: 0.91,
      eval_samples: 1000,
    });
  // One standard error at 0.88 over 1,000 samples is about 0.0103.
  const cells = [
    acc("teal", "{}", 0.88),
    acc("wina", "{}", 0.884),
    acc("wina", '{"select":"threshold"}', 0.9),
  ];
  const text = runFindings({ id: "r", run: {}, cells }, { studies: STUDY_REPORTS }).map((f) =>
    f.text
  ).join("\n");
  assert.match(text, /WINA-top-k wins 0, loses 0, ties 1; WINA-thr wins 1, loses 0, ties 0/);
});

Deno.test("the SDR study draws its probability curves instead of the generic charts", () => {
  const sdr = (over: Partial<CellResult>) => cell({ suite: "sdr", target: "cpu", ...over });
  const cells = [
    sdr({ method: "theory", extra: { sweep: "theta", x: 1, p_theory: 0.38 } }),
    sdr({ method: "theory", extra: { sweep: "theta", x: 2, p_theory: 0.1 } }),
    sdr({
      method: "monte-carlo",
      target: "wgsl",
      extra: { sweep: "theta", x: 1, p_mc: 0.379, ci_low: 0.376, ci_high: 0.381 },
    }),
  ];
  assert.deepEqual(chartsFor(cells, { studies: STUDY_REPORTS }).map((c) => c.id), [
    "sdr-sdr-theta",
  ]);
});
