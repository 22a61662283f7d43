/**
 * y = act(a) ⊙ b over two device vectors (`act_mul.wgsl`), with its CPU reference: the gated
 * FFN's join for plans whose gate ends in a kernel that cannot apply the activation.
 *
 * @module
 */

import source from "./act_mul.wgsl" with { type: "text" };
import { ACT_CODE, activateCpu, type Activation, withActivation } from "./activation.ts";
import { bindAll, createPipeline, type Dispatch, storageBuffer } from "./host.ts";

/**
 * CPU reference: y = act(a) ⊙ b in float32.
 *
 * @param a Gate values.
 * @param b Up values (at least as long as `a`).
 * @param act The activation applied to `a`.
 * @returns The product, as long as `a`.
 */
export function actMulCpu(a: Float32Array, b: Float32Array, act: Activation): Float32Array {
  return a.map((v, i) => Math.fround(activateCpu(act, v) * b[i]!));
}

/**
 * Builds y = act(a) ⊙ b over the first `n` elements of two device buffers.
 *
 * @param device The device.
 * @param options Label, length, activation and the two input buffers.
 * @returns The dispatch and the output buffer.
 */
export async function createActMul(
  device: GPUDevice,
  options: {
    label: string;
    n: number;
    act: Activation;
    a: GPUBuffer;
    b: GPUBuffer;
    workgroupSize?: number;
  },
): Promise<{ dispatch: Dispatch; y: GPUBuffer }> {
  const wg = options.workgroupSize ?? 256;
  const pipeline = await createPipeline(device, {
    label: `${options.label} act_mul`,
    code: withActivation(source),
    constants: { WG: wg, N: options.n, ACT: ACT_CODE[options.act] },
  });
  const y = storageBuffer(device, `${options.label} y`, Math.ceil(options.n / 4) * 16);
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, `${options.label} act_mul`, [options.a, options.b, y]),
      workgroups: [Math.ceil(options.n / wg), 1, 1],
    },
    y,
  };
}
