/**
 * Reading and rewriting the constant target shapes of Reshape nodes, for methods that change a
 * dimension the exporter spelled out (heads removed, tokens dropped).
 *
 * @module
 */

import type { GraphIndex } from "../src/onnx/graph.ts";
import type { NodeProto } from "../src/onnx/model.ts";
import { readInts } from "../src/onnx/tensor_data.ts";

/** One dimension of a Reshape target that is a constant somewhere in the graph. */
export interface TargetDim {
  /** Its value. */
  value: number;
  /** The int64 initializer holding it. */
  tensor: string;
  /** Its element index in that initializer. */
  index: number;
}

/**
 * The dimensions of a Reshape's target: a constant tensor, or a Concat of constant scalars and
 * shape pieces (the dynamo exporter's form); undefined entries are computed at run time.
 *
 * @param idx The graph's index.
 * @param reshape The Reshape node.
 * @returns One entry per target dimension, or undefined when the target is neither form.
 */
export function targetDims(
  idx: GraphIndex,
  reshape: NodeProto,
): (TargetDim | undefined)[] | undefined {
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

/**
 * Edits to int64 initializers, collected before any is written (a target shared by several
 * Reshapes is changed once): tensor name → element index → new value.
 */
export class IntEdits {
  #edits = new Map<string, Map<number, number>>();

  /**
   * Records a new value for one element.
   *
   * @param tensor The initializer.
   * @param index The element.
   * @param value Its new value.
   */
  set(tensor: string, index: number, value: number): void {
    let byIndex = this.#edits.get(tensor);
    if (!byIndex) this.#edits.set(tensor, byIndex = new Map());
    byIndex.set(index, value);
  }

  /**
   * Whether any element of a tensor is edited.
   *
   * @param tensor The initializer.
   * @returns True when `set` was called for it.
   */
  has(tensor: string): boolean {
    return this.#edits.has(tensor);
  }

  /**
   * Writes every edit into its initializer (as raw int64 data).
   *
   * @param idx An index of the graph holding the initializers.
   */
  apply(idx: GraphIndex): void {
    for (const [name, byIndex] of this.#edits) {
      const t = idx.initializers.get(name)!;
      const v = readInts(t);
      for (const [i, value] of byIndex) v[i] = value;
      t.rawData = new Uint8Array(new BigInt64Array(v.map(BigInt)).buffer);
      delete t.int64Data;
    }
  }
}
