/**
 * `obs-diff` — OBS-Diff (Zhu et al., ICLR 2026): one-shot Optimal Brain Surgeon pruning of a
 * diffusion transformer with a timestep-aware Hessian and group-wise sequential calibration.
 *
 * - **Calibration along the trajectory.** The suite's sampler runs the model on calibration noise
 *   and classes and captures each pruned layer's inputs at every denoising step k = 0 … K − 1 (in
 *   sampling order, k = 0 the noisiest). Rows are step-major: the rows of step k are the k-th of
 *   K equal slices (`TrajectoryCapture`).
 * - **Timestep weights (the paper's `log_decrease`).** Step k weighs
 *
 *     w_k = w_min + (w_max − w_min) · ln(K − k) / ln K,   w_max = 1.2, w_min = 0.8,
 *
 *   so the first step gets 1.2, the last 0.8, decreasing logarithmically: early errors accumulate
 *   over every step after them. The Hessian is H = 2 Σ_r w_{k(r)} x_r x_rᵀ / Σ_r w_{k(r)}
 *   (`accumulateHessian`'s row weights); `weighting: "uniform"` sets every w_k = 1, the ablation.
 * - **Group-wise sequential pruning.** The transformer blocks are split into `groups` consecutive
 *   groups; per group, one trajectory pass on the model pruned so far captures every input the
 *   group needs, all of the group's layers are pruned from it, and the next group is calibrated
 *   through the pruned model.
 * - **Granularities.** `unstructured`: SparseGPT's blocked mask and OBS update (`_obs.ts`) at
 *   sparsity s per layer; `2:4`: the same, 2 kept of every 4 inputs; `heads`: round(s · heads)
 *   heads per block, scored by the OBS column saliency Σ_i W_ij² / [H⁻¹]_jj summed over the head's
 *   input columns of the out projection, removed with the OBS compensation of the rest; `neurons`:
 *   round(s · hidden) FFN neurons per block, removed one by one from the down projection with the
 *   compensation and H⁻¹ downdate. Structured units are zeroed while the groups go on (so every
 *   intermediate model runs), then q/k/v/out (or up/down) are sliced into smaller dense matrices
 *   and the head count is rewritten.
 * - **Baselines on the same blocks and granularities** (`score`): `magnitude` (|w|; units by
 *   Σ W² of their out/down columns) and `wanda` (|W_ij| · ‖X_j‖₂ per output row; units by
 *   ‖X_j‖² Σ_i W_ij²), neither with compensation; their calibration (Wanda's norms) is the same
 *   trajectory, unweighted.
 *
 * Only the attention and FFN linears of the transformer blocks are pruned: the patch embedding,
 * the timestep MLP and the output head stay dense (as the paper prunes the transformer blocks).
 * The method needs the trajectory capture of a diffusion suite (`DiffusionMethodContext`), so it
 * is not in the registry of model-suite methods; the `obs-diff` suite calls it.
 *
 * @module
 */

import type { Captured, MethodContext, VariantPlan } from "../src/method.ts";
import { analyzeGraph, type FfnBlock, type Linear } from "../src/onnx/blocks.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import type { ModelProto } from "../src/onnx/model.ts";
import { defineMethod } from "./_method_spec.ts";
import {
  type FullAttention,
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
  sparseGptPrune,
} from "./_obs.ts";
import { floatParamCount, weightPlan } from "./_weight_plan.ts";
import { readWeight, sliceLinear, writeWeight } from "./_weights.ts";
import { inputNorms } from "./wanda.ts";

/** Values captured along the sampling trajectory. */
export interface TrajectoryCapture {
  /** By value name; rows step-major (the rows of step k are the k-th of `steps` equal slices). */
  values: Map<string, Captured>;
  /** Denoising steps K the rows cover, in sampling order. */
  steps: number;
}

/** The method context of a diffusion suite: calibration runs the sampler. */
export interface DiffusionMethodContext extends MethodContext {
  /**
   * Runs the sampler on the calibration noise and classes with `model` as the denoiser and
   * captures the named values at every step.
   *
   * @param model The denoiser (the model pruned so far).
   * @param values Value names.
   * @returns The captured rows.
   */
  captureTrajectory(model: ModelProto, values: string[]): Promise<TrajectoryCapture>;
}

/** Highest and lowest timestep weight of the paper's `log_decrease` schedule. */
export const LOG_DECREASE_RANGE = { max: 1.2, min: 0.8 } as const;

/**
 * The per-step weights: `log` gives w_k = w_min + (w_max − w_min) · ln(K − k) / ln K (k = 0 the
 * first, noisiest step; 1.2 down to 0.8), `uniform` gives 1.
 *
 * @param steps K.
 * @param weighting `log` or `uniform`.
 * @returns K weights in sampling order.
 */
export function timestepWeights(steps: number, weighting: "log" | "uniform"): Float64Array {
  const { max, min } = LOG_DECREASE_RANGE;
  return Float64Array.from(
    { length: steps },
    (_, k) =>
      weighting === "uniform" || steps < 2
        ? 1
        : min + (max - min) * Math.log(steps - k) / Math.log(steps),
  );
}

/**
 * Each captured row's weight, for rows laid out step-major over `steps` steps.
 *
 * @param rows Rows.
 * @param steps Steps (must divide rows).
 * @param perStep The step weights.
 * @returns One weight per row.
 */
export function rowWeights(rows: number, steps: number, perStep: Float64Array): Float32Array {
  if (rows % steps !== 0) {
    throw new RangeError(`${rows} captured rows do not split into ${steps} equal steps`);
  }
  const per = rows / steps;
  return Float32Array.from({ length: rows }, (_, r) => perStep[Math.floor(r / per)]!);
}

/** One transformer block: its attention and the FFN after it. */
export interface DitBlock {
  /** The attention (q, k, v, out all linears). */
  attention: FullAttention;
  /** The FFN that follows it. */
  ffn: FfnBlock;
}

/**
 * The transformer blocks: every attention with q/k/v/out projections, paired with the first FFN
 * after its softmax (an FFN before the first attention, such as a timestep MLP, is no block's).
 *
 * @param model The model.
 * @returns Blocks in graph order.
 * @throws {Error} When an attention has no FFN after it.
 */
export function transformerBlocks(model: ModelProto): DitBlock[] {
  const g = analyzeGraph(model.graph!);
  const order = new Map((model.graph!.node ?? []).map((n, i) => [n, i]));
  const attention = fullAttention(g.attention).sort((a, b) =>
    order.get(a.softmax)! - order.get(b.softmax)!
  );
  return attention.map((a, i) => {
    const from = order.get(a.softmax)!;
    const to = i + 1 < attention.length ? order.get(attention[i + 1]!.softmax)! : Infinity;
    const ffn = g.ffn.find((f) => {
      const at = order.get(f.up.node)!;
      return at > from && at < to;
    });
    if (!ffn) throw new Error(`obs-diff: attention block ${i} has no FFN after it`);
    return { attention: a, ffn };
  });
}

/** What one pruning run does. */
export interface DiffusionPruning {
  /** Sparsity of each layer (unstructured) or fraction of units per block (heads, neurons). */
  sparsity: number;
  /** The unit pruned. */
  granularity: "unstructured" | "2:4" | "heads" | "neurons";
  /** How weights are scored. */
  score: "obs" | "magnitude" | "wanda";
  /** Timestep weighting of the OBS Hessian. */
  weighting: "log" | "uniform";
  /** Groups of consecutive blocks calibrated in turn. */
  groups: number;
}

/** The linears a granularity prunes in a block. */
function blockLinears(b: DitBlock, granularity: DiffusionPruning["granularity"]): Linear[] {
  const a = b.attention;
  if (granularity === "heads") return [a.out];
  if (granularity === "neurons") return [b.ffn.down];
  return [a.q, a.k, a.v, a.out, b.ffn.up, b.ffn.down];
}

/** Zeroes the lowest-scoring fraction (or N:M) of every output row of w [rows, cols]. */
function pruneRowsByScore(
  w: Float32Array,
  shape: { rows: number; cols: number },
  score: (r: number, j: number) => number,
  mask: { sparsity: number } | { n: number; m: number },
): void {
  const { rows, cols } = shape;
  for (let r = 0; r < rows; r++) {
    if ("sparsity" in mask) {
      const order = [...Array(cols).keys()].sort((a, b) => score(r, a) - score(r, b));
      for (const j of order.slice(0, Math.floor(cols * mask.sparsity))) w[r * cols + j] = 0;
      continue;
    }
    for (let j0 = 0; j0 < cols; j0 += mask.m) {
      const group = [...Array(Math.min(mask.m, cols - j0)).keys()].map((i) => j0 + i)
        .sort((a, b) => score(r, a) - score(r, b));
      for (const j of group.slice(0, group.length - mask.n)) w[r * cols + j] = 0;
    }
  }
}

/** Σ_i W_ij² of each input column j. */
function columnEnergy(w: Float64Array, rows: number, cols: number): Float64Array {
  const e = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) e[j]! += w[r * cols + j]! ** 2;
  return e;
}

/** The lowest `count` of some scores, ascending by index. */
function lowest(scores: readonly number[], count: number): number[] {
  return scores.map((s, i) => ({ s, i })).sort((a, b) => a.s - b.s).slice(0, count)
    .map((p) => p.i).sort((a, b) => a - b);
}

/** Per-layer figures of a pruning run. */
interface Pruned {
  /** Kept fraction of each unstructured layer's weights, by linear name. */
  kept: Map<string, number>;
  /** Removed head indices per block (heads). */
  heads: number[][];
  /** Kept neuron indices per block (neurons). */
  neurons: number[][];
  /** Trajectory passes run. */
  passes: number;
}

async function pruneGroups(
  ctx: DiffusionMethodContext,
  blocks: DitBlock[],
  p: DiffusionPruning,
  headInfo: { heads: number; dh: number } | undefined,
): Promise<Pruned> {
  const out: Pruned = { kept: new Map(), heads: [], neurons: [], passes: 0 };
  const per = Math.ceil(blocks.length / p.groups);
  for (let g0 = 0; g0 < blocks.length; g0 += per) {
    const group = blocks.slice(g0, g0 + per);
    const linears = group.flatMap((b) => blockLinears(b, p.granularity));
    const inputs = [...new Set(linears.map((l) => l.input))];
    const cap = await ctx.captureTrajectory(ctx.model, inputs);
    out.passes++;
    const weights = timestepWeights(cap.steps, p.weighting);
    const hessians = new Map<string, Float64Array>();
    const hessian = (l: Linear): Float64Array => {
      const c = cap.values.get(l.input)!;
      if (c.width !== l.inFeatures) {
        throw new Error(`obs-diff: ${l.name} input width ${c.width} is not ${l.inFeatures}`);
      }
      if (!hessians.has(l.input)) {
        const rw = rowWeights(c.data.length / c.width, cap.steps, weights);
        hessians.set(l.input, accumulateHessian(c.data, c.width, rw));
      }
      return Float64Array.from(hessians.get(l.input)!);
    };
    const norms = (l: Linear) => inputNorms(cap.values.get(l.input)!.data, l.inFeatures);
    for (const b of group) {
      if (p.granularity === "heads") {
        out.heads.push(pruneHeads(ctx, b, p, headInfo!, { hessian, norms }));
      } else if (p.granularity === "neurons") {
        out.neurons.push(pruneNeurons(ctx, b, p, { hessian, norms }));
      } else {
        for (const l of blockLinears(b, p.granularity)) {
          out.kept.set(l.name, pruneWeights(ctx.model, l, p, { hessian, norms }));
        }
      }
    }
  }
  return out;
}

interface Stats {
  hessian: (l: Linear) => Float64Array;
  norms: (l: Linear) => Float64Array;
}

/** Unstructured or 2:4 pruning of one linear; returns its kept fraction. */
function pruneWeights(model: ModelProto, l: Linear, p: DiffusionPruning, s: Stats): number {
  const w = readWeight(model, l);
  const rows = l.outFeatures, cols = l.inFeatures;
  const mask = p.granularity === "2:4" ? { n: 2, m: 4 } : { sparsity: p.sparsity };
  if (p.score === "obs") {
    const w64 = Float64Array.from(w);
    sparseGptPrune(w64, rows, cols, s.hessian(l), mask);
    w.set(w64);
  } else if (p.score === "magnitude") {
    pruneRowsByScore(w, { rows, cols }, (r, j) => Math.abs(w[r * cols + j]!), mask);
  } else {
    const n = s.norms(l);
    pruneRowsByScore(w, { rows, cols }, (r, j) => Math.abs(w[r * cols + j]!) * n[j]!, mask);
  }
  writeWeight(model, l, w);
  let nz = 0;
  for (const v of w) if (v !== 0) nz++;
  return nz / w.length;
}

/** Removes heads from one block's out projection (zeroed, compensated for OBS); returns them. */
function pruneHeads(
  ctx: MethodContext,
  b: DitBlock,
  p: DiffusionPruning,
  info: { heads: number; dh: number },
  s: Stats,
): number[] {
  const out = b.attention.out;
  const rows = out.outFeatures, d = out.inFeatures;
  const w64 = Float64Array.from(readWeight(ctx.model, out));
  const remove = Math.round(p.sparsity * info.heads);
  const layout = { heads: info.heads, headDim: info.dh, splits: [], merges: [] };
  const cols = (hd: number) => headColumns(layout, [hd]);
  let scores: number[];
  let hinv: Float64Array | undefined;
  if (p.score === "obs") {
    hinv = dampedInverse(s.hessian(out), d, w64, rows);
    scores = Array.from(
      { length: info.heads },
      (_, hd) => cols(hd).reduce((sum, j) => sum + columnSaliency(w64, rows, d, hinv!, j), 0),
    );
  } else {
    const e = columnEnergy(w64, rows, d);
    const n = p.score === "wanda" ? s.norms(out) : undefined;
    scores = Array.from(
      { length: info.heads },
      (_, hd) => cols(hd).reduce((sum, j) => sum + e[j]! * (n ? n[j]! ** 2 : 1), 0),
    );
  }
  const gone = lowest(scores, remove);
  const columns = headColumns(layout, gone);
  if (hinv) obsRemoveGivenColumns(w64, rows, d, hinv, columns);
  else for (let r = 0; r < rows; r++) for (const j of columns) w64[r * d + j] = 0;
  writeWeight(ctx.model, out, Float32Array.from(w64));
  return gone;
}

/** Removes FFN neurons from one block's down projection (zeroed); returns the kept ones. */
function pruneNeurons(ctx: MethodContext, b: DitBlock, p: DiffusionPruning, s: Stats): number[] {
  const down = b.ffn.down;
  const rows = down.outFeatures, cols = down.inFeatures;
  const remove = Math.round(p.sparsity * b.ffn.hiddenSize);
  const w64 = Float64Array.from(readWeight(ctx.model, down));
  let keep: number[];
  if (p.score === "obs") keep = obsRemoveColumns(w64, rows, cols, s.hessian(down), remove);
  else {
    const e = columnEnergy(w64, rows, cols);
    const n = p.score === "wanda" ? s.norms(down) : undefined;
    const gone = new Set(lowest([...e].map((v, j) => v * (n ? n[j]! ** 2 : 1)), remove));
    keep = [...Array(cols).keys()].filter((j) => !gone.has(j));
    for (let r = 0; r < rows; r++) for (const j of gone) w64[r * cols + j] = 0;
  }
  writeWeight(ctx.model, down, Float32Array.from(w64));
  return keep;
}

/**
 * Prunes a diffusion transformer's blocks (see the module doc) and slices structured units away.
 *
 * @param ctx The diffusion method context (its model is rewritten in place).
 * @param p What to prune and how.
 * @returns The plan: unstructured layers' FLOPs scale with their kept fraction (`nodeScales`);
 *   sliced models are counted as they are.
 */
export async function pruneDiffusion(
  ctx: DiffusionMethodContext,
  p: DiffusionPruning,
): Promise<VariantPlan> {
  const blocks = transformerBlocks(ctx.model);
  if (blocks.length === 0) {
    throw new Error("obs-diff: no transformer block (attention + FFN) found");
  }
  const structured = p.granularity === "heads" || p.granularity === "neurons";
  const layout = p.granularity === "heads"
    ? headLayout(ctx.model, blocks.map((b) => b.attention))
    : undefined;
  if (layout) {
    const remove = Math.round(p.sparsity * layout.heads);
    if (remove < 1 || remove >= layout.heads) {
      throw new RangeError(
        `obs-diff: ${p.sparsity} of ${layout.heads} heads removes ${remove}; choose a sparsity that removes 1 to ${
          layout.heads - 1
        }`,
      );
    }
  }
  const paramsBefore = floatParamCount(ctx.model);
  const plan = weightPlan(ctx.model, {
    sparsity: p.sparsity,
    granularity: p.granularity,
    score: p.score,
    weighting: p.score === "obs" ? p.weighting : "none",
    groups: p.groups,
  });
  const info = layout ? { heads: layout.heads, dh: layout.headDim } : undefined;
  const pruned = await pruneGroups(ctx, blocks, p, info);
  plan.notes!.trajectory_passes = pruned.passes;
  if (!structured) {
    let zeros = 0;
    for (const b of blocks) {
      for (const l of blockLinears(b, p.granularity)) {
        const kept = pruned.kept.get(l.name)!;
        plan.nodeScales!.push({ node: l.name, constant: kept });
        zeros += Math.round((1 - kept) * l.inFeatures * l.outFeatures);
      }
    }
    plan.extra = {
      compression_ratio: Number((paramsBefore / Math.max(1, paramsBefore - zeros)).toFixed(4)),
    };
    return plan;
  }
  // Slicing changes intermediate shapes; ORT would trust the exporter's stale records.
  ctx.model.graph!.valueInfo = [];
  if (layout) {
    blocks.forEach((b, i) => {
      const gone = new Set(headColumns(layout, pruned.heads[i]!));
      sliceHeads(
        ctx.model,
        b.attention,
        [...Array(b.attention.out.inFeatures).keys()].filter((j) => !gone.has(j)),
      );
      plan.notes![`heads removed block ${i}`] = pruned.heads[i]!.join(",");
    });
    setHeadCount(ctx.model, layout, layout.heads - Math.round(p.sparsity * layout.heads));
    plan.extra = { heads_kept: layout.heads - Math.round(p.sparsity * layout.heads) };
  } else {
    blocks.forEach((b, i) => {
      const keep = pruned.neurons[i]!;
      sliceLinear(ctx.model, new GraphIndex(ctx.model.graph!), b.ffn.down, keep, "in");
      sliceLinear(ctx.model, new GraphIndex(ctx.model.graph!), b.ffn.up, keep, "out");
      plan.notes![`neurons kept block ${i}`] = keep.length;
    });
  }
  plan.extra = {
    ...plan.extra,
    compression_ratio: Number((paramsBefore / floatParamCount(ctx.model)).toFixed(4)),
  };
  return plan;
}

/**
 * `obs-diff` — OBS-Diff on a diffusion transformer (see the module doc).
 *
 * - Skips: unstructured and 2:4, the zeroed weights (FLOPs by nonzero fraction; the matrices
 *   still run densely); heads and neurons, the removed units, sliced away (smaller dense
 *   matrices, faster on every target).
 * - Sparsity: required, s in [0, 1): per layer (unstructured), ignored for 2:4 (it is 0.5), the
 *   fraction of heads or FFN neurons removed from every block.
 * - Parameters: `granularity` (`unstructured`, `2:4`, `heads`, `neurons`), `weighting` (`log`,
 *   the paper's, or `uniform`), `score` (`obs`, or the baselines `magnitude` and `wanda`),
 *   `groups` (block groups calibrated in turn, default 2).
 * - Calibration: inputs, along the sampling trajectory (`DiffusionMethodContext`).
 */
export const obsDiffMethod = defineMethod({
  id: "obs-diff",
  title: "OBS-Diff: OBS pruning with a timestep-weighted Hessian, group-wise sequential",
  paper: "Zhu et al., OBS-Diff: Accurate Pruning for Diffusion Models in One-Shot, ICLR 2026",
  skips: "zeroed weights (unstructured, 2:4) or sliced heads / FFN neurons (structured)",
  needsSparsity: true,
  calibration: "inputs",
  params: {
    granularity: {
      kind: "choice",
      values: ["unstructured", "2:4", "heads", "neurons"],
      default: "unstructured",
      doc: "the unit pruned",
    },
    weighting: {
      kind: "choice",
      values: ["log", "uniform"],
      default: "log",
      doc: "timestep weights of the Hessian: the paper's log decrease, or all 1",
    },
    score: {
      kind: "choice",
      values: ["obs", "magnitude", "wanda"],
      default: "obs",
      doc: "OBS, or a baseline scored on the same blocks without compensation",
    },
    groups: {
      kind: "number",
      integer: true,
      min: 1,
      default: 2,
      doc: "groups of consecutive blocks, each calibrated through the model pruned so far",
    },
  },
  prepare(ctx, { sparsity, params }) {
    if (!("captureTrajectory" in ctx)) {
      throw new Error(
        "obs-diff needs a diffusion suite's trajectory capture; run it through the obs-diff suite",
      );
    }
    return pruneDiffusion(ctx as DiffusionMethodContext, { sparsity, ...params });
  },
});
