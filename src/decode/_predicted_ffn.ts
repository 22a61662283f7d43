/**
 * Spark's predicted FFN of one decoder block, as `kernels/predicted_ffn.ts` runs it: the predictor
 * GEMV over the first r inputs (the gate's first r columns), statistical top-k selection of the
 * neurons (`select`), the gathered gate and up rows of the kept neurons with the activation and
 * product in the same pass (`gather_gemv`), and down over the kept rows only (`sparse_gemv` + its
 * reduce); five dispatches instead of three, and the kept count never leaves the GPU.
 *
 * @module
 */

import type { Dispatch } from "../../kernels/host.ts";
import { createGemv } from "../../kernels/gemv.ts";
import { defaultTuning, type GemvTuning, type Tuning } from "../../kernels/tuning.ts";
import { createSelect } from "../../kernels/select.ts";
import { createGatherGemv } from "../../kernels/gather_gemv.ts";
import { createSparseGemv } from "../../kernels/sparse_gemv.ts";
import type { GpuLayer, GpuWeights } from "./weights.ts";
import type { PredictedRule } from "./spec.ts";

/** Launch shapes of a predicted FFN's kernels. */
export type PredictedTuning = Partial<Pick<Tuning, "gather" | "sparse">> & {
  selectWorkgroupSize?: number;
};

/**
 * Creates one block's predicted FFN.
 *
 * @param device The device.
 * @param options The block's label, weights and normalised input [d], the rule, the model's
 *   weights (for the spec and whether its norms were folded), launch shapes, and `buffer`, which
 *   makes a buffer the decoder owns (the predictor's weight and the up half are copies).
 * @returns Its dispatches, its output [d] and the GPU count of neurons kept.
 * @throws {Error} When the FFN is not gated SiLU, the weights lack a layout or carry a bias.
 */
export async function createPredictedFfnBlock(
  device: GPUDevice,
  options: {
    name: string;
    w: GpuLayer;
    input: GPUBuffer;
    rule: PredictedRule;
    weights: GpuWeights;
    cpu: boolean;
    gemvTuning: Partial<GemvTuning>;
    predictedTuning?: PredictedTuning;
    buffer(label: string, bytes: number): GPUBuffer;
  },
): Promise<{ dispatches: Dispatch[]; y: GPUBuffer; count: GPUBuffer }> {
  const { name, w, input, rule, weights, cpu, gemvTuning } = options;
  const spec = weights.spec;
  const buf = options.buffer;
  // CPU adapters pay a context switch per workgroup barrier: the selection's one workgroup takes
  // 16 threads, the sparse down one split (no partial rows to reduce), the gather 16 rows per
  // workgroup (on llvmpipe, lm-char-spark-k8: 4.2 ms per token against 5.6 with the FFN suite's
  // shapes; a few trials on shared cores, so a starting point, not a tuned optimum).
  const cpuPredicted = {
    gather: { rowPerThread: true, workgroupSize: 16 },
    sparse: { workgroupSize: 64, splits: 1, reduceSlices: 1 },
  };
  const sparseTuning = {
    ...defaultTuning({ isFallbackAdapter: cpu }),
    ...(cpu ? cpuPredicted : {}),
    ...options.predictedTuning,
  };
  const selectWg = options.predictedTuning?.selectWorkgroupSize ?? (cpu ? 16 : 256);
  const { d, ff } = spec;
  if (spec.ffn !== "gated" || spec.act !== "silu") {
    throw new Error(`${name}: the predicted FFN rule needs a gated SiLU FFN`);
  }
  if (!w.up.row || w.up.dtype !== "f32" || !w.down.transposed || w.down.dtype !== "f32") {
    throw new Error(
      `${name}: the predicted FFN needs f32 weights in both layouts; upload with dtype f32 and layouts row and transposed`,
    );
  }
  if (w.up.hostBias || w.down.hostBias) {
    throw new Error(`${name}: the predicted FFN takes no bias`);
  }
  if (weights.normsFolded) {
    throw new Error(`${name}: the predicted FFN needs weights whose norms were not folded`);
  }
  if (d % 4 !== 0 || rule.r % 4 !== 0 || rule.r < 4 || rule.r > d) {
    throw new RangeError(`${name}: d = ${d} and r = ${rule.r} must be multiples of 4, r ≤ d`);
  }
  // The predictor's [ff, r] weight and the up half of the fused [gate; up] rows, copied once on
  // the GPU; the gate half is read in place (it starts the fused buffer).
  const predW = buf(`${name} predictor W`, ff * rule.r * 4);
  const upW = buf(`${name} up W`, ff * d * 4);
  const enc = device.createCommandEncoder({ label: `${name} predicted FFN weights` });
  for (let i = 0; i < ff; i++) {
    enc.copyBufferToBuffer(w.up.row, i * d * 4, predW, i * rule.r * 4, rule.r * 4);
  }
  enc.copyBufferToBuffer(w.up.row, ff * d * 4, upW, 0, ff * d * 4);
  device.queue.submit([enc.finish()]);
  const scores = await createGemv(device, {
    label: `${name} predictor`,
    rows: ff,
    cols: rule.r,
    weight: new Float32Array(0),
    weightBuffer: predW,
    input,
    ...gemvTuning,
  });
  const sel = await createSelect(device, {
    label: `${name} select`,
    n: ff,
    rule: { kind: "stat-topk", z: rule.z },
    input: scores.y,
    workgroupSize: selectWg,
  });
  const gated = await createGatherGemv(device, {
    ...sparseTuning.gather,
    label: `${name} gate+up`,
    rows: ff,
    cols: d,
    weight: new Float32Array(0),
    weightBuffer: upW,
    gateWeightBuffer: w.up.row,
    act: spec.act,
    x: input,
    idx: sel.idx,
    count: sel.count,
  });
  const down = await createSparseGemv(device, {
    label: `${name} down`,
    k: ff,
    n: d,
    weightT: new Float32Array(0),
    weightBuffer: w.down.transposed,
    idx: sel.idx,
    vals: gated.y,
    count: sel.count,
    ...sparseTuning.sparse,
  });
  return {
    dispatches: [scores.dispatch, sel.dispatch, gated.dispatch, ...down.dispatches],
    y: down.y,
    count: sel.count,
  };
}
