/**
 * Finishing the fused q/k/v projection of one token: split-K sum + bias, RoPE, KV-cache append
 * (`rope_cache.wgsl`), with its CPU reference. The KV cache holds f32 or f16 elements
 * ({@linkcode KvDtype}); an f16 cache packs two halves per 32-bit word, the layout of
 * `array<f16>`, and needs no shader-f16 feature.
 *
 * @module
 */

import source from "./rope_cache.wgsl" with { type: "text" };
import f32Prelude from "./rope_cache_kv_f32.wgsl" with { type: "text" };
import f16Prelude from "./rope_cache_kv_f16.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/** Attention geometry. */
export interface HeadShape {
  /** Query heads. */
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  /** Dimensions per head (even). */
  headDim: number;
}

/**
 * Element type of a KV cache [positions, kvHeads·headDim]: `f32`, or `f16` packed two per 32-bit
 * word (half the bytes the attention reads; an f16 cache needs a head size that is a multiple
 * of 4 here and of 8 in the decode attention).
 */
export type KvDtype = "f32" | "f16";

/**
 * Bytes per element of a KV cache.
 *
 * @param dtype The cache's element type.
 * @returns 4 or 2.
 */
export function kvElementBytes(dtype: KvDtype): number {
  return dtype === "f16" ? 2 : 4;
}

/**
 * CPU reference: returns q (rotated) and writes k, v into the caches at `pos` (rounded to f16
 * when `kvDtype` is f16, as the GPU stores them; the caches stay Float32Arrays).
 *
 * @param qkv Split-K partials [splits, (heads + 2·kvHeads)·headDim].
 * @param options Geometry, position, RoPE base (absent: no rotation), caches, bias, splits, the
 * caches' element type (default f32).
 * @returns q.
 */
export function ropeCacheCpu(
  qkv: Float32Array,
  options: HeadShape & {
    pos: number;
    ropeBase?: number;
    kcache: Float32Array;
    vcache: Float32Array;
    bias?: Float32Array;
    splits?: number;
    kvDtype?: KvDtype;
  },
): Float32Array {
  const { heads, kvHeads, headDim: hd, pos } = options;
  const qd = heads * hd;
  const kvd = kvHeads * hd;
  const n = qd + 2 * kvd;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let a = options.bias?.[i] ?? 0;
    for (let s = 0; s < (options.splits ?? 1); s++) a += qkv[s * n + i]!;
    v[i] = a;
  }
  if (options.ropeBase !== undefined) {
    const half = hd / 2;
    for (let head = 0; head < heads + kvHeads; head++) {
      for (let i = 0; i < half; i++) {
        const a = head * hd + i;
        const angle = pos * Math.pow(options.ropeBase, (-2 * i) / hd);
        const c = Math.cos(angle);
        const s = Math.sin(angle);
        const va = v[a]!;
        const vb = v[a + half]!;
        v[a] = va * c - vb * s;
        v[a + half] = vb * c + va * s;
      }
    }
  }
  const stored = options.kvDtype === "f16" ? v.map((x) => Math.f16round(x)) : v;
  options.kcache.set(stored.subarray(qd, qd + kvd), pos * kvd);
  options.vcache.set(stored.subarray(qd + kvd), pos * kvd);
  return v.slice(0, qd);
}

/**
 * Creates the step.
 *
 * @param device The device.
 * @param options Geometry, RoPE base, the buffers it reads and writes, and the caches' element
 * type (default f32; the caches hold positions·kvHeads·headDim elements of it).
 * @returns The dispatch.
 * @throws {RangeError} When the head size is odd (f16: not a multiple of 4) or the heads are not
 * a multiple of the KV heads.
 */
export async function createRopeCache(
  device: GPUDevice,
  options: HeadShape & {
    label: string;
    ropeBase?: number;
    qkv: GPUBuffer;
    splits?: number;
    bias?: GPUBuffer;
    state: GPUBuffer;
    q: GPUBuffer;
    kcache: GPUBuffer;
    vcache: GPUBuffer;
    /** Positions pos … pos + rows − 1 (prefill: row r of qkv and of q each); default one. */
    rows?: number;
    /** The caches' element type (default f32). */
    kvDtype?: KvDtype;
  },
): Promise<Dispatch> {
  const { heads, kvHeads, headDim } = options;
  const rows = options.rows ?? 1;
  const f16 = options.kvDtype === "f16";
  // An f16 thread finishes two adjacent rotation pairs, so half the head size must be even.
  const pairs = f16 ? 2 : 1;
  if (headDim % (2 * pairs) !== 0 || heads % kvHeads !== 0) {
    throw new RangeError(
      `${options.label}: head dimension must be a multiple of ${
        2 * pairs
      } and heads a multiple of kv heads`,
    );
  }
  const n = (heads + 2 * kvHeads) * headDim;
  const pipeline = await createPipeline(device, {
    label: `${options.label} rope_cache`,
    code: (f16 ? f16Prelude : f32Prelude) + source,
    constants: { ROPE: options.ropeBase !== undefined ? 1 : 0, SEQ: rows > 1 ? 1 : 0 },
  });
  const params = uniformBuffer(
    device,
    `${options.label} rope params`,
    packUniform([
      { u32: heads },
      { u32: kvHeads },
      { u32: headDim },
      { u32: options.splits ?? 1 },
      { f32: options.ropeBase ?? 10000 },
      { u32: 0 },
      { u32: 0 },
      { u32: 0 },
    ]),
  );
  const bias = options.bias ?? storageBuffer(device, `${options.label} qkv zeros`, n * 4);
  return {
    pipeline,
    bindGroup: bindAll(device, pipeline, `${options.label} rope`, [
      options.qkv,
      bias,
      options.state,
      options.q,
      options.kcache,
      options.vcache,
      params,
    ]),
    workgroups: [Math.ceil(n / 2 / pairs / 64), rows, 1],
  };
}
