/**
 * A gated FFN whose neurons a cheap predictor picks, for one token, built from the existing
 * kernel hosts: predictor GEMV(s) → `select` on the scores → `gather_gemv` of the kept neurons'
 * gate and up rows (act(x·Wg[i]) · x·Wu[i] in one pass) → input-sparse `sparse_gemv` of their down
 * rows. Two predictors:
 *
 * - `slice` (Spark Transformer): u = Wp·x[:r], with Wp the gate's first r columns — one GEMV of
 *   r columns over the first r entries of x;
 * - `mlp` (Deja Vu): u = W2·relu(W1·x + b1) + b2 — two small GEMVs.
 *
 * The gathered gate recomputes the kept neurons' first r gate columns rather than adding the
 * predictor's partial sums (k·r extra multiply-adds, under 2 % of a dense FFN at the Spark LM's
 * 8 %). The CPU reference follows the same steps.
 *
 * @module
 */

import { type Dispatch, readBuffer, storageBuffer, writeArray } from "./host.ts";
import { createGatherGemv, gatherGemvCpu } from "./gather_gemv.ts";
import { createGemv, gemvCpu } from "./gemv.ts";
import { createSelect, selectCpu, type SelectRule } from "./select.ts";
import { createSparseGemv, sparseGemvCpu, transpose } from "./sparse_gemv.ts";
import type { Tuning } from "./tuning.ts";

/** The predictor that scores every neuron. */
export type NeuronPredictor =
  | {
    /** Spark: the gate's first `r` columns over x[:r]. */
    kind: "slice";
    /** Input dimensions read (a multiple of 4). */
    r: number;
    /** [h, r] row-major: Wg[:, :r]. */
    weight: Float32Array;
  }
  | {
    /** Deja Vu: a two-layer MLP over x. */
    kind: "mlp";
    /** Hidden width p. */
    p: number;
    /** [p, d] row-major. */
    w1: Float32Array;
    /** [p]. */
    b1: Float32Array;
    /** [h, p] row-major. */
    w2: Float32Array;
    /** [h]. */
    b2: Float32Array;
  };

/** A gated SiLU FFN down(silu(x·Wgᵀ) ⊙ x·Wuᵀ) computed for the neurons a predictor keeps. */
export interface PredictedFfn {
  /** Model width d. */
  d: number;
  /** Neurons h. */
  h: number;
  /** Gate weight [h, d]. */
  gate: Float32Array;
  /** Up weight [h, d]. */
  up: Float32Array;
  /** Down weight [d, h]. */
  down: Float32Array;
  /** The predictor. */
  predictor: NeuronPredictor;
  /** The rule on the predictor's scores (Spark: `stat-topk`; Deja Vu: signed `topk`). */
  rule: SelectRule;
}

/** The scores a predictor gives every neuron. */
export function predictorScoresCpu(f: PredictedFfn, x: Float32Array): Float32Array {
  const p = f.predictor;
  if (p.kind === "slice") return gemvCpu(p.weight, x.subarray(0, p.r), { rows: f.h, cols: p.r });
  const hidden = gemvCpu(p.w1, x, { rows: p.p, cols: f.d, bias: p.b1, act: "relu" });
  return gemvCpu(p.w2, hidden, { rows: f.h, cols: p.p, bias: p.b2 });
}

/**
 * CPU reference of a predicted FFN.
 *
 * @param f The FFN.
 * @param x Input [d].
 * @returns Output [d] and the kept neurons.
 */
export function predictedFfnCpu(
  f: PredictedFfn,
  x: Float32Array,
): { y: Float32Array; idx: Uint32Array } {
  const sel = selectCpu(predictorScoresCpu(f, x), f.rule);
  const hidden = gatherGemvCpu(f.up, x, sel.idx, { cols: f.d, act: "silu", gate: f.gate });
  const y = sparseGemvCpu(transpose(f.down, f.d, f.h), { idx: sel.idx, vals: hidden }, {
    n: f.d,
  });
  return { y, idx: sel.idx };
}

/** A predicted FFN on the device. */
export interface PredictedFfnPipeline {
  /** Dispatches of one token, in order. */
  dispatches: Dispatch[];
  /** Writes x. */
  writeInput(x: Float32Array): void;
  /** Reads y. */
  read(): Promise<Float32Array>;
  /** Reads how many neurons were kept. */
  readCount(): Promise<number>;
}

/**
 * Builds a predicted FFN on the device.
 *
 * @param device The device.
 * @param label Label of its GPU objects.
 * @param f The FFN.
 * @param tuning Launch shapes (the adapter's defaults when omitted).
 * @returns The pipeline.
 */
export async function createPredictedFfn(
  device: GPUDevice,
  label: string,
  f: PredictedFfn,
  tuning?: Tuning,
): Promise<PredictedFfnPipeline> {
  if (f.d % 4 !== 0) throw new RangeError(`${label}: d = ${f.d} must be a multiple of 4`);
  const x = storageBuffer(device, `${label} x`, f.d * 4);
  const p = f.predictor;
  const scoring: Dispatch[] = [];
  let scores: GPUBuffer;
  if (p.kind === "slice") {
    if (p.r % 4 !== 0 || p.r > f.d) {
      throw new RangeError(`${label}: r = ${p.r} must be a multiple of 4 and at most d`);
    }
    // The GEMV reads the first r entries of x: a row stride of r over the same buffer.
    const g = await createGemv(device, {
      label: `${label} predictor`,
      rows: f.h,
      cols: p.r,
      weight: p.weight,
      input: x,
      ...(tuning?.gemv ?? {}),
    });
    scoring.push(g.dispatch);
    scores = g.y;
  } else {
    const g1 = await createGemv(device, {
      label: `${label} predictor 1`,
      rows: p.p,
      cols: f.d,
      weight: p.w1,
      bias: p.b1,
      act: "relu",
      input: x,
      ...(tuning?.gemv ?? {}),
    });
    const g2 = await createGemv(device, {
      label: `${label} predictor 2`,
      rows: f.h,
      cols: p.p,
      weight: p.w2,
      bias: p.b2,
      input: g1.y,
      ...(tuning?.gemv ?? {}),
    });
    scoring.push(g1.dispatch, g2.dispatch);
    scores = g2.y;
  }
  const sel = await createSelect(device, {
    label: `${label} select`,
    n: f.h,
    rule: f.rule,
    input: scores,
  });
  const gg = await createGatherGemv(device, {
    ...(tuning?.gather ?? {}),
    label: `${label} gate+up`,
    rows: f.h,
    cols: f.d,
    weight: f.up,
    gateWeight: f.gate,
    act: "silu",
    x,
    idx: sel.idx,
    count: sel.count,
  });
  const sg = await createSparseGemv(device, {
    label: `${label} down`,
    k: f.h,
    n: f.d,
    weightT: transpose(f.down, f.d, f.h),
    idx: sel.idx,
    vals: gg.y,
    count: sel.count,
    ...(tuning?.sparse ?? {}),
  });
  return {
    dispatches: [...scoring, sel.dispatch, gg.dispatch, ...sg.dispatches],
    writeInput: (v) => writeArray(device, x, v.subarray(0, f.d)),
    read: () => sg.read(),
    readCount: async () => new Uint32Array(await readBuffer(device, sel.count, 4))[0]!,
  };
}
