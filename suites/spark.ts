/**
 * The Spark study (issue 18): what training with Spark's predictor buys over sparsifying a dense
 * model afterwards, at equal fractions of active FFN neurons (8 % and 25 %).
 *
 * - `spark`: the dense twin (lm-char-spark-dense, trained at the Spark models' budget) with the
 *   post-hoc methods at 92 % and 75 % sparsity: statistical top-k, TEAL, CATS, Deja Vu (trained
 *   predictors) and R-Sparse; bits per character, FLOPs, time on ORT.
 * - `spark-k8`, `spark-k25`: the Spark-trained models (lm-char-spark-k8, -k25), dense cell and the
 *   `spark` variant that declares the predictor FFN's skipped work.
 * - `spark-decode`: one token through one FFN on the WGSL kernels at the LM's shape and a larger
 *   one: dense, Spark's plan (predictor GEMV on r dims → selection → gathered rows), Deja Vu's,
 *   and the post-hoc methods' kernel plans (R-Sparse's: sparse GEMV + low-rank GEMV pair), each checked against its CPU reference, then timed.
 * - `spark-lm-decode`: the trained Spark LMs decoded whole, token by token, by the decode engine
 *   (their predicted FFNs on the gathered kernels), against the dense twin through the same
 *   engine: ms per token, speedup, bpc computed by the engine (checked against ORT's), agreement;
 *   and the twin through the same engine with the post-hoc methods (statistical top-k, TEAL,
 *   CATS) on the FFN's down input at the Spark models' active fractions.
 *
 * Run together: `deno task bench --suite spark --suite spark-k8 --suite spark-k25 --suite spark-decode --suite spark-lm-decode`.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell, CustomSuiteContext, ModelSuite, VariantSpec } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import { datasetPin, MODELS } from "./_pins.ts";
import { type DecodeMethod, type FfnShape, SparkDecodeRun } from "./_spark_decode.ts";
import {
  POST_HOC_METHODS,
  type PostHocMethod,
  type SparkLm,
  SparkLmDecodeRun,
} from "./_spark_lm_decode.ts";

/** The active fractions of FFN neurons the study compares (Spark's 8 %, and 25 %). */
export const ACTIVE_FRACTIONS = [0.08, 0.25] as const;

/** The same fractions as the sparsities the post-hoc methods take. */
export const SPARSITIES = ACTIVE_FRACTIONS.map((a) => Number((1 - a).toFixed(2)));

/** Evaluation windows (128 characters each) of the study's bits per character. */
const EVALUATION_WINDOWS = 400;

const common = {
  kind: "model",
  dataset: datasetPin("english-text", EVALUATION_WINDOWS, 32),
  task: { kind: "char-lm", input: "ids", output: "logits", context: 128 },
  metric: "bpc",
  targets: ["ort-node", "ort-wasm"],
  accuracyTarget: "ort-node",
  timing: { warmupRuns: 3, minRuns: 15, minTimeMs: 400, maxRuns: 100, maxTimeMs: 5000 },
  seed: 18,
  inDefault: false,
  quick: {
    evaluationSamples: 24,
    calibrationSamples: 8,
    timing: { warmupRuns: 1, minRuns: 5, minTimeMs: 0, maxRuns: 5, maxTimeMs: 2000 },
  },
} as const satisfies Partial<ModelSuite>;

/** The post-hoc methods on the dense twin, each at the study's sparsities. */
export const POST_HOC: VariantSpec[] = ["stat-topk", "teal", "cats", "deja-vu", "r-sparse"].map((
  method,
) => ({ method, sparsity: [...SPARSITIES] }));

/** The dense twin with the post-hoc methods. */
export const sparkTwin = defineSuite({
  ...common,
  id: "spark",
  title:
    "Spark study: post-hoc sparsity on the dense twin (stat-top-k, TEAL, CATS, Deja Vu, R-Sparse)",
  description:
    "lm-char-spark-dense (lm-char-swiglu's architecture at the Spark models' training budget), 400 evaluation windows; every post-hoc method at 8 % and 25 % active (92 / 75 % sparsity); bits per character on ort-node, time on ort-node and ort-wasm.",
  model: MODELS.lmCharSparkDense,
  variants: POST_HOC,
});

/** Spark at 8 % active neurons. */
export const sparkK8 = defineSuite({
  ...common,
  id: "spark-k8",
  title: "Spark study: the Spark-trained LM at 8 % active FFN neurons",
  description:
    "lm-char-spark-k8 (predictor on 96 of 192 input dims, statistical top-k at k/m = 0.08), 400 evaluation windows; bits per character, FLOPs with the predictor counted, time on ORT.",
  model: MODELS.lmCharSparkK8,
  variants: [{ method: "spark" }],
});

/** Spark at 25 % active neurons. */
export const sparkK25 = defineSuite({
  ...common,
  id: "spark-k25",
  title: "Spark study: the Spark-trained LM at 25 % active FFN neurons",
  description:
    "lm-char-spark-k25 (predictor on 96 of 192 input dims, statistical top-k at k/m = 0.25), 400 evaluation windows; bits per character, FLOPs with the predictor counted, time on ORT.",
  model: MODELS.lmCharSparkK25,
  variants: [{ method: "spark" }],
});

/** The LM's FFN (d 192, 384 neurons) and a wider one where weights outweigh dispatch costs. */
export const DECODE_SHAPES: FfnShape[] = [
  { id: "lm-192x384", d: 192, h: 384, r: 96, p: 64 },
  { id: "wide-1024x4096", d: 1024, h: 4096, r: 512, p: 408 },
];

const DECODE_METHODS: DecodeMethod[] = [
  "spark",
  "deja-vu",
  "stat-topk",
  "cats",
  "teal",
  "r-sparse",
];

interface DecodeCell extends CustomCell {
  measure(ctx: CustomSuiteContext): Promise<Partial<CellResult>>;
}

/** One FFN decode step on the WGSL kernels, per method and active fraction. */
export const sparkDecode = defineSuite({
  kind: "custom",
  id: "spark-decode",
  title: "Spark study: one FFN decode step on the WGSL kernels, per method's kernel plan",
  description:
    "Dense gated FFN vs Spark (predictor GEMV on r dims → statistical top-k → gathered gate/up → sparse down), Deja Vu (MLP predictor of equal cost → top-k → same path), post-hoc stat-top-k and CATS (full gate GEMV → selection → gathered up/down) TEAL (input-sparse GEMVs) and R-Sparse (per linear a sparse GEMV over the large channels plus a rank-r GEMV pair added into it), at 8 % and 25 % active; seeded random weights at the LM's shape and a wider one; each checked against its CPU reference before timing.",
  targets: ["wgsl"],
  inDefault: false,
  seed: 18,
  files: [
    "kernels/predicted_ffn.ts",
    "kernels/ffn.ts",
    "kernels/gemv.wgsl",
    "kernels/select.wgsl",
    "kernels/gather_gemv.wgsl",
    "kernels/sparse_gemv.wgsl",
    "kernels/r_sparse_ffn.ts",
    "kernels/act_mul.wgsl",
    "suites/_spark_decode.ts",
  ],
  plan(ctx): Promise<DecodeCell[]> {
    const cells: DecodeCell[] = [];
    if (!ctx.targets.includes("wgsl")) return Promise.resolve(cells);
    const run = new SparkDecodeRun();
    const shapes = ctx.quick ? [DECODE_SHAPES[0]!] : DECODE_SHAPES;
    for (const shape of shapes) {
      cells.push({
        key: `${shape.id}/dense`,
        target: "wgsl",
        method: "dense",
        label: `dense ${shape.id}`,
        measure: (c) => run.measure(shape, { ...c, method: "dense", keep: 1 }),
      });
      // The wide shape shows where the plans pay once weights outweigh dispatches; Spark's 8 %
      // is enough there, and each of its cells takes a minute on a CPU adapter.
      const fractions = ctx.quick || shape !== DECODE_SHAPES[0]
        ? [ACTIVE_FRACTIONS[0]]
        : ACTIVE_FRACTIONS;
      for (const keep of fractions) {
        for (const method of DECODE_METHODS) {
          cells.push({
            key: `${shape.id}/${method}@${keep}`,
            target: "wgsl",
            method,
            label: `${method} ${shape.id} ${100 * keep} %`,
            measure: (c) => run.measure(shape, { ...c, method, keep }),
          });
        }
      }
    }
    return Promise.resolve(cells);
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    if (!("measure" in cell)) {
      throw new Error(
        `spark-decode: cell ${cell.key} was not planned by this suite; plan the run again`,
      );
    }
    return await (cell as DecodeCell).measure(ctx);
  },
});

/** The whole-model decode suite's models, twin first (the others are timed next to it). */
const LM_DECODE_MODELS: SparkLm[] = ["lmCharSparkDense", "lmCharSparkK8", "lmCharSparkK25"];

/** The Spark model trained at each of the study's active fractions. */
const SPARK_AT: Record<string, SparkLm> = { "0.08": "lmCharSparkK8", "0.25": "lmCharSparkK25" };

/** One whole-model decode cell: a trained model, or a post-hoc method on the twin. */
export interface LmDecodeCell {
  /** The model (twin or Spark), or the post-hoc method run on the twin. */
  which: SparkLm | PostHocMethod;
  /** Sparsity of the FFN neurons (0 for the twin). */
  sparsity: number;
  /** Cell key. */
  key: string;
  /** Method id of the cell. */
  method: string;
}

/**
 * The whole-model decode cells: the twin, then per active fraction the Spark model and the
 * post-hoc methods on the twin at that fraction. `--variant` and `--sparsity` keep their cells
 * (and the twin, which every speedup needs).
 */
export function lmDecodePlan(
  ctx: Pick<CustomSuiteContext, "methods" | "sparsities">,
): LmDecodeCell[] {
  const twin = MODELS.lmCharSparkDense.id;
  const out: LmDecodeCell[] = [
    { which: LM_DECODE_MODELS[0]!, sparsity: 0, key: `${twin}/dense`, method: "dense" },
  ];
  for (const [i, a] of ACTIVE_FRACTIONS.entries()) {
    const s = SPARSITIES[i]!;
    if (ctx.sparsities?.length && !ctx.sparsities.some((x) => Math.abs(x - s) < 1e-9)) continue;
    const spark = SPARK_AT[String(a)]!;
    const cells: LmDecodeCell[] = [
      { which: spark, sparsity: s, key: `${MODELS[spark].id}/spark`, method: "spark" },
      ...POST_HOC_METHODS.map((m) => ({
        which: m,
        sparsity: s,
        key: `${twin}/${m}@${a}`,
        method: m,
      })),
    ];
    // The runner passes empty selections when none were given on the command line.
    out.push(...cells.filter((c) => !ctx.methods?.length || ctx.methods.includes(c.method)));
  }
  return out;
}

/** Spark's trained LMs decoded whole by the engine, against the dense twin and post-hoc methods. */
export const sparkLmDecode = defineSuite({
  kind: "custom",
  id: "spark-lm-decode",
  title: "Spark study: the trained LMs decoded whole, token by token, on the WGSL kernels",
  description:
    "lm-char-spark-k8 and -k25 through the decode engine, every block's FFN as trained (predictor GEMV on the first 96 of 192 inputs → statistical top-k → gathered gate/up rows → down over the kept rows), attention and head dense, against the dense twin lm-char-spark-dense through the same engine, and the twin with post-hoc activation sparsity on the FFN's down input at the same active fractions (statistical top-k per token; TEAL and CATS with thresholds calibrated on english-text's calibration split; gate and up computed in full); ms per token at a 64-position context with samples interleaved with the twin's, bits per character over 24 evaluation windows computed by the engine (required within 1e-3 of ORT's on the same windows, of the CPU reference decoder's with the same masks for the post-hoc plans), greedy agreement with the twin, neurons kept counted on the GPU.",
  targets: ["wgsl"],
  inDefault: false,
  seed: 18,
  files: [
    "src/decode/engine.ts",
    "src/decode/onnx_import.ts",
    "src/decode/calibrate.ts",
    "kernels/gemv.wgsl",
    "kernels/select.wgsl",
    "kernels/gather_gemv.wgsl",
    "kernels/sparse_gemv.wgsl",
    "kernels/skip_gemv.wgsl",
    "kernels/glu.wgsl",
    "kernels/threshold.wgsl",
    "suites/_spark_lm_decode.ts",
  ],
  plan(ctx): Promise<DecodeCell[]> {
    if (!ctx.targets.includes("wgsl")) return Promise.resolve([]);
    const run = new SparkLmDecodeRun();
    return Promise.resolve(
      lmDecodePlan(ctx).map((c) => ({
        key: c.key,
        target: "wgsl",
        method: c.method,
        label: c.method === "spark" || c.method === "dense"
          ? MODELS[c.which as SparkLm].id
          : `${c.method} ${Math.round(100 * (1 - c.sparsity))} % on the twin`,
        measure: (x: CustomSuiteContext) =>
          c.method === "spark" || c.method === "dense"
            ? run.measure(c.which as SparkLm, x)
            : run.measurePostHoc(c.which as PostHocMethod, c.sparsity, x),
      })),
    );
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    if (!("measure" in cell)) {
      throw new Error(
        `spark-lm-decode: cell ${cell.key} was not planned by this suite; plan the run again`,
      );
    }
    return await (cell as DecodeCell).measure(ctx);
  },
});
