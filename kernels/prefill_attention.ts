/**
 * Causal attention of a prompt's queries over the KV cache (prefill): host for
 * `prefill_attention.wgsl` and its CPU reference. The cache holds f32 or f16 elements
 * (`KvDtype` of `rope_cache.ts`), read through a dtype prelude (`prefill_attention_kv_*.wgsl`).
 *
 * @module
 */

import source from "./prefill_attention.wgsl" with { type: "text" };
import f32Prelude from "./prefill_attention_kv_f32.wgsl" with { type: "text" };
import f16Prelude from "./prefill_attention_kv_f16.wgsl" with { type: "text" };
import type { KvDtype } from "./rope_cache.ts";
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/** Shape of a prefill attention. */
export interface PrefillAttentionShape {
  /** Query rows (prompt positions pos … pos + rows − 1). */
  rows: number;
  /** Query heads. */
  heads: number;
  /** KV heads (a divisor of heads). */
  kvHeads: number;
  /** Head size. */
  headDim: number;
  /** Score scale, 1/√headDim for the usual attention. */
  scale: number;
}

/**
 * CPU reference: out[r, h] = softmax(q[r, h] · K[0 … pos + r]ᵀ · scale) · V[0 … pos + r].
 *
 * @param q Queries [rows, heads · headDim].
 * @param kcache Keys [positions, kvHeads · headDim] (for an f16 cache, its values rounded to f16).
 * @param vcache Values, as the keys.
 * @param options Shape and the first row's position.
 * @returns out [rows, heads · headDim].
 */
export function prefillAttentionCpu(
  q: Float32Array,
  kcache: Float32Array,
  vcache: Float32Array,
  options: PrefillAttentionShape & { pos: number },
): Float32Array {
  const { rows, heads, kvHeads, headDim: hd, scale, pos } = options;
  const qd = heads * hd;
  const kvd = kvHeads * hd;
  const out = new Float32Array(rows * qd);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / (heads / kvHeads));
      const s: number[] = [];
      for (let j = 0; j <= pos + r; j++) {
        let dot = 0;
        for (let c = 0; c < hd; c++) {
          dot += q[r * qd + h * hd + c]! * kcache[j * kvd + kvh * hd + c]!;
        }
        s.push(dot * scale);
      }
      const m = Math.max(...s);
      const e = s.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < hd; c++) {
        let v = 0;
        for (let j = 0; j < e.length; j++) v += e[j]! * vcache[j * kvd + kvh * hd + c]!;
        out[r * qd + h * hd + c] = v / z;
      }
    }
  }
  return out;
}

/**
 * Creates the prefill attention: reads q, the caches and the state's position, writes out.
 *
 * @param device The device.
 * @param options Label, shape, buffers (out is created when absent) and the caches' element type
 * (default f32).
 * @returns The dispatch and its output.
 */
export async function createPrefillAttention(
  device: GPUDevice,
  options: PrefillAttentionShape & {
    label: string;
    q: GPUBuffer;
    kcache: GPUBuffer;
    vcache: GPUBuffer;
    state: GPUBuffer;
    out?: GPUBuffer;
    /** The caches' element type (default f32). */
    kvDtype?: KvDtype;
  },
): Promise<{ dispatch: Dispatch; out: GPUBuffer }> {
  const { rows, heads, kvHeads, headDim: hd } = options;
  if (heads % kvHeads !== 0 || rows < 1) {
    throw new RangeError(`${options.label}: heads must be a multiple of kv heads, rows at least 1`);
  }
  const pipeline = await createPipeline(device, {
    label: `${options.label} prefill attention`,
    code: (options.kvDtype === "f16" ? f16Prelude : f32Prelude) + source,
  });
  const out = options.out ??
    storageBuffer(device, `${options.label} prefill attention out`, rows * heads * hd * 4);
  const params = uniformBuffer(
    device,
    `${options.label} prefill attention params`,
    packUniform([
      { u32: rows },
      { u32: heads },
      { u32: kvHeads },
      { u32: hd },
      { f32: options.scale },
      { u32: 0 },
      { u32: 0 },
      { u32: 0 },
    ]),
  );
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, `${options.label} prefill attention`, [
        options.q,
        options.kcache,
        options.vcache,
        options.state,
        out,
        params,
      ]),
      workgroups: [Math.ceil((rows * Math.ceil(hd / 8)) / 64), heads, 1],
    },
    out,
  };
}
