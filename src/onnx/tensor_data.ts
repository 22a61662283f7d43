/**
 * Reading and writing the elements of ONNX tensors (initializers and `Constant` values).
 *
 * @module
 */

import { DataType, type Int, type TensorProto } from "./model.ts";

/**
 * The shape of a tensor as plain numbers.
 *
 * @param t The tensor.
 * @returns Its dimensions.
 */
export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(Number);
}

/**
 * The number of elements of a shape.
 *
 * @param dims The dimensions.
 * @returns Their product (1 for a scalar).
 */
export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function view(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function assertInline(t: TensorProto): void {
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    throw new TypeError(
      `Cannot read tensor ${
        t.name ?? "(unnamed)"
      }: its data is stored in an external file, which this tool does not load`,
    );
  }
}

/**
 * The elements of a floating-point tensor as float32.
 *
 * @param t A FLOAT, FLOAT16 or DOUBLE tensor.
 * @returns Its elements (a copy).
 * @throws {TypeError} For other element types or external data.
 */
export function readFloats(t: TensorProto): Float32Array {
  assertInline(t);
  const n = numel(tensorDims(t));
  const out = new Float32Array(n);
  const raw = t.rawData;
  switch (t.dataType) {
    case DataType.FLOAT:
      if (raw && raw.length > 0) {
        const dv = view(raw);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      } else out.set(t.floatData ?? []);
      return out;
    case DataType.FLOAT16:
      if (raw && raw.length > 0) {
        const dv = view(raw);
        for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
      } else (t.int32Data ?? []).forEach((h, i) => (out[i] = halfToFloat(h)));
      return out;
    case DataType.DOUBLE:
      if (raw && raw.length > 0) {
        const dv = view(raw);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      } else out.set(t.doubleData ?? []);
      return out;
  }
  throw new TypeError(
    `Cannot read tensor ${
      t.name ?? "(unnamed)"
    } as floats: element type ${t.dataType} is not a float type`,
  );
}

/**
 * The elements of an integer tensor as numbers (int64 values beyond 2^53 are clamped).
 *
 * @param t An INT64, INT32, INT8, UINT8 or BOOL tensor.
 * @returns Its elements.
 * @throws {TypeError} For other element types or external data.
 */
export function readInts(t: TensorProto): number[] {
  assertInline(t);
  const n = numel(tensorDims(t));
  const raw = t.rawData;
  const has = raw !== undefined && raw.length > 0;
  const out: number[] = new Array(n);
  switch (t.dataType) {
    case DataType.INT64:
      if (has) {
        const dv = view(raw);
        for (let i = 0; i < n; i++) out[i] = clampBig(dv.getBigInt64(i * 8, true));
      } else (t.int64Data ?? []).forEach((v, i) => (out[i] = clampBig(v)));
      return out;
    case DataType.INT32:
      if (has) {
        const dv = view(raw);
        for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      } else (t.int32Data ?? []).forEach((v, i) => (out[i] = v));
      return out;
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.BOOL:
      if (has) {
        for (let i = 0; i < n; i++) {
          out[i] = t.dataType === DataType.INT8 ? ((raw[i]! << 24) >> 24) : raw[i]!;
        }
      } else (t.int32Data ?? []).forEach((v, i) => (out[i] = v));
      return out;
  }
  throw new TypeError(
    `Cannot read tensor ${
      t.name ?? "(unnamed)"
    } as integers: element type ${t.dataType} is not an integer type`,
  );
}

function clampBig(v: Int): number {
  if (typeof v === "number") return v;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}

/**
 * A FLOAT tensor with the given elements, stored as raw little-endian bytes.
 *
 * @param name Tensor name.
 * @param dims Shape.
 * @param data Elements; their count must match the shape.
 * @returns The tensor.
 */
export function floatTensor(
  name: string,
  dims: readonly number[],
  data: ArrayLike<number>,
): TensorProto {
  if (numel(dims) !== data.length) {
    throw new RangeError(
      `Cannot build tensor ${name}: shape [${dims}] needs ${
        numel(dims)
      } elements, got ${data.length}`,
    );
  }
  const f = Float32Array.from(data);
  return {
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength),
  };
}

/**
 * An INT64 tensor with the given elements.
 *
 * @param name Tensor name.
 * @param dims Shape.
 * @param data Elements.
 * @returns The tensor.
 */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  data: readonly number[],
): TensorProto {
  const b = new BigInt64Array(data.map((v) => BigInt(v)));
  return {
    name,
    dims: [...dims],
    dataType: DataType.INT64,
    rawData: new Uint8Array(b.buffer),
  };
}
