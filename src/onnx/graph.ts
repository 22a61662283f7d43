/**
 * An index over an ONNX graph (who produces and who consumes each value) and the small editing
 * operations graph rewrites need.
 *
 * @module
 */

import type { Attribute, GraphProto, Int, NodeProto, TensorProto } from "./model.ts";
import { readFloats, readInts, tensorDims } from "./tensor_data.ts";

/** `AttributeProto.AttributeType` codes. */
export const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/**
 * Looks up an attribute of a node.
 *
 * @param node The node.
 * @param name Attribute name.
 * @returns The attribute, or undefined.
 */
export function getAttr(node: NodeProto, name: string): Attribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/**
 * An integer attribute, or a default.
 *
 * @param node The node.
 * @param name Attribute name.
 * @param fallback Value when absent.
 * @returns The value.
 */
export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a?.i === undefined ? fallback : Number(a.i);
}

/**
 * A float attribute, or a default.
 *
 * @param node The node.
 * @param name Attribute name.
 * @param fallback Value when absent.
 * @returns The value.
 */
export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  return getAttr(node, name)?.f ?? fallback;
}

/**
 * An int-list attribute, or undefined.
 *
 * @param node The node.
 * @param name Attribute name.
 * @returns The values.
 */
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  return getAttr(node, name)?.ints?.map(Number);
}

/**
 * A string attribute, or undefined.
 *
 * @param node The node.
 * @param name Attribute name.
 * @returns The value.
 */
export function attrString(node: NodeProto, name: string): string | undefined {
  const s = getAttr(node, name)?.s;
  return s === undefined ? undefined : new TextDecoder().decode(s);
}

/**
 * Builds a node attribute from a plain value.
 *
 * @param name Attribute name.
 * @param value A number (int when `isInt`), number list, string or tensor.
 * @param options `isInt` stores numbers as ints.
 * @returns The attribute.
 */
export function makeAttr(
  name: string,
  value: number | number[] | string | TensorProto,
  options: { isInt?: boolean } = {},
): Attribute {
  if (typeof value === "string") {
    return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  }
  if (Array.isArray(value)) {
    return options.isInt
      ? { name, type: AttrType.INTS, ints: value.map((v) => v as Int) }
      : { name, type: AttrType.FLOATS, floats: value };
  }
  if (typeof value === "number") {
    return options.isInt
      ? { name, type: AttrType.INT, i: value }
      : { name, type: AttrType.FLOAT, f: value };
  }
  return { name, type: AttrType.TENSOR, t: value };
}

/** A read-mostly index over one graph. Rebuild it after edits that add or remove nodes. */
export class GraphIndex {
  /** The graph indexed. */
  readonly graph: GraphProto;
  /** Node producing each value. */
  readonly producer: Map<string, NodeProto> = new Map();
  /** Nodes consuming each value. */
  readonly consumers: Map<string, NodeProto[]> = new Map();
  /** Initializers by name. */
  readonly initializers: Map<string, TensorProto> = new Map();
  /** Graph input names (excluding initializers). */
  readonly inputs: Set<string> = new Set();
  /** Graph output names. */
  readonly outputs: Set<string> = new Set();
  #names: Set<string> = new Set();

  /**
   * Indexes a graph.
   *
   * @param graph The graph.
   */
  constructor(graph: GraphProto) {
    this.graph = graph;
    for (const t of graph.initializer ?? []) {
      if (t.name) {
        this.initializers.set(t.name, t);
        this.#names.add(t.name);
      }
    }
    for (const v of graph.input ?? []) {
      if (v.name && !this.initializers.has(v.name)) this.inputs.add(v.name);
      if (v.name) this.#names.add(v.name);
    }
    for (const v of graph.output ?? []) if (v.name) this.outputs.add(v.name);
    for (const n of graph.node ?? []) {
      if (n.name) this.#names.add(n.name);
      for (const o of n.output ?? []) {
        if (o) {
          this.producer.set(o, n);
          this.#names.add(o);
        }
      }
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    }
  }

  /**
   * A name not used anywhere in the graph yet; reserves it.
   *
   * @param base Preferred name.
   * @returns A fresh name.
   */
  freshName(base: string): string {
    let name = base;
    for (let i = 1; this.#names.has(name); i++) name = `${base}_${i}`;
    this.#names.add(name);
    return name;
  }

  /**
   * The constant tensor behind a value: an initializer, or the output of a `Constant` node.
   *
   * @param name Value name.
   * @returns The tensor, or undefined when the value is computed.
   */
  constant(name: string): TensorProto | undefined {
    const init = this.initializers.get(name);
    if (init) return init;
    const p = this.producer.get(name);
    if (p?.opType === "Constant") {
      const a = p.attribute?.find((x) => x.name === "value");
      if (a?.t) return a.t;
      const vf = p.attribute?.find((x) => x.name === "value_float");
      if (vf?.f !== undefined) return { dims: [], dataType: 1, floatData: [vf.f] };
      const vi = p.attribute?.find((x) => x.name === "value_int");
      if (vi?.i !== undefined) return { dims: [], dataType: 7, int64Data: [vi.i] };
      const vis = p.attribute?.find((x) => x.name === "value_ints");
      if (vis?.ints) return { dims: [vis.ints.length], dataType: 7, int64Data: vis.ints };
    }
    return undefined;
  }

  /**
   * The constant value as floats, if the value is constant and floating point.
   *
   * @param name Value name.
   * @returns Elements and shape, or undefined.
   */
  constantFloats(name: string): { data: Float32Array; dims: number[] } | undefined {
    const t = this.constant(name);
    if (!t) return undefined;
    try {
      return { data: readFloats(t), dims: tensorDims(t) };
    } catch {
      return undefined;
    }
  }

  /**
   * The constant value as integers, if the value is constant and integral.
   *
   * @param name Value name.
   * @returns Elements, or undefined.
   */
  constantInts(name: string): number[] | undefined {
    const t = this.constant(name);
    if (!t) return undefined;
    try {
      return readInts(t);
    } catch {
      return undefined;
    }
  }

  /**
   * The single consumer of a value, when there is exactly one and the value is not a graph output.
   *
   * @param name Value name.
   * @returns The node, or undefined.
   */
  soleConsumer(name: string): NodeProto | undefined {
    const c = this.consumers.get(name);
    if (!c || c.length !== 1 || this.outputs.has(name)) return undefined;
    return c[0];
  }
}

/**
 * Inserts nodes into a graph right before an anchor node, which keeps the node list topologically
 * sorted when the new nodes only read values available to the anchor.
 *
 * @param graph The graph.
 * @param anchor The node to insert before.
 * @param nodes The new nodes, in order.
 */
export function insertBefore(graph: GraphProto, anchor: NodeProto, nodes: NodeProto[]): void {
  const list = graph.node ?? [];
  const at = list.indexOf(anchor);
  if (at < 0) {
    throw new RangeError(`Cannot insert before node ${anchor.name}: it is not in the graph`);
  }
  list.splice(at, 0, ...nodes);
  graph.node = list;
}

/**
 * Replaces every use of a value, in nodes and graph outputs, except in the listed nodes.
 *
 * @param graph The graph.
 * @param from Old value name.
 * @param to New value name.
 * @param options `except` lists nodes whose inputs stay as they are.
 */
export function replaceUses(
  graph: GraphProto,
  from: string,
  to: string,
  options: { except?: readonly NodeProto[] } = {},
): void {
  const except = new Set(options.except ?? []);
  for (const n of graph.node ?? []) {
    if (except.has(n) || !n.input) continue;
    n.input = n.input.map((i) => (i === from ? to : i));
  }
  for (const o of graph.output ?? []) if (o.name === from) o.name = to;
}
