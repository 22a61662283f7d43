/**
 * Shapes of every value in a graph, found by running it once.
 *
 * Symbolic shape inference has to re-implement the shape rules of every operator and constant-fold
 * the Shape→Gather→Concat chains that exporters emit; ONNX Runtime already knows them. So the graph
 * is run once on onnxruntime-node (or a runtime the caller hands in, as a browser page does) with
 * every intermediate value exposed as an output, on inputs of the requested shapes, and the shapes
 * are read off the results.
 *
 * @module
 */

import { DataType, encodeModel, type ModelProto, type ValueInfo } from "./model.ts";
import { numel } from "./tensor_data.ts";

/** The shape and element type of one value. */
export interface ValueShape {
  /** Dimensions. */
  dims: number[];
  /** ORT element type name, e.g. "float32" or "int64". */
  type: string;
}

/** Runs a graph once and returns each output's dims and ORT element type name. */
export type ShapeRun = (
  model: Uint8Array,
  feeds: Record<string, { type: string; data: unknown; dims: number[] }>,
) => Promise<Record<string, { type: string; dims: readonly number[] }>>;

/** A graph input's declared type and shape. */
export interface InputSpec {
  /** Input name. */
  name: string;
  /** ONNX element type code. */
  elemType: number;
  /** Dimensions: a number, or the symbolic name of a dynamic one. */
  dims: (number | string)[];
}

/**
 * The graph inputs that are not initializers, with their declared shapes.
 *
 * @param model The model.
 * @returns Input specs.
 */
export function graphInputs(model: ModelProto): InputSpec[] {
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  return (model.graph?.input ?? []).filter((v) => v.name && !inits.has(v.name)).map((
    v: ValueInfo,
  ) => ({
    name: v.name!,
    elemType: v.type?.tensorType?.elemType ?? DataType.FLOAT,
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d, i) =>
      d.dimValue !== undefined ? Number(d.dimValue) : d.dimParam || `dim${i}`
    ),
  }));
}

/**
 * Resolves input shapes from the model's static dims and the given overrides.
 *
 * @param model The model.
 * @param overrides Shapes by input name (e.g. from `--shape input=1x784`).
 * @returns Concrete shapes by input name.
 * @throws {RangeError} When a dynamic dimension has no override, naming the input and the flag.
 */
export function resolveInputShapes(
  model: ModelProto,
  overrides: Record<string, number[]> = {},
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const input of graphInputs(model)) {
    const given = overrides[input.name];
    if (given) {
      out[input.name] = given;
      continue;
    }
    const dynamic = input.dims.filter((d) => typeof d === "string");
    if (dynamic.length > 0) {
      throw new RangeError(
        `Input "${input.name}" has dynamic dimensions (${
          dynamic.join(", ")
        }): give its shape with --shape ${input.name}=${
          input.dims.map((d) => (typeof d === "number" ? d : 1)).join("x")
        }`,
      );
    }
    out[input.name] = input.dims as number[];
  }
  return out;
}

function zeros(elemType: number, dims: number[]): { type: string; data: unknown } {
  const n = numel(dims);
  switch (elemType) {
    case DataType.INT64:
      return { type: "int64", data: new BigInt64Array(n) };
    case DataType.INT32:
      return { type: "int32", data: new Int32Array(n) };
    case DataType.BOOL:
      return { type: "bool", data: new Uint8Array(n).fill(1) };
    case DataType.FLOAT16:
      return { type: "float16", data: new Uint16Array(n) };
    default:
      return {
        type: "float32",
        data: new Float32Array(n).map((_, i) => ((i * 7919) % 101) / 101 - 0.5),
      };
  }
}

/**
 * Runs the model once and returns the shape of every value it computes.
 *
 * @example Usage
 * ```ts ignore
 * const shapes = await inferShapes(model, { input: [1, 784] });
 * console.log(shapes.get("logits")?.dims); // [1, 10]
 * ```
 *
 * @param model The model (not modified).
 * @param inputShapes Concrete shape of every input.
 * @param options `run`: the runtime (default onnxruntime-node).
 * @returns Shapes by value name (inputs, node outputs).
 */
export async function inferShapes(
  model: ModelProto,
  inputShapes: Record<string, number[]>,
  options: { run?: ShapeRun } = {},
): Promise<Map<string, ValueShape>> {
  const graph = model.graph!;
  const declared = new Set((graph.output ?? []).map((o) => o.name));
  const extra: ValueInfo[] = [];
  for (const n of graph.node ?? []) {
    for (const o of n.output ?? []) if (o && !declared.has(o)) extra.push({ name: o });
  }
  const probe: ModelProto = {
    ...model,
    graph: { ...graph, output: [...(graph.output ?? []), ...extra] },
  };
  if (options.run) return await inferWith(options.run, probe, { model, inputShapes });
  const ort = await import("onnxruntime-node");
  let session;
  try {
    session = await ort.InferenceSession.create(encodeModel(probe), { logSeverityLevel: 3 });
  } catch (e) {
    throw new Error(`Cannot infer shapes: ONNX Runtime rejects the model: ${firstLine(e)}`);
  }
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  const shapes = new Map<string, ValueShape>();
  for (const input of graphInputs(model)) {
    const dims = inputShapes[input.name];
    if (!dims) {
      throw new RangeError(`Cannot infer shapes: no shape given for input "${input.name}"`);
    }
    const z = zeros(input.elemType, dims);
    feeds[input.name] = new ort.Tensor(z.type as "float32", z.data as Float32Array, dims);
    shapes.set(input.name, { dims, type: z.type });
  }
  let out;
  try {
    out = await session.run(feeds);
  } catch (e) {
    throw new Error(`Cannot infer shapes: running the model failed: ${firstLine(e)}`);
  } finally {
    await session.release();
  }
  for (const [name, t] of Object.entries(out)) {
    shapes.set(name, { dims: [...t.dims], type: t.type });
  }
  for (const init of graph.initializer ?? []) {
    if (init.name) {
      shapes.set(init.name, { dims: (init.dims ?? []).map(Number), type: "initializer" });
    }
  }
  return shapes;
}

async function inferWith(
  run: ShapeRun,
  probe: ModelProto,
  c: { model: ModelProto; inputShapes: Record<string, number[]> },
): Promise<Map<string, ValueShape>> {
  const feeds: Record<string, { type: string; data: unknown; dims: number[] }> = {};
  const shapes = new Map<string, ValueShape>();
  for (const input of graphInputs(c.model)) {
    const dims = c.inputShapes[input.name];
    if (!dims) {
      throw new RangeError(`Cannot infer shapes: no shape given for input "${input.name}"`);
    }
    const z = zeros(input.elemType, dims);
    feeds[input.name] = { type: z.type, data: z.data, dims };
    shapes.set(input.name, { dims, type: z.type });
  }
  let out;
  try {
    out = await run(encodeModel(probe), feeds);
  } catch (e) {
    throw new Error(`Cannot infer shapes: running the model failed: ${firstLine(e)}`);
  }
  for (const [name, t] of Object.entries(out)) {
    shapes.set(name, { dims: [...t.dims], type: t.type });
  }
  for (const init of c.model.graph!.initializer ?? []) {
    if (init.name) {
      shapes.set(init.name, { dims: (init.dims ?? []).map(Number), type: "initializer" });
    }
  }
  return shapes;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!.trim();
}
