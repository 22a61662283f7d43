/**
 * FLOP counting over ONNX graphs.
 *
 * Convention: FLOPs = 2 × multiply-accumulates, as PyTorch's `FlopCounterMode` counts them. The
 * headline figure (`flops`) covers MatMul, Gemm and Conv, attention's Q·Kᵀ and P·V included, and
 * is the figure comparable with `FlopCounterMode`; a bias add is not part of it. Everything else is
 * counted apart in `flopsOther`: 1 FLOP per output element of an element-wise operator (a bias add
 * included), 1 per input element of a reduction, 3 per element of Softmax (exp, sum, divide) and
 * 5 per element of a normalisation (mean, variance, subtract, divide, scale). Data-movement
 * operators (Reshape, Transpose, Gather, Concat, …) count 0.
 *
 * @module
 */

import { attrInt } from "./graph.ts";
import type { ModelProto, NodeProto } from "./model.ts";
import type { ValueShape } from "./shapes.ts";
import { numel } from "./tensor_data.ts";

/** FLOPs of one node. */
export interface NodeFlops {
  /** Node name (or its first output when unnamed). */
  name: string;
  /** Operator. */
  opType: string;
  /** FLOPs. */
  flops: number;
  /** Whether the node counts towards `flops` (MatMul/Gemm/Conv) or `flopsOther`. */
  kind: "matmul" | "other";
  /** Output shape. */
  outDims: number[];
}

/** The FLOP count of a graph. */
export interface FlopCount {
  /** MatMul/Gemm/Conv FLOPs (2 × MACs), attention matmuls included. */
  flops: number;
  /** Element-wise and normalisation FLOPs. */
  flopsOther: number;
  /** Parameters: elements of floating-point initializers. */
  params: number;
  /** Per node. */
  nodes: NodeFlops[];
}

const ZERO_COST = new Set([
  "Reshape",
  "Transpose",
  "Gather",
  "GatherElements",
  "Concat",
  "Slice",
  "Split",
  "Squeeze",
  "Unsqueeze",
  "Flatten",
  "Shape",
  "Size",
  "Constant",
  "ConstantOfShape",
  "Identity",
  "Cast",
  "Expand",
  "Range",
  "Dropout",
  "Tile",
  "Pad",
  "CastLike",
]);
const REDUCTIONS = new Set([
  "ReduceMean",
  "ReduceSum",
  "ReduceMax",
  "ReduceMin",
  "ReduceProd",
  "ReduceL2",
  "ReduceSumSquare",
  "ArgMax",
  "ArgMin",
]);
const NORMS = new Set([
  "LayerNormalization",
  "SimplifiedLayerNormalization",
  "RMSNormalization",
  "BatchNormalization",
  "InstanceNormalization",
  "GroupNormalization",
]);

/**
 * FLOPs of one node, given the shapes of its inputs and outputs.
 *
 * @param node The node.
 * @param shape Shape lookup by value name.
 * @returns Its FLOPs and kind, or undefined when a needed shape is unknown.
 */
export function nodeFlops(
  node: NodeProto,
  shape: (name: string) => number[] | undefined,
): { flops: number; kind: "matmul" | "other" } | undefined {
  const op = node.opType ?? "";
  const out = shape(node.output?.[0] ?? "");
  const a = shape(node.input?.[0] ?? "");
  switch (op) {
    case "MatMul":
    case "MatMulInteger": {
      if (!out || !a || a.length === 0) return undefined;
      const k = a[a.length - 1]!;
      return { flops: 2 * numel(out) * k, kind: "matmul" };
    }
    case "Gemm": {
      if (!out || !a) return undefined;
      const k = attrInt(node, "transA", 0) ? a[0]! : a[1]!;
      return { flops: 2 * numel(out) * k, kind: "matmul" };
    }
    case "Conv":
    case "ConvInteger": {
      const w = shape(node.input?.[1] ?? "");
      if (!out || !w) return undefined;
      const perOut = numel(w.slice(1));
      return { flops: 2 * numel(out) * perOut, kind: "matmul" };
    }
    case "ConvTranspose": {
      const w = shape(node.input?.[1] ?? "");
      if (!a || !w) return undefined;
      // W is [Cin, Cout/group, k…]: each input element feeds Cout/group × k… outputs.
      return { flops: 2 * numel(a) * w[1]! * numel(w.slice(2)), kind: "matmul" };
    }
  }
  if (ZERO_COST.has(op)) return { flops: 0, kind: "other" };
  if (REDUCTIONS.has(op)) return a ? { flops: numel(a), kind: "other" } : undefined;
  if (op === "Softmax" || op === "LogSoftmax") {
    return out ? { flops: 3 * numel(out), kind: "other" } : undefined;
  }
  if (NORMS.has(op)) return out ? { flops: 5 * numel(out), kind: "other" } : undefined;
  return out ? { flops: numel(out), kind: "other" } : undefined;
}

/**
 * Counts the FLOPs of a model whose value shapes are known (see `inferShapes`).
 *
 * @example Usage
 * ```ts ignore
 * const shapes = await inferShapes(model, { input: [1, 784] });
 * const count = countFlops(model, shapes);
 * console.log(count.flops); // 2 × (784·512 + 512·512 + 512·10) = 1,337,344
 * ```
 *
 * @param model The model.
 * @param shapes Shapes by value name.
 * @returns The count.
 */
export function countFlops(model: ModelProto, shapes: Map<string, ValueShape>): FlopCount {
  const graph = model.graph!;
  const lookup = (name: string) => shapes.get(name)?.dims;
  const nodes: NodeFlops[] = [];
  let flops = 0;
  let flopsOther = 0;
  for (const node of graph.node ?? []) {
    const f = nodeFlops(node, lookup);
    if (!f) continue;
    nodes.push({
      name: node.name || node.output?.[0] || "",
      opType: node.opType ?? "",
      flops: f.flops,
      kind: f.kind,
      outDims: lookup(node.output?.[0] ?? "") ?? [],
    });
    if (f.kind === "matmul") flops += f.flops;
    else flopsOther += f.flops;
  }
  let params = 0;
  for (const t of graph.initializer ?? []) {
    if (t.dataType === 1 || t.dataType === 10 || t.dataType === 11 || t.dataType === 16) {
      params += numel((t.dims ?? []).map(Number));
    }
  }
  return { flops, flopsOther, params, nodes };
}
