/**
 * Element-wise product of two device vectors (`mul.wgsl`) and its CPU reference.
 *
 * @module
 */

import mulSource from "./mul.wgsl" with { type: "text" };
import { bindAll, createPipeline, type Dispatch, storageBuffer } from "./host.ts";

/**
 * CPU reference: y = a ⊙ b in float32.
 *
 * @param a First vector.
 * @param b Second vector (at least as long as `a`).
 * @returns The product, as long as `a`.
 */
export function mulCpu(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => Math.fround(v * b[i]!));
}

/**
 * Builds y = a ⊙ b over the first `n` elements of two device buffers.
 *
 * @param device The device.
 * @param options Label, length and the two input buffers.
 * @returns The dispatch and the output buffer.
 */
export async function createMul(
  device: GPUDevice,
  options: { label: string; n: number; a: GPUBuffer; b: GPUBuffer; workgroupSize?: number },
): Promise<{ dispatch: Dispatch; y: GPUBuffer }> {
  const wg = options.workgroupSize ?? 256;
  const pipeline = await createPipeline(device, {
    label: `${options.label} mul`,
    code: mulSource,
    constants: { WG: wg, N: options.n },
  });
  const y = storageBuffer(device, `${options.label} y`, Math.ceil(options.n / 4) * 16);
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, `${options.label} mul`, [options.a, options.b, y]),
      workgroups: [Math.ceil(options.n / wg), 1, 1],
    },
    y,
  };
}
