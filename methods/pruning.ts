/**
 * Weight pruning, the baselines every pruning paper is judged against and the OBS family:
 *
 * - `magnitude` (ShrinkBench's baseline): zero the smallest |w|, per layer (`scope: "layer"`,
 *   default) or across all pruned layers (`scope: "global"`).
 * - `wanda` (Sun et al., 2024): score |W_ij| · ‖X_j‖₂ from the calibration inputs of each layer,
 *   prune the lowest scores of each output row; no weight update.
 * - `sparsegpt` (Frantar & Alistarh, 2023; OBS-Diff's one-shot core): Hessian H = 2XXᵀ/N from each
 *   layer's calibration inputs (per-sample weights accepted, for OBS-Diff's timestep weighting),
 *   1 % mean-diagonal damping; columns in blocks of 128, mask by w² / [H⁻¹]_jj², and the surviving
 *   weights compensated with the OBS update. `n`/`m` params give N:M sparsity (`sparsegpt-nm`).
 * - `sparsegpt-structured`: whole FFN neurons (input columns of the down projection), scored by
 *   Σ_i W_ij² / [H⁻¹]_jj, removed one by one with the OBS compensation of the remaining columns and
 *   the inverse Hessian downdated; the FFN is then sliced into smaller dense matrices (up rows,
 *   down columns), so the model really is smaller.
 *
 * Layers are pruned in graph order on the model pruned so far, so each layer's calibration
 * inputs are what the pruned model really feeds it. The classifier/LM head stays dense.
 *
 * @module
 */

import type { MethodContext, SparsityMethod, VariantPlan } from "../src/method.ts";
import { analyzeGraph, type Linear } from "../src/onnx/blocks.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import { readInts } from "../src/onnx/tensor_data.ts";
import type { ModelProto, NodeProto } from "../src/onnx/model.ts";
import { choleskyUpper, spdInverse } from "./_linalg.ts";
import { requireSparsity } from "./_common.ts";
import { prunableLinears, readWeight, sliceLinear, writeWeight } from "./_weights.ts";

/**
 * H = 2 Σ_r w_r x_r x_rᵀ / Σ_r w_r over calibration rows x_r (width `d`), with optional per-row
 * weights (OBS-Diff weights denoising timesteps this way).
 *
 * @param x Rows, row-major [rows, d].
 * @param d Width.
 * @param weights Per-row weights (default 1).
 * @returns H, d × d.
 */
export function accumulateHessian(
  x: Float32Array,
  d: number,
  weights?: Float32Array,
): Float64Array {
  const rows = x.length / d;
  const h = new Float64Array(d * d);
  let total = 0;
  const row = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const w = weights?.[r] ?? 1;
    total += w;
    for (let i = 0; i < d; i++) row[i] = x[r * d + i]!;
    for (let i = 0; i < d; i++) {
      const xi = row[i]! * w;
      if (xi === 0) continue;
      const off = i * d;
      for (let j = 0; j <= i; j++) h[off + j]! += xi * row[j]!;
    }
  }
  const scale = 2 / Math.max(total, 1e-12);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = h[i * d + j]! * scale;
      h[i * d + j] = v;
      h[j * d + i] = v;
    }
  }
  return h;
}

function damp(h: Float64Array, d: number, w: Float64Array, rows: number): void {
  let mean = 0;
  for (let i = 0; i < d; i++) mean += h[i * d + i]!;
  mean /= d;
  for (let i = 0; i < d; i++) {
    if (h[i * d + i] === 0) {
      // A dead input: no signal to preserve, its weights go.
      h[i * d + i] = 1;
      for (let r = 0; r < rows; r++) w[r * d + i] = 0;
    }
    h[i * d + i]! += 0.01 * mean;
  }
}

/**
 * SparseGPT on one weight matrix W [rows, cols] (cols = inputs), in place.
 *
 * @param w W as float64, row-major.
 * @param rows Output rows.
 * @param cols Input columns.
 * @param h Hessian of the inputs (cols × cols), damped in place.
 * @param options Target sparsity, or N:M; block size (default 128).
 */
export function sparseGptPrune(
  w: Float64Array,
  rows: number,
  cols: number,
  h: Float64Array,
  options: { sparsity?: number; n?: number; m?: number; block?: number },
): void {
  damp(h, cols, w, rows);
  const u = choleskyUpper(spdInverse(h, cols), cols);
  const block = options.block ?? 128;
  for (let i1 = 0; i1 < cols; i1 += block) {
    const i2 = Math.min(i1 + block, cols);
    const count = i2 - i1;
    const w1 = new Float64Array(rows * count);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < count; j++) w1[r * count + j] = w[r * cols + i1 + j]!;
    }
    const err1 = new Float64Array(rows * count);
    const mask = new Uint8Array(rows * count);
    const hd = (j: number) => u[(i1 + j) * cols + i1 + j]!;
    if (options.sparsity !== undefined) {
      const scores = new Float64Array(rows * count);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < count; j++) {
          scores[r * count + j] = w1[r * count + j]! ** 2 / hd(j) ** 2;
        }
      }
      const sorted = Float64Array.from(scores).sort();
      const cut = Math.floor(scores.length * options.sparsity);
      const thresh = cut > 0 ? sorted[cut - 1]! : -Infinity;
      let pruned = 0;
      for (let k = 0; k < scores.length; k++) {
        if (scores[k]! <= thresh && pruned < cut) {
          mask[k] = 1;
          pruned++;
        }
      }
    }
    for (let j = 0; j < count; j++) {
      const d = hd(j);
      if (options.n !== undefined && options.m !== undefined && j % options.m === 0) {
        for (let r = 0; r < rows; r++) {
          const group = [];
          for (let c = j; c < Math.min(j + options.m, count); c++) {
            group.push({ c, s: w1[r * count + c]! ** 2 / hd(c) ** 2 });
          }
          group.sort((a, b) => a.s - b.s);
          for (const g of group.slice(0, options.m - options.n)) mask[r * count + g.c] = 1;
        }
      }
      for (let r = 0; r < rows; r++) {
        const wv = w1[r * count + j]!;
        const q = mask[r * count + j] ? 0 : wv;
        const e = (wv - q) / d;
        err1[r * count + j] = e;
        if (e !== 0) {
          for (let c = j; c < count; c++) w1[r * count + c]! -= e * u[(i1 + j) * cols + i1 + c]!;
        }
        w1[r * count + j] = q;
      }
    }
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < count; j++) w[r * cols + i1 + j] = w1[r * count + j]!;
      // Propagate this block's error to the columns after it.
      for (let j = 0; j < count; j++) {
        const e = err1[r * count + j]!;
        if (e === 0) continue;
        const urow = (i1 + j) * cols;
        for (let c = i2; c < cols; c++) w[r * cols + c]! -= e * u[urow + c]!;
      }
    }
  }
}

/**
 * Structured OBS on the input columns of W [rows, cols]: removes `remove` columns one at a time
 * (lowest Σ_i W_ij² / [H⁻¹]_jj first), compensating the remaining columns and downdating H⁻¹.
 *
 * @param w W as float64 (updated in place).
 * @param rows Rows.
 * @param cols Columns.
 * @param h Hessian of the inputs (damped in place).
 * @param remove How many columns to remove.
 * @returns The kept column indices, ascending.
 */
export function obsRemoveColumns(
  w: Float64Array,
  rows: number,
  cols: number,
  h: Float64Array,
  remove: number,
): number[] {
  damp(h, cols, w, rows);
  const hinv = spdInverse(h, cols);
  const alive = new Uint8Array(cols).fill(1);
  for (let step = 0; step < remove; step++) {
    let best = -1;
    let bestScore = Infinity;
    for (let j = 0; j < cols; j++) {
      if (!alive[j]) continue;
      let s = 0;
      for (let r = 0; r < rows; r++) s += w[r * cols + j]! ** 2;
      s /= hinv[j * cols + j]!;
      if (s < bestScore) {
        bestScore = s;
        best = j;
      }
    }
    const d = hinv[best * cols + best]!;
    for (let r = 0; r < rows; r++) {
      const f = w[r * cols + best]! / d;
      if (f === 0) continue;
      for (let c = 0; c < cols; c++) if (alive[c]) w[r * cols + c]! -= f * hinv[best * cols + c]!;
    }
    const rowB = hinv.slice(best * cols, best * cols + cols);
    for (let i = 0; i < cols; i++) {
      const f = hinv[i * cols + best]! / d;
      if (f === 0) continue;
      for (let c = 0; c < cols; c++) hinv[i * cols + c]! -= f * rowB[c]!;
    }
    alive[best] = 0;
  }
  return [...alive.keys()].filter((j) => alive[j]);
}

/**
 * OBS removal of given input columns of W [rows, cols] (a whole attention head), compensating the
 * remaining columns and downdating H⁻¹ after each.
 *
 * @param w W as float64 (updated in place).
 * @param rows Rows.
 * @param cols Columns.
 * @param hinv H⁻¹ (updated in place).
 * @param columns Columns to remove.
 */
export function obsRemoveGivenColumns(
  w: Float64Array,
  rows: number,
  cols: number,
  hinv: Float64Array,
  columns: readonly number[],
): void {
  const alive = new Uint8Array(cols).fill(1);
  for (const j of columns) {
    const d = hinv[j * cols + j]!;
    for (let r = 0; r < rows; r++) {
      const f = w[r * cols + j]! / d;
      if (f === 0) continue;
      for (let c = 0; c < cols; c++) if (alive[c]) w[r * cols + c]! -= f * hinv[j * cols + c]!;
    }
    const rowJ = hinv.slice(j * cols, j * cols + cols);
    for (let i2 = 0; i2 < cols; i2++) {
      const f = hinv[i2 * cols + j]! / d;
      if (f === 0) continue;
      for (let c = 0; c < cols; c++) hinv[i2 * cols + c]! -= f * rowJ[c]!;
    }
    alive[j] = 0;
    for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
  }
}

/** One dimension of a Reshape target that is a constant somewhere in the graph. */
interface TargetDim {
  /** Its value. */
  value: number;
  /** The initializer holding it and the element index. */
  tensor: string;
  index: number;
}

/**
 * The dimensions of a Reshape's target: a constant tensor, or a Concat of constant scalars and
 * shape pieces (the dynamo exporter's form); undefined entries are computed at run time.
 */
function targetDims(idx: GraphIndex, reshape: NodeProto): (TargetDim | undefined)[] | undefined {
  const target = reshape.input?.[1];
  if (!target) return undefined;
  const init = idx.initializers.get(target);
  if (init) return readInts(init).map((value, index) => ({ value, tensor: target, index }));
  const concat = idx.producer.get(target);
  if (concat?.opType !== "Concat") return undefined;
  return (concat.input ?? []).map((part) => {
    const t = idx.initializers.get(part);
    if (!t) return undefined;
    const v = readInts(t);
    return v.length === 1 ? { value: v[0]!, tensor: part, index: 0 } : undefined;
  });
}

function setDims(model: ModelProto, changes: Map<string, Map<number, number>>): void {
  const idx = new GraphIndex(model.graph!);
  for (const [name, byIndex] of changes) {
    const t = idx.initializers.get(name)!;
    const v = readInts(t);
    for (const [i, value] of byIndex) v[i] = value;
    t.rawData = new Uint8Array(new BigInt64Array(v.map(BigInt)).buffer);
    delete t.int64Data;
  }
}

async function structuredHeads(ctx: MethodContext): Promise<VariantPlan> {
  const s = requireSparsity("sparsegpt-structured-heads", ctx.sparsity);
  const { attention } = analyzeGraph(ctx.model.graph!);
  const blocks = attention.filter((a) => a.q && a.k && a.v && a.out);
  if (blocks.length === 0) {
    throw new Error(
      "sparsegpt-structured-heads: no attention block with q, k, v and out projections",
    );
  }
  ctx.model.graph!.valueInfo = [];
  const idx0 = new GraphIndex(ctx.model.graph!);
  // Heads and head size come from the Reshape that splits q into [batch, tokens, heads, dh].
  const splitOf = (l: Linear) => {
    const r = idx0.soleConsumer(l.output);
    const dims = r?.opType === "Reshape" ? targetDims(idx0, r) : undefined;
    return dims?.length === 4 && dims[2] && dims[3] ? { heads: dims[2], dh: dims[3] } : undefined;
  };
  const first = splitOf(blocks[0]!.q!);
  if (!first) {
    throw new Error(
      "sparsegpt-structured-heads: cannot find the [batch, tokens, heads, head_dim] reshape of q",
    );
  }
  const heads = first.heads.value;
  const dh = first.dh.value;
  const remove = Math.round(s * heads);
  if (remove < 1 || remove >= heads) {
    throw new RangeError(
      `sparsegpt-structured-heads: ${s} of ${heads} heads removes ${remove}; need 1 to ${
        heads - 1
      }`,
    );
  }
  // Every block keeps the same number of heads, so shared reshape targets change once, consistently.
  const changes = new Map<string, Map<number, number>>();
  const change = (d: TargetDim, value: number) =>
    (changes.get(d.tensor) ?? changes.set(d.tensor, new Map()).get(d.tensor)!).set(d.index, value);
  for (const a of blocks) {
    for (const l of [a.q!, a.k!, a.v!]) {
      const sp = splitOf(l);
      if (!sp || sp.heads.value !== heads || sp.dh.value !== dh) {
        throw new Error(
          `sparsegpt-structured-heads: ${l.name} does not split into ${heads} heads of ${dh}`,
        );
      }
      change(sp.heads, heads - remove);
    }
    const merge = (idx0.consumers.get(a.context.output![0]!) ?? []).flatMap((
      t,
    ) => (t.opType === "Transpose" ? idx0.consumers.get(t.output![0]!) ?? [] : []))
      .find((n) => n.opType === "Reshape");
    const dims = merge ? targetDims(idx0, merge) : undefined;
    const width = dims?.[2];
    if (!width || width.value !== heads * dh) {
      throw new Error("sparsegpt-structured-heads: cannot find the reshape that merges the heads");
    }
    change(width, (heads - remove) * dh);
  }
  // Calibration inputs of every out-projection, from the dense model (all captured before any
  // block changes shape).
  const outs = blocks.map((a) => a.out!);
  const captured = await ctx.capture(ctx.model, outs.map((l) => l.input));
  const plan: VariantPlan = {
    model: ctx.model,
    sparse: [],
    selection: [],
    nodeScales: [],
    notes: { sparsity: s, heads, removed_per_block: remove },
    kernel: { inputs: {}, gates: {}, weightsFromVariant: true },
  };
  const kept = (heads - remove) / heads;
  for (const a of blocks) {
    const out = a.out!;
    const { data: x, width: d } = captured.get(out.input)!;
    const h = accumulateHessian(x, d);
    const w64 = Float64Array.from(readWeight(ctx.model, out));
    const rows = out.outFeatures;
    damp(h, d, w64, rows);
    const hinv = spdInverse(h, d);
    const scores = Array.from({ length: heads }, (_, hd) => {
      let sc = 0;
      for (let j = hd * dh; j < (hd + 1) * dh; j++) {
        let col = 0;
        for (let r = 0; r < rows; r++) col += w64[r * d + j]! ** 2;
        sc += col / hinv[j * d + j]!;
      }
      return { hd, sc };
    }).sort((p, q) => p.sc - q.sc);
    const gone = scores.slice(0, remove).map((p) => p.hd).sort((p, q) => p - q);
    const columns = gone.flatMap((hd) => Array.from({ length: dh }, (_, i2) => hd * dh + i2));
    obsRemoveGivenColumns(w64, rows, d, hinv, columns);
    writeWeight(ctx.model, out, Float32Array.from(w64));
    const keep = [...Array(d).keys()].filter((j) => !columns.includes(j));
    for (const l of [out, a.q!, a.k!, a.v!]) {
      sliceLinear(ctx.model, new GraphIndex(ctx.model.graph!), l, keep, l === out ? "in" : "out");
    }
    for (const l of [a.q!, a.k!, a.v!, out]) {
      plan.nodeScales!.push({ node: l.name, constant: kept });
    }
    plan.nodeScales!.push({ node: a.scores.name ?? "", constant: kept }, {
      node: a.context.name ?? "",
      constant: kept,
    });
    plan.notes![`heads removed ${out.name}`] = gone.join(",");
  }
  setDims(ctx.model, changes);
  plan.extra = { heads_kept: heads - remove };
  return plan;
}

function nonzeroFraction(w: Float32Array): number {
  let nz = 0;
  for (const v of w) if (v !== 0) nz++;
  return nz / w.length;
}

async function inputsOf(ctx: MethodContext, l: Linear): Promise<{ x: Float32Array; d: number }> {
  const got = (await ctx.capture(ctx.model, [l.input])).get(l.input)!;
  if (got.width !== l.inFeatures) {
    throw new Error(`${l.name}: calibration input width ${got.width} is not ${l.inFeatures}`);
  }
  return { x: got.data, d: got.width };
}

function finish(
  ctx: MethodContext,
  plan: VariantPlan,
  pruned: { l: Linear; w: Float32Array }[],
): VariantPlan {
  let params = 0;
  let zeros = 0;
  for (const t of ctx.model.graph!.initializer ?? []) {
    if (t.dataType !== 1) continue;
    const n = (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1);
    params += n;
  }
  for (const p of pruned) {
    zeros += p.w.length - Math.round(nonzeroFraction(p.w) * p.w.length);
    plan.nodeScales!.push({ node: p.l.name, constant: nonzeroFraction(p.w) });
  }
  plan.extra = {
    ...(plan.extra ?? {}),
    compression_ratio: Number((params / Math.max(1, params - zeros)).toFixed(4)),
  };
  return plan;
}

async function unstructured(
  ctx: MethodContext,
  kind: "magnitude" | "wanda" | "sparsegpt",
  nm?: { n: number; m: number },
): Promise<VariantPlan> {
  const s = nm ? 1 - nm.n / nm.m : requireSparsity(kind, ctx.sparsity);
  const linears = prunableLinears(analyzeGraph(ctx.model.graph!).linears);
  const plan: VariantPlan = {
    model: ctx.model,
    sparse: [],
    selection: [],
    nodeScales: [],
    notes: { sparsity: s },
    kernel: { inputs: {}, gates: {}, weightsFromVariant: true },
  };
  const pruned: { l: Linear; w: Float32Array }[] = [];
  if (kind === "magnitude" && ctx.params.scope === "global") {
    const all = linears.map((l) => ({ l, w: readWeight(ctx.model, l) }));
    const mags = Float32Array.from(all.flatMap((a) => [...a.w].map(Math.abs))).sort();
    const t = mags[Math.floor(mags.length * s)] ?? Infinity;
    for (const a of all) {
      a.w.forEach((v, i) => {
        if (Math.abs(v) < t) a.w[i] = 0;
      });
      writeWeight(ctx.model, a.l, a.w);
      pruned.push(a);
    }
    return finish(ctx, plan, pruned);
  }
  for (const l of linears) {
    const w = readWeight(ctx.model, l);
    const rows = l.outFeatures;
    const cols = l.inFeatures;
    if (kind === "magnitude") {
      const t = Float32Array.from(w, Math.abs).sort()[Math.floor(w.length * s)] ?? Infinity;
      w.forEach((v, i) => {
        if (Math.abs(v) < t) w[i] = 0;
      });
    } else if (kind === "wanda") {
      const { x } = await inputsOf(ctx, l);
      const norms = new Float64Array(cols);
      for (let r = 0; r < x.length / cols; r++) {
        for (let j = 0; j < cols; j++) norms[j]! += x[r * cols + j]! ** 2;
      }
      const k = Math.floor(cols * s);
      for (let r = 0; r < rows; r++) {
        const order = [...Array(cols).keys()].sort((a, b) =>
          Math.abs(w[r * cols + a]!) * Math.sqrt(norms[a]!) -
          Math.abs(w[r * cols + b]!) * Math.sqrt(norms[b]!)
        );
        for (const j of order.slice(0, k)) w[r * cols + j] = 0;
      }
    } else {
      const { x, d } = await inputsOf(ctx, l);
      const h = accumulateHessian(x, d);
      const w64 = Float64Array.from(w);
      sparseGptPrune(w64, rows, cols, h, nm ? { n: nm.n, m: nm.m } : { sparsity: s });
      w.set(w64);
    }
    writeWeight(ctx.model, l, w);
    pruned.push({ l, w });
  }
  return finish(ctx, plan, pruned);
}

async function structured(ctx: MethodContext): Promise<VariantPlan> {
  const s = requireSparsity("sparsegpt-structured", ctx.sparsity);
  const { ffn } = analyzeGraph(ctx.model.graph!);
  if (ffn.length === 0) {
    throw new Error("sparsegpt-structured prunes FFN neurons: no FFN block found");
  }
  ctx.model.graph!.valueInfo = [];
  const plan: VariantPlan = {
    model: ctx.model,
    sparse: [],
    selection: [],
    nodeScales: [],
    notes: { sparsity: s },
    kernel: { inputs: {}, gates: {}, weightsFromVariant: true },
  };
  let removedParams = 0;
  for (const b of ffn) {
    const { x, d } = await inputsOf(ctx, b.down);
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
  let params = 0;
  for (const t of ctx.model.graph!.initializer ?? []) {
    if (t.dataType === 1) params += (t.dims ?? []).reduce<number>((a, v) => a * Number(v), 1);
  }
  plan.extra = { compression_ratio: Number(((params + removedParams) / params).toFixed(4)) };
  return plan;
}

function nmParams(ctx: MethodContext): { n: number; m: number } {
  const n = Number(ctx.params.n ?? 2);
  const m = Number(ctx.params.m ?? 4);
  if (!(Number.isInteger(n) && Number.isInteger(m) && n > 0 && n < m)) {
    throw new RangeError(`sparsegpt-nm: need integers 0 < n < m, got ${n}:${m}`);
  }
  return { n, m };
}

/** ShrinkBench's magnitude pruning. */
export const magnitudeMethod: SparsityMethod = {
  id: "magnitude",
  title: "Magnitude pruning (ShrinkBench baseline), layer-wise or global",
  needsSparsity: true,
  calibrated: false,
  prepare: (ctx) => unstructured(ctx, "magnitude"),
};
/** Wanda. */
export const wandaMethod: SparsityMethod = {
  id: "wanda",
  title: "Wanda: |W|·‖X‖₂ per output row, no update",
  needsSparsity: true,
  calibrated: false,
  prepare: (ctx) => unstructured(ctx, "wanda"),
};
/** SparseGPT, unstructured. */
export const sparseGptMethod: SparsityMethod = {
  id: "sparsegpt",
  title: "SparseGPT / OBS: w²/[H⁻¹]² mask with OBS compensation, unstructured",
  needsSparsity: true,
  calibrated: false,
  prepare: (ctx) => unstructured(ctx, "sparsegpt"),
};
/** SparseGPT, N:M. */
export const sparseGptNmMethod: SparsityMethod = {
  id: "sparsegpt-nm",
  title: "SparseGPT / OBS with N:M sparsity (params n, m)",
  needsSparsity: false,
  calibrated: false,
  prepare: (ctx) => unstructured(ctx, "sparsegpt", nmParams(ctx)),
};
/** Structured OBS on attention heads: whole heads removed with compensation, projections sliced. */
export const sparseGptStructuredHeadsMethod: SparsityMethod = {
  id: "sparsegpt-structured-heads",
  title: "Structured OBS on attention heads: heads removed with compensation, q/k/v/out sliced",
  needsSparsity: true,
  calibrated: false,
  prepare: (ctx) => structuredHeads(ctx),
};

/** SparseGPT/OBS structured: FFN neurons removed and the FFN sliced. */
export const sparseGptStructuredMethod: SparsityMethod = {
  id: "sparsegpt-structured",
  title: "Structured OBS: whole FFN neurons removed with compensation, FFN sliced smaller",
  needsSparsity: true,
  calibrated: false,
  prepare: (ctx) => structured(ctx),
};

/**
 * Dense parameters and those left nonzero, for compression ratios of a model.
 *
 * @param model The model.
 * @returns Counts.
 */
export function countParams(model: ModelProto): { params: number; nonzero: number } {
  let params = 0;
  let nonzero = 0;
  const idx = new GraphIndex(model.graph!);
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataType !== 1) continue;
    const v = idx.constantFloats(t.name!)!.data;
    params += v.length;
    for (const x of v) if (x !== 0) nonzero++;
  }
  return { params, nonzero };
}
