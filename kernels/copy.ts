/**
 * The bandwidth ceiling: a grid-stride vec4 copy (`copy.wgsl`), timed like the kernels, so every
 * GB/s figure can be put as a percentage of what a WGSL kernel can reach on the same device.
 *
 * @module
 */

import copySource from "./copy.wgsl" with { type: "text" };
import { bindAll, createPipeline, storageBuffer } from "./host.ts";
import { type KernelTime, timeDispatches } from "./gpu_timing.ts";

/** The measured ceiling. */
export interface Ceiling {
  /** Bytes read plus written per copy. */
  bytes: number;
  /** Milliseconds per copy. */
  ms: number;
  /** GB/s (10⁹ bytes per second), read + write. */
  gbPerS: number;
  /** How it was timed (see {@linkcode KernelTime.source}). */
  source: KernelTime["source"];
}

/**
 * Measures the compute-shader copy bandwidth over a buffer of `bytes` bytes.
 *
 * @param device The device.
 * @param bytes Buffer size (read once, written once per copy).
 * @returns The ceiling.
 */
export async function measureCopyCeiling(device: GPUDevice, bytes: number): Promise<Ceiling> {
  const size = Math.floor(bytes / 16) * 16;
  const pipeline = await createPipeline(device, { label: "copy ceiling", code: copySource });
  const src = storageBuffer(device, "copy src", size);
  const dst = storageBuffer(device, "copy dst", size);
  const bindGroup = bindAll(device, pipeline, "copy", [src, dst]);
  const workgroups = Math.min(65535, Math.ceil(size / 16 / 256));
  const t = await timeDispatches(device, [[{
    pipeline,
    bindGroup,
    workgroups: [workgroups, 1, 1],
  }]], { targetMs: 100, timestamps: true });
  src.destroy();
  dst.destroy();
  return { bytes: 2 * size, ms: t.ms, gbPerS: (2 * size) / (t.ms * 1e6), source: t.source };
}
