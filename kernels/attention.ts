/**
 * Attention of one query over a KV cache, split over the sequence (`attention.wgsl`: a chunk pass
 * and a combine pass, or on GPUs one pass whose last workgroup per head combines), with its CPU
 * reference. The cache holds f32 or f16 elements ({@linkcode KvDtype}); the kernel reads it in
 * 16-byte units through a dtype prelude (`attention_kv_f32.wgsl`, `attention_kv_f16.wgsl`), so an
 * f16 cache halves the bytes read and needs no shader-f16 feature.
 *
 * @module
 */

import source from "./attention.wgsl" with { type: "text" };
import f32Prelude from "./attention_kv_f32.wgsl" with { type: "text" };
import f16Prelude from "./attention_kv_f16.wgsl" with { type: "text" };
import {
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";
import type { HeadShape, KvDtype } from "./rope_cache.ts";

/** The launch choices of the attention kernels that a decoder can tune. */
export interface AttentionTuning {
  /** Positions per chunk workgroup (default {@linkcode ATTENTION_CHUNK}). */
  chunk?: number;
  /** The last chunk of each head combines it: one dispatch instead of two (default false). */
  fused?: boolean;
}

/** Positions per chunk (one workgroup each, per head), by default. */
export const ATTENTION_CHUNK = 64;

/**
 * CPU reference: softmax(q·Kᵀ · scale) · V over positions 0..len−1, per head.
 *
 * @param q Query [heads·headDim].
 * @param options Geometry, caches [positions, kvHeads·headDim] (for an f16 cache, its values
 * rounded to f16: see `ropeCacheCpu`), length and scale.
 * @returns The attention output [heads·headDim].
 */
export function attentionCpu(
  q: Float32Array,
  options: HeadShape & { kcache: Float32Array; vcache: Float32Array; len: number; scale: number },
): Float32Array {
  const { heads, kvHeads, headDim: hd, len } = options;
  const kvd = kvHeads * hd;
  const out = new Float32Array(heads * hd);
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / (heads / kvHeads));
    const s = new Float64Array(len);
    let m = -Infinity;
    for (let t = 0; t < len; t++) {
      let a = 0;
      for (let d = 0; d < hd; d++) a += q[h * hd + d]! * options.kcache[t * kvd + kvh * hd + d]!;
      s[t] = a * options.scale;
      m = Math.max(m, s[t]!);
    }
    let l = 0;
    for (let t = 0; t < len; t++) l += s[t] = Math.exp(s[t]! - m);
    for (let d = 0; d < hd; d++) {
      let o = 0;
      for (let t = 0; t < len; t++) o += s[t]! * options.vcache[t * kvd + kvh * hd + d]!;
      out[h * hd + d] = o / l;
    }
  }
  return out;
}

function bind(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  label: string,
  entries: [number, GPUBuffer][],
): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: entries.map(([binding, buffer]) => ({ binding, resource: { buffer } })),
  });
}

/**
 * Lanes per key row in the lanes form's score phase: the most that divide the row's units and the
 * workgroup while every thread scores at most one position (more lanes, fewer loads per thread).
 *
 * @param units 16-byte units per head row.
 * @param options Threads and positions per chunk workgroup.
 * @returns The lane count (at least 1).
 */
function scoreLanes(units: number, options: { workgroupSize: number; chunk: number }): number {
  for (let lp = Math.min(units, Math.floor(options.workgroupSize / options.chunk)); lp > 1; lp--) {
    if (units % lp === 0 && options.workgroupSize % lp === 0) return lp;
  }
  return 1;
}

/**
 * Creates the attention passes for a cache of `maxPositions` positions.
 *
 * @param device The device.
 * @param options Geometry, scale, capacity, buffers and the caches' element type (default f32).
 * @returns The dispatches (two, or one when fused) and the output buffer.
 * @throws {RangeError} When the head size is not a multiple of the cache's unit (4 elements for
 * f32, 8 for f16) up to 256, or the workgroup is smaller than a chunk or a row's units.
 */
export async function createAttention(
  device: GPUDevice,
  options: HeadShape & {
    label: string;
    scale: number;
    maxPositions: number;
    q: GPUBuffer;
    kcache: GPUBuffer;
    vcache: GPUBuffer;
    state: GPUBuffer;
    out?: GPUBuffer;
    /** Threads of the chunk pass (default 256). */
    workgroupSize?: number;
    /**
     * The chunk pass's form: `lanes` (default; lanes of hd/4 threads read each key row
     * coalesced, for GPUs) or `rows` (a thread per position, few barriers, for CPU adapters).
     */
    form?: "lanes" | "rows";
    /** Positions per chunk (default {@linkcode ATTENTION_CHUNK}; at most the workgroup size). */
    chunk?: number;
    /**
     * One dispatch instead of two (lanes form only): the last chunk workgroup of each head to
     * finish combines it.
     */
    fused?: boolean;
    /** The caches' element type (default f32). */
    kvDtype?: KvDtype;
  },
): Promise<{ dispatches: Dispatch[]; out: GPUBuffer }> {
  const { heads, kvHeads, headDim: hd } = options;
  const wg = options.workgroupSize ?? 256;
  const positions = options.chunk ?? ATTENTION_CHUNK;
  const fused = (options.fused ?? false) && options.form !== "rows";
  const f16 = options.kvDtype === "f16";
  // Elements per 16-byte unit of the cache.
  const unit = f16 ? 8 : 4;
  const units = hd / unit;
  if (hd > 256 || hd % unit !== 0 || wg < positions || wg < units) {
    throw new RangeError(
      `${options.label}: head dimension ${hd} must be a multiple of ${unit} up to 256, and the workgroup at least ${positions} threads`,
    );
  }
  const chunks = Math.ceil(options.maxPositions / positions);
  const constants = {
    CHUNK: positions,
    WG: wg,
    HD: hd,
    LP: scoreLanes(units, { workgroupSize: wg, chunk: positions }),
  };
  const code = (f16 ? f16Prelude : f32Prelude) + source;
  const chunk = await createPipeline(device, {
    label: `${options.label} attention chunk`,
    code,
    constants,
    entryPoint: options.form === "rows" ? "chunk_rows" : fused ? "chunk_fused" : "chunk",
  });
  const combine = await createPipeline(device, {
    label: `${options.label} attention combine`,
    code,
    constants,
    entryPoint: "combine",
  });
  const partMl = storageBuffer(device, `${options.label} attn m,l`, heads * chunks * 8);
  const arrivals = storageBuffer(device, `${options.label} attn arrivals`, heads * 4);
  const partO = storageBuffer(device, `${options.label} attn o`, heads * chunks * hd * 4);
  const out = options.out ?? storageBuffer(device, `${options.label} attn out`, heads * hd * 4);
  const params = uniformBuffer(
    device,
    `${options.label} attn params`,
    packUniform([
      { u32: heads },
      { u32: kvHeads },
      { u32: hd },
      { u32: chunks },
      { f32: options.scale },
      { u32: 0 },
      { u32: 0 },
      { u32: 0 },
    ]),
  );
  const chunkDispatch: Dispatch = {
    pipeline: chunk,
    bindGroup: bind(device, chunk, `${options.label} attn chunk`, [
      [0, options.q],
      [1, options.kcache],
      [2, options.vcache],
      [3, options.state],
      [4, partMl],
      [5, partO],
      [7, params],
      ...(fused ? [[6, out], [8, arrivals]] as [number, GPUBuffer][] : []),
    ]),
    workgroups: [heads, chunks, 1],
  };
  if (fused) return { dispatches: [chunkDispatch], out };
  return {
    dispatches: [
      chunkDispatch,
      {
        pipeline: combine,
        bindGroup: bind(device, combine, `${options.label} attn combine`, [
          [3, options.state],
          [6, out],
          [7, params],
          [9, partMl],
          [10, partO],
        ]),
        workgroups: [heads, 1, 1],
      },
    ],
    out,
  };
}
