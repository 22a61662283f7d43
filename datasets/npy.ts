/**
 * Reading and writing NumPy `.npy` arrays (format versions 1–3, C order, little-endian): the
 * float32/float64/float16, int64/int32/int16/int8, uint8 and bool arrays a user's data folder
 * holds, decoded into the element types ONNX Runtime feeds.
 *
 * @module
 */

/** A decoded `.npy` array. */
export interface NpyArray {
  /** NumPy dtype descriptor as stored, e.g. `<f4`. */
  dtype: string;
  /** Shape. */
  shape: number[];
  /** Elements: floats become Float32Array, 64-bit integers BigInt64Array, the rest Int32Array. */
  data: Float32Array | BigInt64Array | Int32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SUPPORTED = new Set(["f4", "f8", "f2", "i8", "u8", "i4", "i2", "u2", "i1", "u1", "b1"]);

/**
 * Decodes a `.npy` file.
 *
 * @example Usage
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * const a = decodeNpy(encodeNpy(new Float32Array([1, 2]), [2]));
 * console.log(a.shape, a.data); // [2] Float32Array [1, 2]
 * ```
 *
 * @param bytes The file's bytes.
 * @param source Name used in errors.
 * @returns The array.
 * @throws {RangeError} For a file that is not `.npy`, Fortran order, big-endian or an unsupported dtype.
 */
export function decodeNpy(bytes: Uint8Array, source = "array"): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new RangeError(`${source}: not a .npy file (save it with numpy.save)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + headerLen),
  );
  const descr = header.match(/'descr':\s*'([^']+)'/)?.[1];
  const fortran = header.match(/'fortran_order':\s*(True|False)/)?.[1];
  const shapeText = header.match(/'shape':\s*\(([^)]*)\)/)?.[1];
  if (!descr || !fortran || shapeText === undefined) {
    throw new RangeError(`${source}: unreadable .npy header "${header.trim()}"`);
  }
  if (fortran === "True") {
    throw new RangeError(`${source}: Fortran-order array; save numpy.ascontiguousarray(a)`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + headerLen;
  if (descr.startsWith(">") && !descr.endsWith("1")) {
    throw new RangeError(
      `${source}: big-endian dtype ${descr}; save a.astype("<${descr.slice(1)}")`,
    );
  }
  const code = descr.replace(/^[<|=]/, "");
  if (!SUPPORTED.has(code)) {
    throw new RangeError(
      `${source}: dtype ${descr} is not supported (use float32, float64, float16, int64, int32, int16, int8, uint8 or bool)`,
    );
  }
  const size = Number(code.slice(1));
  if (bytes.length < off + n * size) {
    throw new RangeError(
      `${source}: truncated (${bytes.length - off} data bytes for ${n} × ${code})`,
    );
  }
  const at = (i: number) => off + i * size;
  let data: Float32Array | BigInt64Array | Int32Array;
  switch (code) {
    case "f4":
      data = new Float32Array(n).map((_, i) => view.getFloat32(at(i), true));
      break;
    case "f8":
      data = new Float32Array(n).map((_, i) => view.getFloat64(at(i), true));
      break;
    case "f2":
      data = new Float32Array(n).map((_, i) => halfToFloat(view.getUint16(at(i), true)));
      break;
    case "i8":
      data = new BigInt64Array(n).map((_, i) => view.getBigInt64(at(i), true));
      break;
    case "u8":
      data = new BigInt64Array(n).map((_, i) => BigInt.asIntN(64, view.getBigUint64(at(i), true)));
      break;
    case "i4":
      data = new Int32Array(n).map((_, i) => view.getInt32(at(i), true));
      break;
    case "i2":
      data = new Int32Array(n).map((_, i) => view.getInt16(at(i), true));
      break;
    case "u2":
      data = new Int32Array(n).map((_, i) => view.getUint16(at(i), true));
      break;
    case "i1":
      data = new Int32Array(n).map((_, i) => view.getInt8(at(i)));
      break;
    case "u1":
    case "b1":
      data = new Int32Array(n).map((_, i) => view.getUint8(at(i)));
      break;
    default:
      throw new RangeError(
        `${source}: dtype ${descr} is not supported (use float32, float64, float16, int64, int32, int16, int8, uint8 or bool)`,
      );
  }
  return { dtype: descr, shape, data };
}

/**
 * Encodes an array as a version-1 `.npy` file.
 *
 * @param data Elements (float32 → `<f4`, int32 → `<i4`, int64 → `<i8`, uint8 → `|u1`).
 * @param shape Shape.
 * @returns The file's bytes.
 */
export function encodeNpy(
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array,
  shape: readonly number[],
): Uint8Array {
  const descr = data instanceof Float32Array
    ? "<f4"
    : data instanceof Int32Array
    ? "<i4"
    : data instanceof BigInt64Array
    ? "<i8"
    : "|u1";
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad % 64) + "\n";
  const head = new TextEncoder().encode(header);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(10 + head.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, head.length, true);
  out.set(head, 10);
  out.set(body, 10 + head.length);
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
