/**
 * The `spark-decode` suite's measurements: one token through one gated SiLU FFN on the WGSL
 * kernels, dense and with each method's kernel plan at a kept fraction of neurons —
 *
 * - `spark`: predictor GEMV over the first r inputs → statistical top-k → gathered gate+up →
 *   input-sparse down (`kernels/predicted_ffn.ts`, slice predictor);
 * - `deja-vu`: the two-layer predictor MLP (width p, chosen so its cost equals Spark's r·h) →
 *   top-k → the same gathered path;
 * - `stat-topk` (post-hoc): the full gate GEMV → statistical top-k → gathered up → sparse down;
 * - `cats`: the full gate GEMV → |act(g)| threshold → gathered up → sparse down;
 * - `teal`: input-sparse GEMVs of gate, up (|x| threshold) and down (|h| threshold);
 * - `r-sparse`: per linear, an input-sparse GEMV over the channels with |x_j|·‖W[:, j]‖ above
 *   the threshold plus the rank-r GEMV pair x·A → ·B added into it (`kernels/r_sparse_ffn.ts`),
 *   r the method's default fraction of each weight's smaller dimension (rounded down to a
 *   multiple of 4); A and B are seeded random like the other predictors' weights (the time
 *   depends on r, not on the factors' values; the `spark` suite measures the method's quality
 *   with its true factors).
 *
 * Weights and inputs are seeded random at the model's shape (time depends on the shape and the
 * number of neurons kept, which is recorded, not on the trained values); thresholds are set on
 * the cell's own input so each keeps the target fraction. Every pipeline is checked against its
 * CPU reference before it is timed; each of its samples is taken right after one of the dense
 * FFN of the same shape, and the speedup is the ratio of the paired medians with a paired
 * bootstrap interval (empty wall-slope samples are left out and counted).
 *
 * @module
 */

import { acquireGpu } from "../kernels/gpu_device.ts";
import { createGated, gatedCpu, type GatedFfn } from "../kernels/ffn.ts";
import { gemvCpu } from "../kernels/gemv.ts";
import { createDispatchSampler } from "../kernels/gpu_timing.ts";
import { type Dispatch, runOnce } from "../kernels/host.ts";
import {
  createPredictedFfn,
  type PredictedFfn,
  predictedFfnCpu,
} from "../kernels/predicted_ffn.ts";
import { relativeError } from "../kernels/relative_error.ts";
import { activateCpu } from "../kernels/activation.ts";
import {
  channelScoresCpu,
  createRSparseFfn,
  type RSparseFfn,
  rSparseFfnCpu,
  type RSparseLinear,
} from "../kernels/r_sparse_ffn.ts";
import { defaultTuning } from "../kernels/tuning.ts";
import { DEFAULT_RANK_FRACTION } from "../methods/r_sparse.ts";
import { createRng } from "../lib/prng.ts";
import type { CellResult } from "../src/result.ts";
import { bootstrapRatioCi, normalQuantile, summarize } from "../src/stats.ts";
import type { CustomSuiteContext } from "../src/suite.ts";

/** An FFN shape: width d, neurons h, Spark's predictor dims r, Deja Vu's predictor width p. */
export interface FfnShape {
  /** Id used in cell keys. */
  id: string;
  /** Model width. */
  d: number;
  /** Neurons. */
  h: number;
  /** Spark's predictor input dims. */
  r: number;
  /** Deja Vu's predictor width (≈ r·h / (d + h): the same multiply-adds as Spark's). */
  p: number;
}

/** The methods a decode cell can run. */
export type DecodeMethod =
  | "dense"
  | "spark"
  | "deja-vu"
  | "stat-topk"
  | "cats"
  | "teal"
  | "r-sparse";

function random(n: number, seed: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

/**
 * A threshold keeping the round((1 − q)·n) largest entries of |v|: midway between two
 * neighbouring sorted values, so no entry sits on it and the kernel's float32 sums cannot flip
 * one across.
 */
function quantileAbs(v: Float32Array, q: number): number {
  const a = Float32Array.from(v, Math.abs).sort();
  const kept = Math.round((1 - q) * a.length);
  const i = Math.max(0, Math.min(a.length - 2, a.length - kept - 1));
  return (a[i]! + a[i + 1]!) / 2;
}

/** A pipeline with its CPU reference output and the FLOPs it does. */
interface Built {
  dispatches: Dispatch[];
  read(): Promise<Float32Array>;
  want: Float32Array;
  kept: number;
  flops: number;
  /** Method-specific figures for the cell's `extra`. */
  extra?: Record<string, number | string>;
}

/**
 * R-Sparse's rank for an [in, out] weight: the method's default fraction of the smaller
 * dimension, rounded down to a multiple of 4 (the low-rank GEMVs read vec4s), at least 4.
 */
function rSparseRank(inFeatures: number, outFeatures: number): number {
  const r = Math.floor(DEFAULT_RANK_FRACTION * Math.min(inFeatures, outFeatures));
  return Math.max(4, 4 * Math.floor(r / 4));
}

/** One run of the suite: weights per shape and the dense times. */
export class SparkDecodeRun {
  #weights: { id: string; gate: Float32Array; up: Float32Array; down: Float32Array } | undefined;
  #dense: { id: string; built: Built } | undefined;

  /** The dense FFN of a shape, built once and checked by its own cell. */
  async #denseOf(shape: FfnShape): Promise<Built> {
    if (this.#dense?.id !== shape.id) {
      this.#dense = { id: shape.id, built: await this.#build(shape, "dense", 1) };
    }
    return this.#dense.built;
  }

  #of(shape: FfnShape) {
    if (this.#weights?.id !== shape.id) {
      this.#weights = undefined;
      const s = 1 / Math.sqrt(shape.d);
      this.#weights = {
        id: shape.id,
        gate: random(shape.h * shape.d, 1, s),
        up: random(shape.h * shape.d, 2, s),
        down: random(shape.d * shape.h, 3, 1 / Math.sqrt(shape.h)),
      };
    }
    return this.#weights;
  }

  async #build(shape: FfnShape, method: DecodeMethod, keep: number): Promise<Built> {
    const { device, facts } = await acquireGpu();
    const tuning = defaultTuning(facts);
    const { d, h, r, p } = shape;
    const w = this.#of(shape);
    const x = random(d, 4);
    const gated: GatedFfn = { d, h, gate: w.gate, up: w.up, down: w.down, act: "silu" };
    const k = Math.max(1, Math.round(keep * h));
    if (method === "spark" || method === "deja-vu") {
      const sliced = new Float32Array(h * r);
      for (let i = 0; i < h; i++) sliced.set(w.gate.subarray(i * d, i * d + r), i * r);
      const f: PredictedFfn = method === "spark"
        ? {
          d,
          h,
          gate: w.gate,
          up: w.up,
          down: w.down,
          predictor: { kind: "slice", r, weight: sliced },
          rule: { kind: "stat-topk", z: normalQuantile(1 - keep) },
        }
        : {
          d,
          h,
          gate: w.gate,
          up: w.up,
          down: w.down,
          predictor: {
            kind: "mlp",
            p,
            w1: random(p * d, 5, 1 / Math.sqrt(d)),
            b1: new Float32Array(p),
            w2: random(h * p, 6, 1 / Math.sqrt(p)),
            b2: new Float32Array(h),
          },
          rule: { kind: "topk", k, signed: true },
        };
      const pipe = await createPredictedFfn(device, `spark-decode ${method}`, f, tuning);
      pipe.writeInput(x);
      const ref = predictedFfnCpu(f, x);
      const kept = ref.idx.length;
      const predictor = method === "spark" ? r * h : d * p + p * h;
      const selection = method === "spark" ? 5 * h : Math.log2(Math.max(2, k)) * h;
      return {
        dispatches: pipe.dispatches,
        read: () => pipe.read(),
        want: ref.y,
        kept,
        flops: 2 * (predictor + 3 * kept * d) + selection,
      };
    }
    if (method === "dense") {
      const pipe = await createGated(device, "spark-decode dense", gated, tuning);
      pipe.writeInput(x);
      return {
        dispatches: pipe.dispatches,
        read: () => pipe.read(),
        want: gatedCpu(gated, x),
        kept: h,
        flops: 6 * d * h,
      };
    }
    if (method === "r-sparse") return await this.#rSparse(shape, x, keep);
    const g = gemvCpu(w.gate, x, { rows: h, cols: d });
    if (method === "teal") {
      const tx = quantileAbs(x, 1 - keep);
      // The down's threshold is set on the hidden vector the sparse gate and up give (as TEAL
      // calibrates each layer on the sparsified model): the dense one is larger, and a threshold
      // set on it kept a tenth of the target.
      const xs = x.map((v) => (Math.abs(v) > tx ? v : 0));
      const gs = gemvCpu(w.gate, xs, { rows: h, cols: d });
      const us = gemvCpu(w.up, xs, { rows: h, cols: d });
      const hidden = gs.map((v, i) => activateCpu("silu", v) * us[i]!);
      const th = quantileAbs(hidden, 1 - keep);
      const f: GatedFfn = {
        ...gated,
        inputs: {
          gate: { kind: "magnitude", threshold: tx },
          up: { kind: "magnitude", threshold: tx },
          down: { kind: "magnitude", threshold: th },
        },
      };
      const pipe = await createGated(device, "spark-decode teal", f, tuning);
      pipe.writeInput(x);
      await runOnce(device, pipe.dispatches);
      const [keptX = 0, , keptH = 0] = await pipe.readCounts();
      return {
        dispatches: pipe.dispatches,
        read: () => pipe.read(),
        want: gatedCpu(f, x),
        kept: keptH,
        flops: 2 * (2 * keptX * h + keptH * d) + 2 * (d + d + h),
      };
    }
    const rule = method === "stat-topk"
      ? { kind: "stat-topk" as const, z: normalQuantile(1 - keep) }
      : {
        kind: "magnitude" as const,
        threshold: quantileAbs(g.map((v) => activateCpu("silu", v)), 1 - keep),
      };
    const f: GatedFfn = {
      ...gated,
      select: { rule, on: method === "stat-topk" ? "pre-activation" : "activation" },
    };
    const pipe = await createGated(device, `spark-decode ${method}`, f, tuning);
    pipe.writeInput(x);
    const kept = await (async () => {
      await runOnce(device, pipe.dispatches);
      return (await pipe.readCounts())[0]!;
    })();
    return {
      dispatches: pipe.dispatches,
      read: () => pipe.read(),
      want: gatedCpu(f, x),
      kept,
      flops: 2 * (d * h + 2 * kept * d) + (method === "stat-topk" ? 5 : 2) * h,
    };
  }

  /**
   * R-Sparse's plan, each linear's threshold set on the cell's own input (the down's on the
   * hidden vector the approximated gate and up give, as the method calibrates in graph order).
   */
  async #rSparse(shape: FfnShape, x: Float32Array, keep: number): Promise<Built> {
    const { device, facts } = await acquireGpu();
    const { d, h } = shape;
    const w = this.#of(shape);
    const linear = (weight: Float32Array, rows: number, cols: number, seed: number) => {
      const rank = rSparseRank(cols, rows);
      return {
        weight,
        rank,
        a: random(cols * rank, seed, 1 / Math.sqrt(cols)),
        b: random(rank * rows, seed + 1, 1 / Math.sqrt(rank)),
        threshold: 0,
      } satisfies RSparseLinear;
    };
    const f: RSparseFfn = {
      d,
      h,
      act: "silu",
      gate: linear(w.gate, h, d, 7),
      up: linear(w.up, h, d, 9),
      down: linear(w.down, d, h, 11),
    };
    f.gate.threshold = quantileAbs(channelScoresCpu(w.gate, x, { rows: h, cols: d }), 1 - keep);
    f.up.threshold = quantileAbs(channelScoresCpu(w.up, x, { rows: h, cols: d }), 1 - keep);
    const hidden = rSparseFfnCpu(f, x).hidden;
    f.down.threshold = quantileAbs(
      channelScoresCpu(w.down, hidden, { rows: d, cols: h }),
      1 - keep,
    );
    const ref = rSparseFfnCpu(f, x);
    const pipe = await createRSparseFfn(device, "spark-decode r-sparse", f, defaultTuning(facts));
    pipe.writeInput(x);
    const [keptGate, keptUp, keptDown] = ref.kept;
    // Per linear: the exact part over its kept channels, x·A (rank r over every input), z·B,
    // the add into the exact part's output, and 3 FLOPs per input to select (|x|, scale, test).
    const lowRank = (l: RSparseLinear, rows: number, cols: number) =>
      2 * l.rank * (cols + rows) + rows + 3 * cols;
    return {
      dispatches: pipe.dispatches,
      read: () => pipe.read(),
      want: ref.y,
      kept: keptDown,
      flops: 2 * ((keptGate + keptUp) * h + keptDown * d) + lowRank(f.gate, h, d) +
        lowRank(f.up, h, d) + lowRank(f.down, d, h),
      extra: {
        ranks: `${f.gate.rank},${f.up.rank},${f.down.rank}`,
        kept_inputs: `${keptGate},${keptUp},${keptDown}`,
      },
    };
  }

  /**
   * Measures one cell: builds the pipeline, checks it against its CPU reference, times it.
   *
   * @param shape The FFN shape.
   * @param cell The method and kept fraction (1 for dense), and the run context.
   * @returns The cell's figures.
   */
  async measure(
    shape: FfnShape,
    cell: CustomSuiteContext & { method: DecodeMethod; keep: number },
  ): Promise<Partial<CellResult>> {
    const { device } = await acquireGpu();
    cell.progress(`spark-decode: ${cell.method} ${shape.id} keep ${cell.keep}`);
    const built = await this.#build(shape, cell.method, cell.keep);
    await runOnce(device, built.dispatches);
    const err = relativeError(await built.read(), built.want);
    if (!(err <= 1e-4)) {
      throw new Error(
        `${cell.method} at ${shape.id} differs from its CPU reference by ${err}; fix the kernel before timing it`,
      );
    }
    // Each sample of the method is taken right after one of the dense FFN of the same shape,
    // so the ratio pairs samples that shared the machine's load (cells run minutes apart).
    const dense = cell.method === "dense" ? undefined : await this.#denseOf(shape);
    const own = await createDispatchSampler(device, [built.dispatches], { timestamps: true });
    const base = dense
      ? await createDispatchSampler(device, [dense.dispatches], { timestamps: true })
      : undefined;
    const mine: number[] = [];
    const theirs: number[] = [];
    let dropped = 0;
    let source = "";
    for (let i = 0; i < (cell.quick ? 5 : 9); i++) {
      const b = base ? await base.sample() : undefined;
      const m = await own.sample();
      source = m.source;
      // A wall-slope sample of zero is a batch the ~10 ms sleep swallowed: no measurement.
      if (!(m.ms > 0) || (b && !(b.ms > 0))) {
        dropped++;
        continue;
      }
      mine.push(m.ms);
      if (b) theirs.push(b.ms);
    }
    if (mine.length === 0) {
      throw new Error(`${cell.method} at ${shape.id}: every timing sample was empty; rerun it`);
    }
    const s = summarize(mine);
    const ci = theirs.length > 0
      ? bootstrapRatioCi(theirs, mine, { paired: true })
      : { estimate: 1, low: null, high: null };
    const time = { ms: s.medianMs, samplesMs: [...mine].sort((a, b) => a - b), source };
    return {
      model: `ffn-${shape.id}`,
      sparsity_target: cell.method === "dense" ? null : 1 - cell.keep,
      sparsity_realized: 1 - built.kept / shape.h,
      flops_dense: 6 * shape.d * shape.h,
      flops_effective: built.flops,
      flops_reduction: (6 * shape.d * shape.h) / built.flops,
      time_median_ms: time.ms,
      time_p10_ms: s.p10Ms,
      time_p90_ms: s.p90Ms,
      time_mad_ms: s.madMs,
      runs: s.count,
      outliers: s.outliers,
      samples_ms: time.samplesMs,
      dense_samples_ms: theirs,
      ...(theirs.length > 0 ? { dense_paired_median_ms: summarize(theirs).medianMs } : {}),
      time_basis: dense ? "interleaved" : "alone",
      speedup: ci.estimate,
      speedup_ci_low: ci.low,
      speedup_ci_high: ci.high,
      extra: {
        shape: `d=${shape.d},h=${shape.h},r=${shape.r},p=${shape.p}`,
        kept_neurons: built.kept,
        dispatches: built.dispatches.length,
        timing: time.source,
        relative_error: Number(err.toExponential(2)),
        empty_samples: dropped,
        ...built.extra,
      },
    };
  }
}
