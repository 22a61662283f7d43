/**
 * Reading and writing a linear layer's weight as an [out, in] matrix (PyTorch's layout) whatever
 * the exporter stored, for the weight-pruning methods, and capturing calibration inputs.
 *
 * @module
 */

import type { MethodContext } from "../src/method.ts";
import type { Linear } from "../src/onnx/blocks.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import type { ModelProto, TensorProto } from "../src/onnx/model.ts";
import { floatTensor, tensorDims } from "../src/onnx/tensor_data.ts";

/**
 * The weight of a linear as [out, in] row-major.
 *
 * @param model The model.
 * @param l The linear.
 * @returns The matrix (a copy).
 */
export function readWeight(model: ModelProto, l: Linear): Float32Array {
  const w = new GraphIndex(model.graph!).constantFloats(l.weight);
  if (!w) throw new Error(`Weight ${l.weight} of ${l.name} is not a float constant`);
  if (l.weightTransposed) return w.data;
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < l.inFeatures; i++) {
    for (let o = 0; o < l.outFeatures; o++) {
      out[o * l.inFeatures + i] = w.data[i * l.outFeatures + o]!;
    }
  }
  return out;
}

/**
 * Writes an [out, in] matrix back into the linear's initializer, in its stored layout.
 *
 * @param model The model (rewritten in place).
 * @param l The linear.
 * @param w The matrix [out, in].
 */
export function writeWeight(model: ModelProto, l: Linear, w: Float32Array): void {
  const list = model.graph!.initializer!;
  const i = list.findIndex((t) => t.name === l.weight);
  if (i < 0) throw new Error(`Weight ${l.weight} of ${l.name} is not an initializer`);
  const dims = tensorDims(list[i]!);
  let stored = w;
  if (!l.weightTransposed) {
    stored = new Float32Array(w.length);
    for (let o = 0; o < l.outFeatures; o++) {
      for (let c = 0; c < l.inFeatures; c++) {
        stored[c * l.outFeatures + o] = w[o * l.inFeatures + c]!;
      }
    }
  }
  list[i] = floatTensor(l.weight, dims, stored);
}

/**
 * The calibration inputs of a linear on the model as pruned so far (`ctx.model`), so each layer is
 * pruned against what the pruned model really feeds it.
 *
 * @param ctx The method context.
 * @param l The linear.
 * @returns Its input rows x [rows, d] and their width d (= the linear's input features).
 * @throws {Error} When the captured width is not the linear's input width.
 */
export async function calibrationInputs(
  ctx: MethodContext,
  l: Linear,
): Promise<{ x: Float32Array; d: number }> {
  const got = (await ctx.capture(ctx.model, [l.input])).get(l.input)!;
  if (got.width !== l.inFeatures) {
    throw new Error(`${l.name}: calibration input width ${got.width} is not ${l.inFeatures}`);
  }
  return { x: got.data, d: got.width };
}

/**
 * The linears a pruning method prunes: all but the last (the classifier or LM head, which
 * pruning studies leave dense).
 *
 * @param linears The model's linears in graph order.
 * @returns Those to prune.
 */
export function prunableLinears<T>(linears: readonly T[]): T[] {
  return linears.slice(0, -1);
}

/**
 * Keeps only some output neurons (side "out": rows of W as [out, in], and the bias) or input
 * channels (side "in") of a linear: the layer becomes a smaller dense matrix.
 *
 * @param model The model (rewritten in place).
 * @param idx Its graph index.
 * @param l The linear.
 * @param keep Indices to keep, ascending.
 * @param side Which side to slice.
 */
export function sliceLinear(
  model: ModelProto,
  idx: GraphIndex,
  l: Linear,
  keep: number[],
  side: "out" | "in",
): void {
  const w = idx.initializers.get(l.weight);
  if (!w) throw new Error(`weight ${l.weight} of ${l.name} is not an initializer`);
  if ((idx.consumers.get(l.weight)?.length ?? 0) !== 1) {
    throw new Error(`weight ${l.weight} is shared; cannot slice it`);
  }
  const data = idx.constantFloats(l.weight)!.data;
  const [d0, d1] = tensorDims(w) as [number, number];
  // Output neurons are columns of a [in, out] weight (rows when transposed); inputs the other way.
  const keepRows = (side === "out") === l.weightTransposed;
  const out = keepRows ? new Float32Array(keep.length * d1) : new Float32Array(d0 * keep.length);
  if (keepRows) keep.forEach((r, i) => out.set(data.subarray(r * d1, (r + 1) * d1), i * d1));
  else {for (let r = 0; r < d0; r++) {
      keep.forEach((c, i) => (out[r * keep.length + i] = data[r * d1 + c]!));
    }}
  replaceInitializer(
    model,
    floatTensor(l.weight, keepRows ? [keep.length, d1] : [d0, keep.length], out),
  );
  if (side === "out" && l.bias) {
    const b = idx.constantFloats(l.bias)!.data;
    if ((idx.consumers.get(l.bias)?.length ?? 0) !== 1) {
      throw new Error(`bias ${l.bias} is shared`);
    }
    replaceInitializer(model, floatTensor(l.bias, [keep.length], keep.map((j) => b[j]!)));
  }
}

/**
 * Replaces an initializer by name.
 *
 * @param model The model.
 * @param t The new tensor.
 */
export function replaceInitializer(model: ModelProto, t: TensorProto): void {
  const list = model.graph!.initializer!;
  const i = list.findIndex((x) => x.name === t.name);
  if (i < 0) throw new Error(`initializer ${t.name} not found`);
  list[i] = t;
}
