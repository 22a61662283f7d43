import assert from "node:assert/strict";
import { emptyCell } from "../src/result.ts";
import type { CellResult } from "../src/result.ts";
import { sparkReport } from "./spark_report.ts";

function cell(
  suite: string,
  method: string,
  fields: Partial<CellResult> & { sparsity_target?: number | null; key?: string },
): CellResult {
  const base = emptyCell({
    key: fields.key ?? `${suite}|${method}|${fields.target ?? "ort-node"}`,
    suite,
    model: suite,
    model_sha256: "",
    dataset: "english-text",
    dataset_hash: "",
    target: fields.target ?? "ort-node",
    device: "",
    method,
    params: "{}",
    sparsity_target: fields.sparsity_target ?? null,
    metric: "bpc",
  });
  return { ...base, ...fields };
}

const cells: CellResult[] = [
  cell("spark", "dense", { accuracy: 3.5, flops_reduction: 1, time_median_ms: 10 }),
  cell("spark", "stat-topk", { sparsity_target: 0.92, accuracy: 4.1, flops_reduction: 1.3 }),
  cell("spark", "deja-vu", { sparsity_target: 0.92, accuracy: 3.9, flops_reduction: 1.5 }),
  cell("spark-k8", "dense", { accuracy: 3.52, time_median_ms: 11 }),
  cell("spark-k8", "spark", {
    accuracy: 3.52,
    flops_reduction: 1.6,
    time_median_ms: 11,
    speedup: 1,
  }),
  cell("spark-decode", "spark", {
    key: "spark-decode|lm-192x384/spark@0.08",
    target: "wgsl",
    sparsity_target: 0.92,
    speedup: 1.8,
    speedup_ci_low: 1.6,
    speedup_ci_high: 2,
    extra: { kept_neurons: 30 },
  }),
];
const run = { id: "r", run: {}, cells };

Deno.test("the spark findings set Spark's bpc against the twin and the best post-hoc method, with decode speedups", () => {
  const text = sparkReport.findings!(cells.filter((c) => c.suite === "spark"), run)
    .map((f) => f.text).join("\n");
  assert.match(
    text,
    /Spark trained at 8 % active reaches 3\.520 bpc \(\+0\.020 vs the twin's 3\.500\)/,
  );
  assert.match(text, /best post-hoc method \(deja-vu\) is 0\.380 bpc worse than Spark/);
  assert.match(text, /spark 1\.80x \[1\.60, 2\.00\] \(30 kept\)/);
  assert.match(text, /buy no time \(ort-node 1\.00x/);
});

Deno.test("the spark study writes its findings once, on the twin's suite", () => {
  assert.deepEqual(sparkReport.findings!(cells.filter((c) => c.suite === "spark-k8"), run), []);
  assert.ok(sparkReport.covers("spark-decode") && !sparkReport.covers("decode"));
});

Deno.test("a run of spark-decode alone states each plan's decode speedup, R-Sparse's FLOPs beside its time", () => {
  const decode: CellResult[] = [
    cell("spark-decode", "dense", {
      key: "spark-decode|lm-192x384/dense",
      target: "wgsl",
      time_median_ms: 0.9,
      speedup: 1,
    }),
    cell("spark-decode", "r-sparse", {
      key: "spark-decode|lm-192x384/r-sparse@0.08",
      target: "wgsl",
      sparsity_target: 0.92,
      speedup: 0.4,
      speedup_ci_low: 0.35,
      speedup_ci_high: 0.45,
      flops_reduction: 3.1,
      extra: { kept_neurons: 31, ranks: "24,24,24", dispatches: 13 },
    }),
  ];
  const decodeRun = { id: "d", run: {}, cells: decode };
  const text = sparkReport.findings!(decode, decodeRun).map((f) => f.text).join("\n");
  assert.match(text, /\(0\.900 ms\): r-sparse 0\.40x \[0\.35, 0\.45\] \(31 kept\)/);
  assert.match(
    text,
    /R-Sparse \(sparse GEMV \+ rank 24 GEMV pair per linear, 13 dispatches\) does 3\.10x fewer FLOPs and runs at 0\.40x/,
  );
  assert.equal(sparkReport.sections!(decode, decodeRun).length, 1);
});

Deno.test("the spark study labels a decode plan by its method, not as the trained model", () => {
  const plan = cell("spark-decode", "spark", { target: "wgsl", sparsity_target: 0.92 });
  assert.equal(sparkReport.label!(plan), "spark 8 % active");
  assert.equal(sparkReport.label!({ ...plan, sparsity_target: null }), "Spark's plan");
  assert.equal(sparkReport.label!(cell("spark-k8", "spark", {})), "Spark (trained)");
});

Deno.test("a run of spark-lm-decode alone states each Spark LM's whole-model decode against the twin", () => {
  const lm = [
    cell("spark-lm-decode", "dense", {
      target: "wgsl",
      device: "llvmpipe",
      accuracy: 3.53,
      agreement: 1,
      extra: { ms_per_token: 9.65, bpc_ort: 3.53, context: 64, dispatches_per_token: 44 },
    }),
    cell("spark-lm-decode", "spark", {
      target: "wgsl",
      device: "llvmpipe",
      sparsity_target: 0.92,
      sparsity_realized: 0.938,
      accuracy: 3.543,
      agreement: 0.89,
      speedup: 1.21,
      speedup_ci_low: 0.94,
      speedup_ci_high: 1.6,
      flops_reduction: 1.83,
      extra: { ms_per_token: 6.57, bpc_ort: 3.543, context: 64, dispatches_per_token: 52 },
    }),
  ];
  const lmRun = { id: "r", run: {}, cells: lm };
  const text = sparkReport.findings!(lm, lmRun).map((f) => f.text).join("\n");
  assert.match(text, /the dense twin 9\.65 ms\/token, 3\.530 bpc/);
  assert.match(
    text,
    /Spark at 8 % \(6\.2 % of neurons kept\) 6\.57 ms\/token, 1\.21x \[0\.94, 1\.60\]/,
  );
  assert.match(text, /1\.83x fewer FLOPs, 52 dispatches per token against 44/);
  assert.equal(sparkReport.sections!(lm, lmRun).length, 1);
});

Deno.test("a run of spark-lm-decode sets each Spark LM against the post-hoc methods on the twin at its fraction", () => {
  const lm = [
    cell("spark-lm-decode", "dense", {
      key: "spark-lm-decode|lm-char-spark-dense/dense",
      target: "wgsl",
      device: "llvmpipe",
      accuracy: 3.53,
      extra: { ms_per_token: 9, context: 64, dispatches_per_token: 44 },
    }),
    cell("spark-lm-decode", "spark", {
      key: "spark-lm-decode|lm-char-spark-k8/spark",
      model: "lm-char-spark-k8",
      target: "wgsl",
      device: "llvmpipe",
      sparsity_target: 0.92,
      sparsity_realized: 0.938,
      accuracy: 3.543,
      speedup: 1.1,
      speedup_ci_low: 0.9,
      speedup_ci_high: 1.3,
      flops_reduction: 1.83,
      extra: { ms_per_token: 8, context: 64, dispatches_per_token: 52 },
    }),
    ...[["stat-topk", 3.9, 0.98, 0.8], ["teal", 3.7, 0.92, 1.05], ["cats", 3.6, 0.92, 0.95]].map((
      [m, a, s, v],
    ) =>
      cell("spark-lm-decode", m as string, {
        key: `spark-lm-decode|lm-char-spark-dense/${m}@0.08`,
        target: "wgsl",
        device: "llvmpipe",
        sparsity_target: 0.92,
        sparsity_realized: s as number,
        accuracy: a as number,
        speedup: v as number,
        speedup_ci_low: (v as number) - 0.1,
        speedup_ci_high: (v as number) + 0.1,
        flops_reduction: 1.25,
        agreement: 0.7,
        extra: { ms_per_token: 9 / (v as number), context: 64, dispatches_per_token: 48 },
      })
    ),
  ];
  const lmRun = { id: "r", run: {}, cells: lm };
  const text = sparkReport.findings!(lm, lmRun).map((f) => f.text).join("\n");
  assert.match(
    text,
    /8 % active FFN neurons, whole-model decode on the WGSL kernels \(llvmpipe\): Spark \(trained\) 3\.543 bpc \(\+0\.013 vs the twin's 3\.530\)/,
  );
  assert.match(
    text,
    /cats 3\.600 \(\+0\.070, 8 % kept, 1\.25x fewer FLOPs, 0\.95x \[0\.85, 1\.05\]\)/,
  );
  assert.match(text, /best post-hoc method by bpc \(cats\) is 0\.057 bpc worse than Spark/);
  assert.match(
    text,
    /speed against the fastest post-hoc method \(teal, 1\.05x \[0\.95, 1\.15\]\) not resolved \(the intervals overlap\)/,
  );
  // The trained models' whole-model sentence still names Spark's models only.
  assert.doesNotMatch(text.split("\n")[0]!, /cats/);
  const sections = sparkReport.sections!(lm, lmRun);
  assert.equal(sections.length, 2);
  assert.match(String(sections[0]!.title), /equal active fraction/);
  assert.equal(
    sparkReport.label!(lm[3]!),
    "teal 8 % active on the twin, whole model",
  );
});
