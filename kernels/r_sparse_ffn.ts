/**
 * R-Sparse's kernel plan for one gated FFN decode step (`methods/r_sparse.ts`), with its CPU
 * reference. Each of gate, up and down computes y = (x ⊙ m)·W + (x ⊙ (1 − m))·A·B, m the input
 * channels whose |x_j|·‖W[j, :]‖₂ exceeds the linear's threshold, A [in, r] · B [r, out] a
 * rank-r factor of W (x·W layout). On the device that is
 *
 * - an input-sparse GEMV over the kept channels (`sparse_gemv.ts`: the masked kernel with the
 *   channel norms as its scale on GPUs, select → indexed kernel on CPU adapters, as TEAL's plan);
 * - a GEMV z = x·A (rank r, `gemv.ts`), then a GEMV z·B added into the sparse GEMV's output
 *   (the GEMV's residual form), so the sum costs no dispatch of its own;
 *
 * then act(gate) ⊙ up (`act_mul.ts`) and down the same way. The sparse GEMV reads W − A·B
 * instead of W, so the low-rank GEMV may take the whole x: (x ⊙ m)·(W − A·B) + x·A·B equals the
 * split above exactly, and no kernel has to compact the complement (at 8–25 % kept, the dropped
 * channels are nearly all of x, so a sparse GEMV of A over them would read nearly all of A).
 *
 * @module
 */

import { createActMul } from "./act_mul.ts";
import type { Activation } from "./activation.ts";
import { activateCpu } from "./activation.ts";
import { createGemv } from "./gemv.ts";
import { type Dispatch, readBuffer, storageBuffer, writeArray } from "./host.ts";
import { createSelect, type SelectRule } from "./select.ts";
import { createMaskedSparseGemv, createSparseGemv, transpose } from "./sparse_gemv.ts";
import type { Tuning } from "./tuning.ts";

/** One linear of an R-Sparse FFN. */
export interface RSparseLinear {
  /** Weight [out, in] row-major (PyTorch's Linear layout, as `GatedFfn` takes it). */
  weight: Float32Array;
  /** Rank of the low-rank path; a multiple of 4 (the GEMVs read vec4s). */
  rank: number;
  /** A [in, rank] row-major. */
  a: Float32Array;
  /** B [rank, out] row-major. */
  b: Float32Array;
  /** τ: channel j is computed exactly when |x_j|·‖W[:, j]‖₂ > τ (float32 compare). */
  threshold: number;
}

/** A gated FFN under R-Sparse: y = down(act(gate(x)) ⊙ up(x)). */
export interface RSparseFfn {
  /** Model width. */
  d: number;
  /** Neurons. */
  h: number;
  /** The gate's activation. */
  act: Activation;
  /** Gate [h, d]. */
  gate: RSparseLinear;
  /** Up [h, d]. */
  up: RSparseLinear;
  /** Down [d, h]. */
  down: RSparseLinear;
}

/** An R-Sparse FFN on the device. */
export interface RSparseFfnPipeline {
  /** Every dispatch of one decode step, in order. */
  dispatches: Dispatch[];
  /** Writes x [d]. */
  writeInput(x: Float32Array): void;
  /** Reads y [d]. */
  read(): Promise<Float32Array>;
}

/**
 * Per input channel j of an [out, in] weight, ‖W[:, j]‖₂ in float32: R-Sparse's channel scale.
 *
 * @param weight Weight [out, in] row-major.
 * @param shape Its rows (out) and cols (in).
 * @returns The norms [in].
 */
export function channelNormsOf(
  weight: Float32Array,
  shape: { rows: number; cols: number },
): Float32Array {
  const s = new Float64Array(shape.cols);
  for (let o = 0; o < shape.rows; o++) {
    for (let j = 0; j < shape.cols; j++) s[j]! += weight[o * shape.cols + j]! ** 2;
  }
  return Float32Array.from(s, Math.sqrt);
}

/**
 * R-Sparse's channel scores |x_j|·‖W[:, j]‖₂, in float32 as the kernels compute them.
 *
 * @param weight Weight [out, in] row-major.
 * @param x Input [in].
 * @param shape Its rows (out) and cols (in).
 * @returns The scores [in].
 */
export function channelScoresCpu(
  weight: Float32Array,
  x: Float32Array,
  shape: { rows: number; cols: number },
): Float32Array {
  const norms = channelNormsOf(weight, shape);
  return Float32Array.from(norms, (c, j) => Math.fround(Math.abs(x[j]!) * c));
}

/**
 * CPU reference of one linear: (x ⊙ m)·W + (x ⊙ (1 − m))·A·B, accumulated in double.
 *
 * @param l The linear.
 * @param x Input [in].
 * @param shape Its rows (out) and cols (in).
 * @returns y [out] and the number of channels computed exactly.
 */
export function rSparseLinearCpu(
  l: RSparseLinear,
  x: Float32Array,
  shape: { rows: number; cols: number },
): { y: Float32Array; kept: number } {
  const { rows: n, cols: k } = shape;
  const r = l.rank;
  const scores = channelScoresCpu(l.weight, x, shape);
  const keep = Array.from(scores, (s) => s > Math.fround(l.threshold));
  const z = new Float64Array(r);
  for (let j = 0; j < k; j++) {
    if (keep[j]) continue;
    for (let c = 0; c < r; c++) z[c]! += l.a[j * r + c]! * x[j]!;
  }
  const y = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let j = 0; j < k; j++) if (keep[j]) s += l.weight[o * k + j]! * x[j]!;
    for (let c = 0; c < r; c++) s += z[c]! * l.b[c * n + o]!;
    y[o] = s;
  }
  return { y, kept: keep.filter(Boolean).length };
}

/**
 * CPU reference of the FFN step.
 *
 * @param f The FFN.
 * @param x Input [d].
 * @returns y [d], the hidden vector [h] and the channels kept by gate, up and down.
 */
export function rSparseFfnCpu(
  f: RSparseFfn,
  x: Float32Array,
): { y: Float32Array; hidden: Float32Array; kept: [number, number, number] } {
  const g = rSparseLinearCpu(f.gate, x, { rows: f.h, cols: f.d });
  const u = rSparseLinearCpu(f.up, x, { rows: f.h, cols: f.d });
  const hidden = g.y.map((v, i) => Math.fround(activateCpu(f.act, v) * u.y[i]!));
  const down = rSparseLinearCpu(f.down, hidden, { rows: f.d, cols: f.h });
  return { y: down.y, hidden, kept: [g.kept, u.kept, down.kept] };
}

/** W − A·B in the x·W layout [in, out] that the sparse GEMVs read, accumulated in double. */
function residualWeightT(l: RSparseLinear, shape: { rows: number; cols: number }): Float32Array {
  const { rows: n, cols: k } = shape;
  const r = l.rank;
  const wt = transpose(l.weight, n, k);
  for (let j = 0; j < k; j++) {
    for (let o = 0; o < n; o++) {
      let ab = 0;
      for (let c = 0; c < r; c++) ab += l.a[j * r + c]! * l.b[c * n + o]!;
      wt[j * n + o] = wt[j * n + o]! - ab;
    }
  }
  return wt;
}

async function linearOnDevice(
  device: GPUDevice,
  label: string,
  l: RSparseLinear,
  options: { rows: number; cols: number; input: GPUBuffer; tuning: Tuning },
): Promise<{ dispatches: Dispatch[]; y: GPUBuffer }> {
  const { rows: n, cols: k, input, tuning } = options;
  const r = l.rank;
  if (r <= 0 || r % 4 !== 0) {
    throw new RangeError(`${label}: rank ${r} must be a positive multiple of 4; round it`);
  }
  const weightT = residualWeightT(l, options);
  const rule: SelectRule = {
    kind: "magnitude",
    threshold: l.threshold,
    scale: channelNormsOf(l.weight, options),
  };
  let sparse: { dispatches: Dispatch[]; y: GPUBuffer };
  if (tuning.masked) {
    sparse = await createMaskedSparseGemv(device, {
      label,
      k,
      n,
      weightT,
      x: input,
      rule,
      ...tuning.sparse,
    });
  } else {
    const sel = await createSelect(device, { label, n: k, rule, input });
    const sg = await createSparseGemv(device, {
      label,
      k,
      n,
      weightT,
      idx: sel.idx,
      vals: sel.vals,
      count: sel.count,
      ...tuning.sparse,
    });
    sparse = { dispatches: [sel.dispatch, ...sg.dispatches], y: sg.y };
  }
  const za = await createGemv(device, {
    label: `${label} x·A`,
    rows: r,
    cols: k,
    weight: transpose(l.a, k, r),
    input,
    ...tuning.gemv,
  });
  const zb = await createGemv(device, {
    label: `${label} z·B`,
    rows: n,
    cols: r,
    weight: transpose(l.b, r, n),
    input: za.y,
    residual: { into: sparse.y },
    ...tuning.gemv,
  });
  return { dispatches: [...sparse.dispatches, za.dispatch, zb.dispatch], y: sparse.y };
}

/**
 * Builds the R-Sparse FFN step on the device.
 *
 * @param device The device.
 * @param label Label of its GPU objects.
 * @param f The FFN.
 * @param tuning Launch shapes (`defaultTuning` of the adapter).
 * @returns The pipeline.
 */
export async function createRSparseFfn(
  device: GPUDevice,
  label: string,
  f: RSparseFfn,
  tuning: Tuning,
): Promise<RSparseFfnPipeline> {
  const padded = Math.ceil(f.d / 4) * 4;
  const x = storageBuffer(device, `${label} x`, padded * 4);
  const wide = { rows: f.h, cols: f.d, input: x, tuning };
  const g = await linearOnDevice(device, `${label} gate`, f.gate, wide);
  const u = await linearOnDevice(device, `${label} up`, f.up, wide);
  const m = await createActMul(device, {
    label: `${label} act(gate)*up`,
    n: f.h,
    act: f.act,
    a: g.y,
    b: u.y,
  });
  const d = await linearOnDevice(device, `${label} down`, f.down, {
    rows: f.d,
    cols: f.h,
    input: m.y,
    tuning,
  });
  return {
    dispatches: [...g.dispatches, ...u.dispatches, m.dispatch, ...d.dispatches],
    writeInput(v: Float32Array) {
      const p = new Float32Array(padded);
      p.set(v.subarray(0, f.d));
      writeArray(device, x, p);
    },
    read: async () => new Float32Array(await readBuffer(device, d.y, f.d * 4)),
  };
}
