/**
 * `corematching`, `corematching-tokens`, `corematching-neurons` — CoreMatching (Wang et al.,
 * ICML 2025): token sparsity and neuron sparsity that reinforce each other, for ViTs.
 *
 * - Core neurons of an FFN: per token, the top-α fraction of neurons (positive activations only);
 *   the core neurons are those in at least a β fraction of the tokens.
 * - Core tokens at block L: each token scores the overlap of its activated neurons with the core
 *   neurons of that input; tokens above the elbow of the sorted scores (the point farthest from
 *   the line through the first and last) are kept, and the class token always is.
 * - After block L only the core tokens go on: the sequence really gets shorter (a Gather in the
 *   graph; the released code zeroes K/V instead, which saves nothing). The FFNs after block L
 *   compute only their core neurons: their weights are sliced to smaller dense matrices.
 *
 * Deviation, stated: a single-pass classifier has no decode phase in which per-input core neurons
 * could be reused, so the core neurons of the blocks after L are found once on the calibration
 * split (the same α/β rule over its tokens) and sliced statically; the core tokens are found per
 * input, at block L, from that input's own core neurons. Since a neuron that is in the top α of
 * 30 % of one image's tokens is rarely so across a whole dataset, the dataset-level rule has its
 * own fraction. Batch 1 only (kept counts differ by input). Parameters: `alpha` (default 0.1),
 * `beta` for an input's core neurons at block L (0.3), `betaNeurons` for the later blocks' static
 * core neurons (0.05), `layer` L (0-based, default 1).
 *
 * @module
 */

import type { MethodContext, VariantPlan } from "../src/method.ts";
import { analyzeGraph, type FfnBlock } from "../src/onnx/blocks.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import { DataType, type ModelProto } from "../src/onnx/model.ts";
import { firstInGraph, Rewriter } from "../src/onnx/rewriter.ts";
import { readInts } from "../src/onnx/tensor_data.ts";
import { kthLargest, readersOf } from "./_common.ts";
import { defineMethod, type ParamValues } from "./_method_spec.ts";
import { IntEdits } from "./_reshape_targets.ts";
import { sliceLinear } from "./_weights.ts";

const fraction = { kind: "number", min: 0, minExclusive: true, max: 1 } as const;

/** The parameters all three forms accept, so that one params object drives the ablations. */
const PARAMS = {
  alpha: { ...fraction, default: 0.1, doc: "fraction of neurons in each token's top-α" },
  beta: {
    ...fraction,
    default: 0.3,
    doc: "fraction of an input's tokens a neuron must be in the top-α of, at block L",
  },
  betaNeurons: {
    ...fraction,
    default: 0.05,
    doc: "the same fraction over the calibration tokens, for the later blocks' static neurons",
  },
  layer: { kind: "number", integer: true, min: 0, default: 1, doc: "block L (0-based)" },
} as const;

type Options = ParamValues<typeof PARAMS> & { tokens: boolean; neurons: boolean };

/** The core neurons of activations h [rows, d]: in the per-row top-α (positive) of ≥ β of rows. */
export function coreNeurons(h: Float32Array, d: number, alpha: number, beta: number): number[] {
  const rows = h.length / d;
  const k = Math.max(1, Math.round(alpha * d));
  const counts = new Uint32Array(d);
  const row = new Float32Array(d);
  for (let r = 0; r < rows; r++) {
    row.set(h.subarray(r * d, (r + 1) * d));
    const kth = Float32Array.from(row).sort()[d - k]!;
    for (let j = 0; j < d; j++) if (row[j]! >= kth && row[j]! > 0) counts[j]!++;
  }
  const core: number[] = [];
  for (let j = 0; j < d; j++) if (counts[j]! >= beta * rows) core.push(j);
  return core;
}

/** Reshape targets that spell out the token count infer it instead (the sequence gets shorter). */
function freeTokenCount(model: ModelProto, tokens: number): void {
  const idx = new GraphIndex(model.graph!);
  const reshapes = (model.graph!.node ?? []).filter((n) => n.opType === "Reshape");
  const edits = new IntEdits();
  for (const n of reshapes) {
    const shapeName = n.input?.[1];
    const t = shapeName ? idx.initializers.get(shapeName) : undefined;
    if (!t || edits.has(shapeName!)) continue;
    const v = readInts(t);
    if (v[1] !== tokens || v[0] !== -1) continue;
    // [-1, T, …] becomes [0, -1, …]: batch copied from the input, the token count inferred.
    edits.set(shapeName!, 0, 0);
    edits.set(shapeName!, 1, -1);
  }
  edits.apply(idx);
  // 0 means "copy" only with allowzero = 0 (dynamo's exports set it to 1).
  for (const n of reshapes) {
    if (edits.has(n.input?.[1] ?? "")) {
      n.attribute = (n.attribute ?? []).filter((a) => a.name !== "allowzero");
    }
  }
}

async function prepare(ctx: MethodContext, o: Options): Promise<VariantPlan> {
  const model = ctx.model;
  const { ffn, attention } = analyzeGraph(model.graph!);
  if (ffn.length < 2 || attention.length < 2) {
    throw new Error("corematching needs a transformer with FFN and attention blocks");
  }
  if (!(o.layer >= 0 && o.layer < ffn.length - 1)) {
    throw new RangeError(`corematching: layer ${o.layer} must be in [0, ${ffn.length - 2}]`);
  }
  const plan: VariantPlan = {
    model,
    sparse: [],
    selection: [],
    nodeScales: [],
    notes: { alpha: o.alpha, beta: o.beta, betaNeurons: o.betaNeurons, layer: o.layer },
    // The wgsl target runs each FFN for one token from the variant's own (sliced) weights: it
    // shows what neuron slicing buys; the shorter sequence shows on the ORT targets.
    kernel: { inputs: {}, gates: {}, weightsFromVariant: true },
  };
  const later = ffn.slice(o.layer + 1);
  const laterAttention = attention.slice(o.layer + 1);
  let tokenProbe: string | undefined;
  // Exporters record intermediate shapes (197 tokens, 512 neurons); this rewrite changes them, and
  // ORT would trust the stale records, so they go (ORT infers shapes itself).
  model.graph!.valueInfo = [];

  // Static core neurons of the later FFNs, sliced (found on the dense model's calibration
  // activations, before the token rewrite, which assumes batch 1).
  const neuronFrac = new Map<FfnBlock, number>();
  if (o.neurons) {
    for (const b of later) {
      const got = (await ctx.capture(model, [b.hidden])).get(b.hidden)!;
      let keep = coreNeurons(got.data, b.hiddenSize, o.alpha, o.betaNeurons);
      if (keep.length === 0) keep = [0];
      neuronFrac.set(b, keep.length / b.hiddenSize);
      const index = new GraphIndex(model.graph!);
      sliceLinear(model, index, b.up, keep, "out");
      sliceLinear(model, index, b.down, keep, "in");
      plan.notes![`core neurons block ${ffn.indexOf(b)}`] = keep.length;
    }
  }

  // Token pruning at block L.
  if (o.tokens) {
    const b = ffn[o.layer]!;
    const residual = readersOf(model, b.down.output).find((n) => n.opType === "Add");
    if (!residual) throw new Error(`corematching: no residual Add after ${b.down.name}`);
    const x = residual.output![0]!;
    const d = b.hiddenSize;
    const k = Math.max(1, Math.round(o.alpha * d));
    const rw = new Rewriter(model, "corematching");
    const h = b.hidden;
    const kth = kthLargest(rw, h, k);
    const active = rw.node("And", [
      rw.node("GreaterOrEqual", [h, kth])[0]!,
      rw.node("Greater", [h, rw.floatConst("zero", [0])])[0]!,
    ])[0]!;
    const mask = rw.toFloat(active); // [1, T, d]
    const freq = rw.reduceMean(mask, [1], true); // [1, 1, d]
    const core = rw.toFloat(rw.node("GreaterOrEqual", [freq, rw.floatConst("beta", [o.beta])])[0]!);
    const score = rw.reduce("ReduceSum", rw.node("Mul", [mask, core])[0]!, [-1], false); // [1, T]
    // The token count T at block L is static (the sequence is cut once, here), so the index
    // vector, the class-token flag and the sorting width are constants. Only the number of kept
    // tokens is dynamic: ORT-web has no WebGPU NonZero, so the kept indices come from a TopK over
    // a key that puts kept tokens first, in index order (the class token, index 0, stays first).
    const tokens = ctx.valueShape(x)?.[1];
    if (tokens === undefined) throw new Error(`corematching: the token count of ${x} is unknown`);
    const positions = Float32Array.from({ length: tokens }, (_, t) => t);
    const [sorted] = rw.node("TopK", [score, rw.intConst("count", [tokens])], {
      attrs: { axis: -1, largest: 1, sorted: 1 },
      intAttrs: ["axis", "largest", "sorted"],
      outputs: 2,
    });
    // Elbow: the point farthest from the line through the first and last sorted scores.
    const first = rw.node("Slice", [
      sorted!,
      rw.intConst("f0", [0]),
      rw.intConst("f1", [1]),
      rw.intConst("axl", [-1]),
    ])[0]!;
    const last = rw.node("Slice", [
      sorted!,
      rw.intConst("l0", [tokens - 1]),
      rw.intConst("l1", [tokens]),
      rw.intConst("axl2", [-1]),
    ])[0]!;
    const i = rw.floatConst("positions", positions, [1, tokens]);
    const lineTerm = rw.node("Mul", [rw.node("Sub", [last, first])[0]!, i])[0]!;
    const pointTerm = rw.node("Mul", [
      rw.floatConst("countMinusOne", [tokens - 1]),
      rw.node("Sub", [sorted!, first])[0]!,
    ])[0]!;
    const dist = rw.node("Abs", [rw.node("Sub", [lineTerm, pointTerm])[0]!])[0]!;
    const elbow = rw.node("ArgMax", [dist], {
      attrs: { axis: -1, keepdims: 1 },
      intAttrs: ["axis", "keepdims"],
    })[0]!;
    const threshold = rw.node("GatherElements", [sorted!, elbow], {
      attrs: { axis: -1 },
      intAttrs: ["axis"],
    })[0]!;
    const above = rw.toFloat(rw.node("Greater", [score, threshold])[0]!);
    const isCls = rw.floatConst("isCls", Float32Array.from(positions, (t) => (t === 0 ? 1 : 0)), [
      1,
      tokens,
    ]);
    const keepF = rw.node("Max", [above, isCls])[0]!; // [1, T]: 1 for kept tokens
    // key = keep · 2T + (T − t): kept tokens first, then by ascending index.
    const key = rw.node("Add", [
      rw.node("Mul", [keepF, rw.floatConst("twoT", [2 * tokens])])[0]!,
      rw.floatConst("reversed", Float32Array.from(positions, (t) => tokens - t), [1, tokens]),
    ])[0]!;
    const kept = rw.node("Reshape", [
      rw.node("Cast", [rw.reduce("ReduceSum", keepF, [-1], false)], {
        attrs: { to: DataType.INT64 },
        intAttrs: ["to"],
      })[0]!,
      rw.intConst("one", [1]),
    ])[0]!;
    const [, keepIdx2d] = rw.node("TopK", [key, kept], {
      attrs: { axis: -1, largest: 1, sorted: 1 },
      intAttrs: ["axis", "largest", "sorted"],
      outputs: 2,
    });
    const keepIdx = rw.node("Reshape", [keepIdx2d!, rw.intConst("flat", [-1])])[0]!;
    const gathered = rw.node("Gather", [x, keepIdx], {
      attrs: { axis: 1 },
      intAttrs: ["axis"],
    })[0]!;
    const readers = readersOf(model, x);
    rw.commit(firstInGraph(model, readers), x, gathered, readers);
    freeTokenCount(model, tokens);
    tokenProbe = keepF;
    plan.selection.push({ value: h, flopsPerElement: Math.log2(k) + 4 });
  }

  // FLOPs: after block L, linears scale with the kept tokens, attention products with their
  // square, sliced FFN projections with the kept neurons too.
  const scale = (node: string, constant: number, power: number) =>
    plan.nodeScales!.push({
      node,
      constant,
      ...(tokenProbe && power > 0 ? { probe: tokenProbe, power } : {}),
    });
  const tokenPower = o.tokens ? 1 : 0;
  for (const a of laterAttention) {
    for (const l of [a.q, a.k, a.v, a.out]) if (l) scale(l.name, 1, tokenPower);
    scale(a.scores.name ?? "", 1, 2 * tokenPower);
    scale(a.context.name ?? "", 1, 2 * tokenPower);
  }
  for (const b of later) {
    const f = neuronFrac.get(b) ?? 1;
    scale(b.up.name, f, tokenPower);
    scale(b.down.name, f, tokenPower);
  }
  plan.nodeScales = plan.nodeScales!.filter((s) => s.constant !== 1 || s.probe);
  return plan;
}

function method(id: string, title: string, tokens: boolean, neurons: boolean) {
  return defineMethod({
    id,
    title,
    paper: "Wang et al., CoreMatching, ICML 2025",
    skips: [
      tokens ? "the non-core tokens after block L (a shorter sequence)" : "",
      neurons ? "the non-core neurons of the FFNs after block L (sliced weights)" : "",
    ].filter((x) => x).join("; "),
    needsSparsity: false,
    // Core tokens are found per input inside the graph; only the static core neurons need data.
    calibration: neurons ? "inputs" : "none",
    params: PARAMS,
    prepare: (ctx, { params }) => prepare(ctx, { ...params, tokens, neurons }),
  });
}

/**
 * `corematching` — CoreMatching (Wang et al., ICML 2025): core tokens and core neurons together.
 *
 * - Skips: the non-core tokens after block L (the sequence really gets shorter) and the non-core
 *   neurons of the FFNs after block L (their weights sliced to smaller dense matrices).
 * - Sparsity: none taken (α, β and the elbow of the token scores set it).
 * - Parameters: `alpha` (0.1), `beta` (0.3), `betaNeurons` (0.05), each in (0, 1]; `layer` L
 *   (integer, 1; at most the number of FFN blocks − 2).
 * - Calibration: inputs (the later FFNs' hidden activations, for their static core neurons).
 */
export const coreMatchingMethod = method(
  "corematching",
  "CoreMatching: core tokens after block L and core neurons in later FFNs",
  true,
  true,
);
/**
 * `corematching-tokens` — CoreMatching's token pruning alone (ablation).
 *
 * - Skips: the non-core tokens after block L.
 * - Sparsity: none taken.
 * - Parameters: those of `corematching` (`betaNeurons` is accepted and unused).
 * - Calibration: none (core tokens are found per input, inside the graph).
 */
export const coreMatchingTokensMethod = method(
  "corematching-tokens",
  "CoreMatching ablation: core tokens only",
  true,
  false,
);
/**
 * `corematching-neurons` — CoreMatching's neuron slicing alone (ablation).
 *
 * - Skips: the non-core neurons of the FFNs after block L.
 * - Sparsity: none taken.
 * - Parameters: those of `corematching` (`beta` is accepted and unused).
 * - Calibration: inputs (the later FFNs' hidden activations).
 */
export const coreMatchingNeuronsMethod = method(
  "corematching-neurons",
  "CoreMatching ablation: core neurons only",
  false,
  true,
);
