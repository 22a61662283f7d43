/**
 * Structured OBS (OBS-Diff's structured variant, ICLR 2026, `lib/OBS_Diff_Structured.py`): whole
 * units are removed with the OBS compensation of what stays, and the layers are sliced into
 * smaller dense matrices, so the model really is smaller.
 *
 * - `sparsegpt-structured`: FFN neurons (input columns of the down projection), scored by
 *   Σ_i W_ij² / [H⁻¹]_jj on the down projection's calibration inputs, removed one by one with the
 *   OBS compensation of the remaining columns and the inverse Hessian downdated; then the up (and
 *   gate) rows and down columns of the removed neurons are sliced away.
 * - `sparsegpt-structured-heads`: whole attention heads, scored by the same saliency summed over
 *   the head's input columns of the out projection (calibration inputs of the dense model), the
 *   out projection compensated, and q/k/v/out sliced (`_head_surgery.ts`); round(s · heads) heads
 *   go from every block.
 *
 * @module
 */

import type { MethodContext, VariantPlan } from "../src/method.ts";
import { analyzeGraph } from "../src/onnx/blocks.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import { defineMethod } from "./_method_spec.ts";
import {
  fullAttention,
  headColumns,
  headLayout,
  setHeadCount,
  sliceHeads,
} from "./_head_surgery.ts";
import {
  accumulateHessian,
  columnSaliency,
  dampedInverse,
  obsRemoveColumns,
  obsRemoveGivenColumns,
} from "./_obs.ts";
import { floatParamCount, weightPlan } from "./_weight_plan.ts";
import { calibrationInputs, readWeight, sliceLinear, writeWeight } from "./_weights.ts";

async function structuredNeurons(ctx: MethodContext, s: number): Promise<VariantPlan> {
  const { ffn } = analyzeGraph(ctx.model.graph!);
  if (ffn.length === 0) {
    throw new Error("sparsegpt-structured prunes FFN neurons: no FFN block found");
  }
  // Slicing changes intermediate shapes; ORT would trust the exporter's stale records.
  ctx.model.graph!.valueInfo = [];
  const plan = weightPlan(ctx.model, { sparsity: s });
  let removedParams = 0;
  for (const b of ffn) {
    const { x, d } = await calibrationInputs(ctx, b.down);
    const h = accumulateHessian(x, d);
    const w64 = Float64Array.from(readWeight(ctx.model, b.down));
    const keep = obsRemoveColumns(
      w64,
      b.down.outFeatures,
      b.down.inFeatures,
      h,
      Math.round(s * b.hiddenSize),
    );
    writeWeight(ctx.model, b.down, Float32Array.from(w64));
    const idx = new GraphIndex(ctx.model.graph!);
    sliceLinear(ctx.model, idx, b.down, keep, "in");
    sliceLinear(ctx.model, idx, b.up, keep, "out");
    if (b.gate) sliceLinear(ctx.model, new GraphIndex(ctx.model.graph!), b.gate, keep, "out");
    const frac = keep.length / b.hiddenSize;
    for (const l of [b.up, b.down, ...(b.gate ? [b.gate] : [])]) {
      plan.nodeScales!.push({ node: l.name, constant: frac });
    }
    removedParams += (b.hiddenSize - keep.length) *
      (b.up.inFeatures * (b.gate ? 2 : 1) + b.down.outFeatures + (b.up.bias ? 1 : 0));
    plan.notes![`neurons kept ${b.down.name}`] = keep.length;
  }
  const params = floatParamCount(ctx.model);
  plan.extra = { compression_ratio: Number(((params + removedParams) / params).toFixed(4)) };
  return plan;
}

async function structuredHeads(ctx: MethodContext, s: number): Promise<VariantPlan> {
  const blocks = fullAttention(analyzeGraph(ctx.model.graph!).attention);
  if (blocks.length === 0) {
    throw new Error(
      "sparsegpt-structured-heads: no attention block with q, k, v and out projections",
    );
  }
  ctx.model.graph!.valueInfo = [];
  const layout = headLayout(ctx.model, blocks);
  const { heads } = layout;
  const remove = Math.round(s * heads);
  if (remove < 1 || remove >= heads) {
    throw new RangeError(
      `sparsegpt-structured-heads: ${s} of ${heads} heads removes ${remove}; need 1 to ${
        heads - 1
      }`,
    );
  }
  // Calibration inputs of every out-projection, from the dense model (all captured before any
  // block changes shape).
  const outs = blocks.map((a) => a.out);
  const captured = await ctx.capture(ctx.model, outs.map((l) => l.input));
  const plan = weightPlan(ctx.model, { sparsity: s, heads, removed_per_block: remove });
  const kept = (heads - remove) / heads;
  for (const a of blocks) {
    const out = a.out;
    const { data: x, width: d } = captured.get(out.input)!;
    const w64 = Float64Array.from(readWeight(ctx.model, out));
    const rows = out.outFeatures;
    const hinv = dampedInverse(accumulateHessian(x, d), d, w64, rows);
    const scores = Array.from({ length: heads }, (_, hd) => {
      let sc = 0;
      for (const j of headColumns(layout, [hd])) sc += columnSaliency(w64, rows, d, hinv, j);
      return { hd, sc };
    }).sort((p, q) => p.sc - q.sc);
    const gone = scores.slice(0, remove).map((p) => p.hd).sort((p, q) => p - q);
    const columns = headColumns(layout, gone);
    obsRemoveGivenColumns(w64, rows, d, hinv, columns);
    writeWeight(ctx.model, out, Float32Array.from(w64));
    sliceHeads(ctx.model, a, [...Array(d).keys()].filter((j) => !columns.includes(j)));
    for (const l of [a.q, a.k, a.v, out]) plan.nodeScales!.push({ node: l.name, constant: kept });
    plan.nodeScales!.push(
      { node: a.scores.name ?? "", constant: kept },
      { node: a.context.name ?? "", constant: kept },
    );
    plan.notes![`heads removed ${out.name}`] = gone.join(",");
  }
  setHeadCount(ctx.model, layout, heads - remove);
  plan.extra = { heads_kept: heads - remove };
  return plan;
}

const PAPER = "OBS-Diff, ICLR 2026 (structured variant); SparseGPT's OBS update";

/**
 * `sparsegpt-structured` — structured OBS on FFN neurons.
 *
 * - Skips: the removed neurons' up (and gate) rows and down columns: the FFN is sliced into
 *   smaller dense matrices, which every target runs faster. OBS-Diff's grouped "module packages"
 *   are not reproduced: neurons go one at a time, per block.
 * - Sparsity: required, s in [0, 1): round(s · hidden) neurons removed from every FFN.
 * - Parameters: none.
 * - Calibration: inputs (each down projection's Hessian, on the model pruned so far).
 */
export const sparseGptStructuredMethod = defineMethod({
  id: "sparsegpt-structured",
  title: "Structured OBS: whole FFN neurons removed with compensation, FFN sliced smaller",
  paper: PAPER,
  skips: "removed FFN neurons: up/gate rows and down columns sliced away",
  needsSparsity: true,
  calibration: "inputs",
  params: {},
  prepare: (ctx, { sparsity }) => structuredNeurons(ctx, sparsity),
});

/**
 * `sparsegpt-structured-heads` — structured OBS on attention heads.
 *
 * - Skips: the removed heads' rows of q, k and v, their columns of out, and their share of the
 *   attention products (sliced smaller). Heads are scored by summed column saliency, not
 *   OBS-Diff's block-Cholesky form, and ranked without its reciprocal-rank fusion.
 * - Sparsity: required, s in [0, 1): round(s · heads) heads removed from every block (at least
 *   one, and at least one left).
 * - Parameters: none.
 * - Calibration: inputs (each out projection's Hessian, on the dense model).
 */
export const sparseGptStructuredHeadsMethod = defineMethod({
  id: "sparsegpt-structured-heads",
  title: "Structured OBS on attention heads: heads removed with compensation, q/k/v/out sliced",
  paper: PAPER,
  skips: "removed attention heads: q/k/v rows, out columns and their attention products",
  needsSparsity: true,
  calibration: "inputs",
  params: {},
  prepare: (ctx, { sparsity }) => structuredHeads(ctx, sparsity),
});
