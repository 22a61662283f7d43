/**
 * Graph rewrites: build small chains of nodes (masks, thresholds, probes) and splice them in front
 * of the nodes that should read their result. Opset differences (ReduceMean's axes became an input
 * in opset 18) are handled here, so methods write one version.
 *
 * @module
 */

import { GraphIndex, insertBefore, makeAttr } from "./graph.ts";
import { DataType, type ModelProto, type NodeProto } from "./model.ts";
import { floatTensor, int64Tensor, readInts } from "./tensor_data.ts";

/**
 * The default-domain opset of a model.
 *
 * @param model The model.
 * @returns The opset version (ONNX's default domain).
 */
export function opsetVersion(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  return Number(entry?.version ?? 13);
}

/**
 * A deep copy of a model, safe to rewrite.
 *
 * @param model The model.
 * @returns The copy.
 */
export function cloneModel(model: ModelProto): ModelProto {
  return structuredClone(model);
}

/** Builds nodes with fresh names and splices them into a graph. */
export class Rewriter {
  /** The model being rewritten. */
  readonly model: ModelProto;
  /** Index of its graph (kept current for names; rebuild for structure after commits). */
  readonly idx: GraphIndex;
  /** Opset version. */
  readonly opset: number;
  #pending: NodeProto[] = [];
  #prefix: string;

  /**
   * Starts rewriting a model in place (clone it first when the original must stay).
   *
   * @param model The model.
   * @param prefix Prefix of every new name, e.g. the method id.
   */
  constructor(model: ModelProto, prefix: string) {
    this.model = model;
    this.idx = new GraphIndex(model.graph!);
    this.opset = opsetVersion(model);
    this.#prefix = prefix;
  }

  /**
   * Adds a node to the pending chain.
   *
   * @param opType Operator.
   * @param inputs Input names.
   * @param options `attrs` (name → value; ints via `intAttrs`), `outputs` count.
   * @returns The output names.
   */
  node(
    opType: string,
    inputs: string[],
    options: {
      attrs?: Record<string, number | number[] | string>;
      intAttrs?: string[];
      outputs?: number;
    } = {},
  ): string[] {
    // GreaterOrEqual / LessOrEqual arrived in opset 12: before it, not (a < b) / not (a > b).
    if (this.opset < 12 && (opType === "GreaterOrEqual" || opType === "LessOrEqual")) {
      const [strict] = this.node(opType === "GreaterOrEqual" ? "Less" : "Greater", inputs);
      return this.node("Not", [strict!]);
    }
    const name = this.idx.freshName(`${this.#prefix}/${opType}`);
    const outputs = Array.from(
      { length: options.outputs ?? 1 },
      (_, i) => this.idx.freshName(`${name}_out${i}`),
    );
    const legacy = this.opset < 10 ? this.#legacyForm(opType, inputs, options) : undefined;
    const attrs = legacy?.attrs ?? options.attrs ?? {};
    const intAttrs = legacy ? Object.keys(legacy.attrs) : options.intAttrs;
    const attribute = Object.entries(attrs).map(([k, v]) =>
      makeAttr(k, v, { isInt: intAttrs?.includes(k) ?? false })
    );
    this.#pending.push({
      name,
      opType,
      input: legacy?.inputs ?? inputs,
      output: outputs,
      ...(attribute.length ? { attribute } : {}),
    });
    return outputs;
  }

  /**
   * Opsets before 10 take TopK's k and Slice's bounds as attributes, not inputs (paddle2onnx
   * exports PP-OCR at opset 9): the constant inputs become attributes.
   */
  #legacyForm(
    opType: string,
    inputs: string[],
    options: { attrs?: Record<string, number | number[] | string> },
  ): { inputs: string[]; attrs: Record<string, number | number[]> } | undefined {
    const ints = (name: string | undefined): number[] => {
      const t = name === undefined
        ? undefined
        : (this.model.graph!.initializer ?? []).find((i) => i.name === name) ??
          this.idx.constant(name);
      if (!t) {
        throw new Error(
          `${opType} at opset ${this.opset} needs constant bounds, and ${name} is computed; re-export the model at opset 10 or later`,
        );
      }
      return readInts(t);
    };
    if (opType === "TopK" && inputs.length === 2) {
      const a = options.attrs ?? {};
      if (a.largest === 0 || a.sorted === 0) {
        throw new Error(
          `TopK at opset ${this.opset} always returns the largest, sorted; re-export the model at opset 11 or later`,
        );
      }
      return {
        inputs: [inputs[0]!],
        attrs: { axis: Number(a.axis ?? -1), k: ints(inputs[1])[0]! },
      };
    }
    if (opType === "Slice" && inputs.length >= 3) {
      if (inputs.length > 4) {
        throw new Error(`Slice with steps needs opset 10 or later (the model has ${this.opset})`);
      }
      return {
        inputs: [inputs[0]!],
        attrs: {
          starts: ints(inputs[1]),
          ends: ints(inputs[2]),
          ...(inputs[3] ? { axes: ints(inputs[3]) } : {}),
        },
      };
    }
    return undefined;
  }

  /**
   * Adds a float constant (initializer).
   *
   * @param base Name hint.
   * @param values Elements.
   * @param dims Shape (default: scalar).
   * @returns Its name.
   */
  floatConst(base: string, values: ArrayLike<number>, dims: number[] = []): string {
    const name = this.idx.freshName(`${this.#prefix}/${base}`);
    (this.model.graph!.initializer ??= []).push(floatTensor(name, dims, values));
    return name;
  }

  /**
   * Adds an int64 constant (initializer).
   *
   * @param base Name hint.
   * @param values Elements.
   * @param dims Shape (default: 1-D of the values' length).
   * @returns Its name.
   */
  intConst(base: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.idx.freshName(`${this.#prefix}/${base}`);
    (this.model.graph!.initializer ??= []).push(int64Tensor(name, dims, values));
    return name;
  }

  /**
   * ReduceMean over the given axes, in the form the model's opset wants.
   *
   * @param x Input.
   * @param axes Axes to reduce; empty reduces everything.
   * @param keepdims Keep reduced axes as size 1.
   * @returns Output name.
   */
  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    return this.reduce("ReduceMean", x, axes, keepdims);
  }

  /**
   * A reduction (ReduceMean, ReduceSum, ReduceMax …) over the given axes. ReduceSum took its axes
   * as an input from opset 13, the others from opset 18.
   *
   * @param op The reduction.
   * @param x Input.
   * @param axes Axes to reduce; empty reduces everything.
   * @param keepdims Keep reduced axes as size 1.
   * @returns Output name.
   */
  reduce(op: string, x: string, axes: number[], keepdims: boolean): string {
    const kd = { keepdims: keepdims ? 1 : 0 };
    if (axes.length === 0) return this.node(op, [x], { attrs: kd, intAttrs: ["keepdims"] })[0]!;
    const axesAsInput = op === "ReduceSum" ? this.opset >= 13 : this.opset >= 18;
    if (axesAsInput) {
      return this.node(op, [x, this.intConst("axes", axes)], {
        attrs: kd,
        intAttrs: ["keepdims"],
      })[0]!;
    }
    return this.node(op, [x], { attrs: { ...kd, axes }, intAttrs: ["keepdims", "axes"] })[0]!;
  }

  /**
   * Casts a value to float32.
   *
   * @param x Input.
   * @returns Output name.
   */
  toFloat(x: string): string {
    return this.node("Cast", [x], { attrs: { to: DataType.FLOAT }, intAttrs: ["to"] })[0]!;
  }

  /**
   * Zeroes the elements of `x` where `keep` is false: Where(keep, x, 0).
   *
   * @param x Values.
   * @param keep Boolean mask.
   * @returns Output name.
   */
  where(keep: string, x: string): string {
    return this.node("Where", [keep, x, this.floatConst("zero", [0])])[0]!;
  }

  /**
   * Splices the pending nodes in front of `anchor`, and points `readers` at `value` instead of
   * `original`.
   *
   * @param anchor The first node (in graph order) that reads the new value.
   * @param original The value being replaced.
   * @param value The replacement.
   * @param readers Nodes that should read the replacement.
   */
  commit(anchor: NodeProto, original: string, value: string, readers: readonly NodeProto[]): void {
    this.splice(anchor);
    for (const r of readers) r.input = (r.input ?? []).map((i) => (i === original ? value : i));
  }

  /**
   * Splices the pending nodes in front of `anchor` without rewiring anything (for values that new
   * nodes will read later).
   *
   * @param anchor The first node that will read the new values.
   */
  splice(anchor: NodeProto): void {
    insertBefore(this.model.graph!, anchor, this.#pending);
    this.#pending = [];
  }

  /**
   * Appends the pending nodes at the end of the graph and exposes `value` as a graph output (for
   * probes that nothing else reads).
   *
   * @param value The value to expose.
   */
  commitAsOutput(value: string): void {
    const graph = this.model.graph!;
    (graph.node ??= []).push(...this.#pending);
    this.#pending = [];
    (graph.output ??= []).push({
      name: value,
      type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [] } } },
    });
  }
}

/**
 * The node, among `nodes`, that comes first in the graph.
 *
 * @param model The model.
 * @param nodes Candidate nodes.
 * @returns The earliest.
 */
export function firstInGraph(model: ModelProto, nodes: readonly NodeProto[]): NodeProto {
  const order = new Map((model.graph?.node ?? []).map((n, i) => [n, i]));
  return [...nodes].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))[0]!;
}
