/**
 * What the kernel tests share: the device (tests are skipped without one), never-zero random
 * inputs, the relative error with a check that every element was written, and buffer poisoning.
 *
 * @module
 */

import assert from "node:assert/strict";
import { acquireGpu, type GpuContext } from "./gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { writeArray } from "./host.ts";
import { relativeError } from "./relative_error.ts";

/** The shared device, or undefined (with a warning) where WebGPU is missing. */
export const gpu: GpuContext | undefined = await acquireGpu().catch((e) => {
  console.warn(`kernel tests skipped: ${(e as Error).message}`);
  return undefined;
});

/**
 * Normal random values, never zero: a kernel that ignores an input must not pass by luck.
 *
 * @param n Length.
 * @param seed Seed.
 * @returns The values.
 */
export function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => {
    const v = rng.normal();
    return Math.abs(v) < 1e-3 ? 0.5 : v;
  });
}

/**
 * The relative error of a kernel's output, after checking every element is finite (a NaN left
 * by {@linkcode poison} means an element was never written).
 *
 * @param out Kernel output.
 * @param ref Reference.
 * @returns The relative error.
 */
export function relError(out: Float32Array, ref: Float32Array): number {
  for (let i = 0; i < out.length; i++) {
    assert.ok(Number.isFinite(out[i]!), `element ${i} is ${out[i]} (unwritten or broken)`);
  }
  return relativeError(out, ref);
}

/**
 * Fills a buffer with NaN, so that unwritten outputs show.
 *
 * @param buffer The buffer.
 * @param bytes Its size in bytes.
 */
export function poison(buffer: GPUBuffer, bytes: number): void {
  writeArray(gpu!.device, buffer, new Float32Array(bytes / 4).fill(NaN));
}
