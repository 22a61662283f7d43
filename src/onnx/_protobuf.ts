/**
 * A schema-driven Protocol Buffers wire-format codec, small enough to read in one sitting.
 *
 * ONNX files are protobuf messages. The npm protobuf libraries either need generated code or drop
 * fields they do not know; this codec keeps unknown fields as raw bytes so that a model the project
 * did not write survives a decode/encode round trip unchanged.
 *
 * @module
 */

/** The scalar kinds a field can hold; a nested message is given by its schema instead. */
export type ScalarKind = "int" | "sint" | "float" | "double" | "string" | "bytes";

/** One field of a message schema. */
export interface FieldDef {
  /** Property name on the decoded object. */
  name: string;
  /** Scalar kind, or the schema of a nested message. */
  kind: ScalarKind | MessageSchema;
  /** Whether the field repeats; decoded as an array. */
  repeated?: boolean;
  /** Whether a repeated scalar is written packed (proto2 fields are unpacked unless marked). */
  packed?: boolean;
}

/** A message schema: field number to definition. Filled lazily so schemas can be recursive. */
export type MessageSchema = { fields: Map<number, FieldDef> };

/** An integer as decoded: a number when it is exactly representable, a bigint otherwise. */
export type Int = number | bigint;

/** A decoded message: named fields plus the raw bytes of fields the schema does not know. */
export type Message = Record<string, unknown> & { _unknown?: Uint8Array[] };

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  varint(): Int {
    let lo = 0;
    let shift = 0;
    // Fast path: up to 4 bytes fit in 28 bits of a plain number.
    while (shift < 28) {
      const b = this.byte();
      lo |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return lo >>> 0;
      shift += 7;
    }
    let value = BigInt(lo >>> 0);
    let bshift = 28n;
    for (let i = 0; i < 6; i++) {
      const b = this.byte();
      value |= BigInt(b & 0x7f) << bshift;
      if ((b & 0x80) === 0) return narrow(BigInt.asIntN(64, value));
      bshift += 7n;
    }
    throw new SyntaxError(
      `Cannot decode protobuf: varint longer than 10 bytes at offset ${this.pos}`,
    );
  }

  byte(): number {
    if (this.pos >= this.buf.length) {
      throw new SyntaxError(`Cannot decode protobuf: unexpected end of data at offset ${this.pos}`);
    }
    return this.buf[this.pos++]!;
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (len < 0 || this.pos + len > this.buf.length) {
      throw new SyntaxError(
        `Cannot decode protobuf: length ${len} at offset ${this.pos} runs past the end (${this.buf.length} bytes)`,
      );
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new SyntaxError(
          `Cannot decode protobuf: unsupported wire type ${wireType} at offset ${this.pos}`,
        );
    }
  }

  advance(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new SyntaxError(`Cannot decode protobuf: unexpected end of data at offset ${this.pos}`);
    }
    this.pos += n;
  }
}

function narrow(v: bigint): Int {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

function zigzag(v: Int): Int {
  const b = BigInt(v);
  return narrow((b >> 1n) ^ -(b & 1n));
}

function readScalar(r: Reader, kind: ScalarKind, wireType: number): unknown {
  switch (kind) {
    case "int":
      if (wireType !== 0) break;
      return r.varint();
    case "sint":
      if (wireType !== 0) break;
      return zigzag(r.varint());
    case "float": {
      if (wireType !== 5) break;
      const v = r.view.getFloat32(r.pos, true);
      r.advance(4);
      return v;
    }
    case "double": {
      if (wireType !== 1) break;
      const v = r.view.getFloat64(r.pos, true);
      r.advance(8);
      return v;
    }
    case "string":
      if (wireType !== 2) break;
      return textDecoder.decode(r.bytes());
    case "bytes":
      if (wireType !== 2) break;
      return r.bytes();
  }
  throw new SyntaxError(
    `Cannot decode protobuf: wire type ${wireType} does not fit a ${kind} field at offset ${r.pos}`,
  );
}

function scalarWireType(kind: ScalarKind): number {
  switch (kind) {
    case "int":
    case "sint":
      return 0;
    case "float":
      return 5;
    case "double":
      return 1;
    default:
      return 2;
  }
}

/**
 * Decodes one message of the given schema.
 *
 * @param buf The encoded message.
 * @param schema The schema to decode with.
 * @returns The decoded message.
 */
export function decodeMessage(buf: Uint8Array, schema: MessageSchema): Message {
  const r = new Reader(buf);
  const out: Message = {};
  while (r.pos < buf.length) {
    const start = r.pos;
    const tag = Number(r.varint());
    const fieldNo = tag >>> 3;
    const wireType = tag & 7;
    const def = schema.fields.get(fieldNo);
    if (def === undefined) {
      r.skip(wireType);
      (out._unknown ??= []).push(buf.subarray(start, r.pos));
      continue;
    }
    if (typeof def.kind !== "string") {
      if (wireType !== 2) {
        throw new SyntaxError(
          `Cannot decode protobuf: field ${def.name} is a message but has wire type ${wireType}`,
        );
      }
      const msg = decodeMessage(r.bytes(), def.kind);
      if (def.repeated) ((out[def.name] ??= []) as Message[]).push(msg);
      else out[def.name] = msg;
      continue;
    }
    if (def.repeated) {
      const list = (out[def.name] ??= []) as unknown[];
      const scalarWire = scalarWireType(def.kind);
      if (wireType === 2 && scalarWire !== 2) {
        const sub = new Reader(r.bytes());
        while (sub.pos < sub.buf.length) list.push(readScalar(sub, def.kind, scalarWire));
      } else {
        list.push(readScalar(r, def.kind, wireType));
      }
    } else {
      out[def.name] = readScalar(r, def.kind, wireType);
    }
  }
  return out;
}

class Writer {
  chunks: Uint8Array[] = [];
  cur = new Uint8Array(1024);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.cur.length) return;
    this.flush();
    if (n > this.cur.length) this.cur = new Uint8Array(Math.max(n, 1024));
  }

  flush(): void {
    if (this.len > 0) {
      this.chunks.push(this.cur.slice(0, this.len));
      this.len = 0;
    }
  }

  varint(v: Int): void {
    this.ensure(10);
    if (typeof v === "number" && v >= 0 && v <= 0x7fffffff) {
      while (v > 0x7f) {
        this.cur[this.len++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.cur[this.len++] = v;
      return;
    }
    let b = BigInt.asUintN(64, BigInt(v));
    while (b > 0x7fn) {
      this.cur[this.len++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.cur[this.len++] = Number(b);
  }

  raw(bytes: Uint8Array): void {
    if (bytes.length > 4096) {
      this.flush();
      this.chunks.push(bytes);
      return;
    }
    this.ensure(bytes.length);
    this.cur.set(bytes, this.len);
    this.len += bytes.length;
  }

  float(v: number): void {
    this.ensure(4);
    new DataView(this.cur.buffer).setFloat32(this.len, v, true);
    this.len += 4;
  }

  double(v: number): void {
    this.ensure(8);
    new DataView(this.cur.buffer).setFloat64(this.len, v, true);
    this.len += 8;
  }

  finish(): Uint8Array {
    this.flush();
    let size = 0;
    for (const c of this.chunks) size += c.length;
    const out = new Uint8Array(size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

function writeScalar(w: Writer, kind: ScalarKind, v: unknown): void {
  switch (kind) {
    case "int":
      w.varint(v as Int);
      return;
    case "sint": {
      const b = BigInt(v as Int);
      w.varint(BigInt.asUintN(64, (b << 1n) ^ (b >> 63n)));
      return;
    }
    case "float":
      w.float(v as number);
      return;
    case "double":
      w.double(v as number);
      return;
    case "string": {
      const bytes = textEncoder.encode(v as string);
      w.varint(bytes.length);
      w.raw(bytes);
      return;
    }
    case "bytes": {
      const bytes = v as Uint8Array;
      w.varint(bytes.length);
      w.raw(bytes);
    }
  }
}

/**
 * Encodes a message of the given schema; fields are written in field-number order, then the
 * unknown fields kept from decoding.
 *
 * @param msg The message to encode.
 * @param schema Its schema.
 * @returns The encoded bytes.
 */
export function encodeMessage(msg: Message, schema: MessageSchema): Uint8Array {
  const w = new Writer();
  const numbers = [...schema.fields.keys()].sort((a, b) => a - b);
  for (const no of numbers) {
    const def = schema.fields.get(no)!;
    const value = msg[def.name];
    if (value === undefined || value === null) continue;
    const values = def.repeated ? value as unknown[] : [value];
    if (typeof def.kind !== "string") {
      for (const v of values) {
        const body = encodeMessage(v as Message, def.kind);
        w.varint((no << 3) | 2);
        w.varint(body.length);
        w.raw(body);
      }
      continue;
    }
    const wire = scalarWireType(def.kind);
    if (def.repeated && def.packed && wire !== 2) {
      if (values.length === 0) continue;
      const inner = new Writer();
      for (const v of values) writeScalar(inner, def.kind, v);
      const body = inner.finish();
      w.varint((no << 3) | 2);
      w.varint(body.length);
      w.raw(body);
      continue;
    }
    for (const v of values) {
      w.varint((no << 3) | wire);
      writeScalar(w, def.kind, v);
    }
  }
  for (const raw of msg._unknown ?? []) w.raw(raw);
  return w.finish();
}

/**
 * Builds a schema from a field table; `define` fills it later so schemas may refer to each other.
 *
 * @returns An empty schema to be filled with {@linkcode define}.
 */
export function schema(): MessageSchema {
  return { fields: new Map() };
}

/**
 * Fills a schema created with {@linkcode schema}.
 *
 * @param target The schema to fill.
 * @param fields Field number to definition.
 */
export function define(target: MessageSchema, fields: Record<number, FieldDef>): void {
  for (const [no, def] of Object.entries(fields)) target.fields.set(Number(no), def);
}
