/**
 * Finds the structure sparsity methods act on, in graphs exported by any tool: linear layers
 * (MatMul or Gemm with a constant weight, plus an optional bias Add), feed-forward blocks
 * (up [+ gate] → activation → down) and attention blocks (Q·Kᵀ → Softmax → ·V and their
 * projections).
 *
 * Detection is by data flow, not by names: from the input of each linear, walk back through
 * element-wise operators to the linears that produced it. One producer is a plain FFN; two that
 * read the same input and meet in a Mul are a gated FFN. The operators met on the way name the
 * activation (Relu; Erf or Gelu → gelu; Tanh with Pow → gelu-tanh; Sigmoid → silu; HardSwish or
 * HardSigmoid · x → hardswish; Tanh alone → tanh).
 *
 * @module
 */

import { attrInt, attrInts, GraphIndex } from "./graph.ts";
import type { GraphProto, NodeProto } from "./model.ts";

/** A linear layer: y = x·W (+ b), with W constant. */
export interface Linear {
  /** The MatMul or Gemm node. */
  node: NodeProto;
  /** Name used in reports (the node name, or its output when unnamed). */
  name: string;
  /** The activation input x. */
  input: string;
  /** Initializer (or Constant) holding W. */
  weight: string;
  /** True when W is stored as [out, in] (Gemm transB=1, or MatMul of a transposed constant). */
  weightTransposed: boolean;
  /** Node that transposes the constant weight, when the exporter emitted one. */
  weightTranspose?: NodeProto;
  /** Input features (K). */
  inFeatures: number;
  /** Output features (N). */
  outFeatures: number;
  /** Bias initializer, when there is one (Gemm's C, or a following Add). */
  bias?: string;
  /** The Add node that applies the bias, when separate from the MatMul. */
  biasNode?: NodeProto;
  /** The value after the bias (what consumers read). */
  output: string;
}

/** Activation kinds of a feed-forward block. */
export type ActivationKind =
  | "relu"
  | "gelu"
  | "gelu-tanh"
  | "silu"
  | "hardswish"
  | "tanh"
  | "other";

/** A feed-forward block. */
export interface FfnBlock {
  /** Up projection (for gated blocks, the branch without the nonlinearity). */
  up: Linear;
  /** Gate projection of gated blocks. */
  gate?: Linear;
  /** Down projection. */
  down: Linear;
  /** Activation kind. */
  activation: ActivationKind;
  /** Whether the block is gated (act(gate) ⊙ up). */
  gated: boolean;
  /** The hidden value the down projection reads (after activation / gating). */
  hidden: string;
  /** The activation's input: the up (or gate) projection output before the nonlinearity. */
  preActivation: string;
  /** Hidden width. */
  hiddenSize: number;
}

/** An attention block. */
export interface AttentionBlock {
  /** The Softmax node. */
  softmax: NodeProto;
  /** The MatMul computing Q·Kᵀ. */
  scores: NodeProto;
  /** The MatMul computing P·V. */
  context: NodeProto;
  /** Query, key and value projections, when found. */
  q?: Linear;
  /** Key projection. */
  k?: Linear;
  /** Value projection. */
  v?: Linear;
  /** Output projection, when found. */
  out?: Linear;
}

const ELEMENTWISE = new Set([
  "Relu",
  "Gelu",
  "FastGelu",
  "Erf",
  "Tanh",
  "Sigmoid",
  "Mul",
  "Add",
  "Sub",
  "Div",
  "Pow",
  "Sqrt",
  "Softplus",
  "HardSigmoid",
  "HardSwish",
  "Cast",
  "Identity",
  // Shape-only ops carry the values through unchanged (GPT-2's Conv1D reshapes around its Gemm).
  "Reshape",
  "Squeeze",
  "Unsqueeze",
  "Flatten",
]);

/**
 * All linear layers of a graph.
 *
 * @param idx Graph index.
 * @returns Linears in graph order.
 */
export function findLinears(idx: GraphIndex): Linear[] {
  const out: Linear[] = [];
  for (const node of idx.graph.node ?? []) {
    const lin = asLinear(idx, node);
    if (lin) out.push(lin);
  }
  return out;
}

function asLinear(idx: GraphIndex, node: NodeProto): Linear | undefined {
  const [a, b, c] = node.input ?? [];
  if (!a || !b) return undefined;
  let weight = b;
  let transposed = false;
  let weightTranspose: NodeProto | undefined;
  if (node.opType === "Gemm") {
    if (attrInt(node, "transA", 0) !== 0) return undefined;
    transposed = attrInt(node, "transB", 0) === 1;
  } else if (node.opType !== "MatMul") return undefined;
  let w = idx.constant(weight);
  if (!w) {
    const p = idx.producer.get(weight);
    if (p?.opType === "Transpose" && p.input?.[0] && idx.constant(p.input[0])) {
      const perm = attrInts(p, "perm");
      if (perm === undefined || (perm.length === 2 && perm[0] === 1)) {
        weightTranspose = p;
        weight = p.input[0];
        transposed = !transposed;
        w = idx.constant(weight);
      }
    }
  }
  if (!w) return undefined;
  const dims = (w.dims ?? []).map(Number);
  if (dims.length !== 2) return undefined;
  const [d0, d1] = dims as [number, number];
  const inFeatures = transposed ? d1 : d0;
  const outFeatures = transposed ? d0 : d1;
  let output = node.output![0]!;
  let bias: string | undefined;
  let biasNode: NodeProto | undefined;
  if (node.opType === "Gemm" && c) bias = c;
  else {
    const add = idx.soleConsumer(output);
    if (add?.opType === "Add") {
      const other = add.input?.find((i) => i !== output);
      const bt = other ? idx.constant(other) : undefined;
      if (other && bt && (bt.dims ?? []).map(Number).reduce((x, y) => x * y, 1) === outFeatures) {
        bias = other;
        biasNode = add;
        output = add.output![0]!;
      }
    }
  }
  return {
    node,
    name: node.name || node.output![0]!,
    input: a,
    weight,
    weightTransposed: transposed,
    ...(weightTranspose ? { weightTranspose } : {}),
    inFeatures,
    outFeatures,
    ...(bias ? { bias } : {}),
    ...(biasNode ? { biasNode } : {}),
    output,
  };
}

/**
 * The feed-forward blocks of a graph.
 *
 * @param idx Graph index.
 * @param linears The graph's linears (from {@linkcode findLinears}).
 * @returns Blocks in graph order.
 */
export function findFfnBlocks(idx: GraphIndex, linears: readonly Linear[]): FfnBlock[] {
  const byOutput = new Map(linears.map((l) => [l.output, l]));
  const blocks: FfnBlock[] = [];
  for (const down of linears) {
    const reached: Linear[] = [];
    const ops = new Set<string>();
    const seen = new Set<string>();
    const stack = [down.input];
    let ok = true;
    while (stack.length > 0 && ok) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      const lin = byOutput.get(v);
      if (lin) {
        if (!reached.includes(lin)) reached.push(lin);
        continue;
      }
      if (idx.constant(v)) continue;
      const p = idx.producer.get(v);
      if (!p || !ELEMENTWISE.has(p.opType ?? "")) {
        ok = false;
        break;
      }
      ops.add(p.opType!);
      for (const i of p.input ?? []) if (i) stack.push(i);
    }
    if (!ok || reached.length === 0 || reached.length > 2 || ops.size === 0) continue;
    if (reached.length === 2 && reached[0]!.input !== reached[1]!.input) continue;
    let up = reached[0]!;
    let gate: Linear | undefined;
    if (reached.length === 2) {
      // The gate is the branch that passes through the nonlinearity before the product.
      const [l0, l1] = reached as [Linear, Linear];
      const nonlinear0 = passesNonlinearity(idx, l0.output, down.input);
      gate = nonlinear0 ? l0 : l1;
      up = nonlinear0 ? l1 : l0;
      if (!ops.has("Mul")) continue;
    }
    if (up.outFeatures !== down.inFeatures) continue;
    blocks.push({
      up,
      ...(gate ? { gate } : {}),
      down,
      activation: classify(ops),
      gated: gate !== undefined,
      hidden: down.input,
      preActivation: (gate ?? up).output,
      hiddenSize: down.inFeatures,
    });
  }
  return blocks;
}

function passesNonlinearity(idx: GraphIndex, from: string, to: string): boolean {
  const nonlinear = new Set([
    "Relu",
    "Gelu",
    "FastGelu",
    "Erf",
    "Tanh",
    "Sigmoid",
    "Softplus",
    "HardSwish",
    "HardSigmoid",
  ]);
  const stack: { v: string; hit: boolean }[] = [{ v: from, hit: false }];
  const seen = new Set<string>();
  while (stack.length) {
    const { v, hit } = stack.pop()!;
    if (v === to) {
      if (hit) return true;
      continue;
    }
    if (seen.has(`${v}:${hit}`)) continue;
    seen.add(`${v}:${hit}`);
    for (const c of idx.consumers.get(v) ?? []) {
      if (!ELEMENTWISE.has(c.opType ?? "")) continue;
      const h = hit || nonlinear.has(c.opType!);
      for (const o of c.output ?? []) stack.push({ v: o, hit: h });
    }
  }
  return false;
}

function classify(ops: Set<string>): ActivationKind {
  if (ops.has("Relu")) return "relu";
  if (ops.has("Gelu") || ops.has("FastGelu") || ops.has("Erf")) return "gelu";
  if (ops.has("Tanh") && (ops.has("Pow") || ops.has("Mul"))) return "gelu-tanh";
  if (ops.has("Sigmoid")) return "silu";
  // MobileNet-style exports: HardSwish, or its decomposition x · HardSigmoid(x).
  if (ops.has("HardSwish") || (ops.has("HardSigmoid") && ops.has("Mul"))) return "hardswish";
  if (ops.has("Tanh")) return "tanh";
  return "other";
}

/**
 * The attention blocks of a graph: Softmax nodes fed by a MatMul of two computed values and
 * consumed (possibly through Cast/Dropout) by a MatMul with a computed value.
 *
 * @param idx Graph index.
 * @param linears The graph's linears.
 * @returns Blocks in graph order.
 */
export function findAttentionBlocks(idx: GraphIndex, linears: readonly Linear[]): AttentionBlock[] {
  const byOutput = new Map(linears.map((l) => [l.output, l]));
  const linearNodes = new Set(linears.map((l) => l.node));
  const blocks: AttentionBlock[] = [];
  for (const sm of idx.graph.node ?? []) {
    if (sm.opType !== "Softmax") continue;
    const scores = walkBack(
      idx,
      sm.input![0]!,
      (n) => n.opType === "MatMul" && !linearNodes.has(n),
      6,
    );
    if (!scores) continue;
    const context = walkForward(
      idx,
      sm.output![0]!,
      (n) => n.opType === "MatMul" && !linearNodes.has(n),
      3,
    );
    if (!context) continue;
    const q = findProjection(idx, scores.input![0]!, byOutput);
    const k = findProjection(idx, scores.input![1]!, byOutput);
    const vIn = context.input!.find((i) => !isDownstreamOf(idx, i, sm.output![0]!));
    const v = vIn ? findProjection(idx, vIn, byOutput) : undefined;
    let out: Linear | undefined;
    const outNode = walkForward(idx, context.output![0]!, (n) => linearNodes.has(n), 4);
    if (outNode) out = linears.find((l) => l.node === outNode);
    blocks.push({
      softmax: sm,
      scores,
      context,
      ...(q ? { q } : {}),
      ...(k ? { k } : {}),
      ...(v ? { v } : {}),
      ...(out ? { out } : {}),
    });
  }
  return blocks;
}

const PASS_THROUGH = new Set([
  "Reshape",
  "Transpose",
  "Div",
  "Mul",
  "Add",
  "Sub",
  "Cast",
  "Where",
  "Dropout",
  "Identity",
  "Squeeze",
  "Unsqueeze",
  "Slice",
  "Split",
  "Concat",
  "Softmax",
]);

function walkBack(
  idx: GraphIndex,
  v: string,
  want: (n: NodeProto) => boolean,
  depth: number,
): NodeProto | undefined {
  const p = idx.producer.get(v);
  if (!p) return undefined;
  if (want(p)) return p;
  if (depth === 0 || !PASS_THROUGH.has(p.opType ?? "")) return undefined;
  for (const i of p.input ?? []) {
    if (!i || idx.constant(i)) continue;
    const found = walkBack(idx, i, want, depth - 1);
    if (found) return found;
  }
  return undefined;
}

function walkForward(
  idx: GraphIndex,
  v: string,
  want: (n: NodeProto) => boolean,
  depth: number,
): NodeProto | undefined {
  for (const c of idx.consumers.get(v) ?? []) {
    if (want(c)) return c;
    if (depth > 0 && PASS_THROUGH.has(c.opType ?? "")) {
      for (const o of c.output ?? []) {
        const found = walkForward(idx, o, want, depth - 1);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function findProjection(
  idx: GraphIndex,
  v: string,
  byOutput: Map<string, Linear>,
): Linear | undefined {
  const stack: { v: string; d: number }[] = [{ v, d: 0 }];
  while (stack.length) {
    const { v: cur, d } = stack.pop()!;
    const lin = byOutput.get(cur);
    if (lin) return lin;
    const p = idx.producer.get(cur);
    if (!p || d > 8 || !PASS_THROUGH.has(p.opType ?? "")) continue;
    for (const i of p.input ?? []) if (i && !idx.constant(i)) stack.push({ v: i, d: d + 1 });
  }
  return undefined;
}

function isDownstreamOf(idx: GraphIndex, v: string, source: string): boolean {
  const stack = [v];
  const seen = new Set<string>();
  while (stack.length) {
    const cur = stack.pop()!;
    if (cur === source) return true;
    if (seen.has(cur)) continue;
    seen.add(cur);
    const p = idx.producer.get(cur);
    for (const i of p?.input ?? []) if (i) stack.push(i);
  }
  return false;
}

/**
 * Everything the methods need to know about a graph's structure, in one call.
 *
 * @param graph The graph.
 * @returns Index, linears, FFN and attention blocks.
 */
export function analyzeGraph(graph: GraphProto): {
  idx: GraphIndex;
  linears: Linear[];
  ffn: FfnBlock[];
  attention: AttentionBlock[];
} {
  const idx = new GraphIndex(graph);
  const linears = findLinears(idx);
  return {
    idx,
    linears,
    ffn: findFfnBlocks(idx, linears),
    attention: findAttentionBlocks(idx, linears),
  };
}
