/**
 * Token (+ learned position) embedding of the current position, id read on the GPU
 * (`embed.wgsl`).
 *
 * @module
 */

import source from "./embed.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/**
 * CPU reference.
 *
 * @param table Embedding [vocab, d].
 * @param id Token id.
 * @param options Width, position table [positions, d] and position.
 * @returns The embedding.
 */
export function embedCpu(
  table: Float32Array,
  id: number,
  options: { d: number; positions?: Float32Array; pos: number },
): Float32Array {
  const { d, pos } = options;
  return Float32Array.from(
    table.subarray(id * d, (id + 1) * d),
    (v, j) => v + (options.positions?.[pos * d + j] ?? 0),
  );
}

/**
 * Creates the embedding step.
 *
 * @param device The device.
 * @param options Width and buffers.
 * @returns The dispatch.
 */
export async function createEmbed(
  device: GPUDevice,
  options: {
    label: string;
    d: number;
    table: GPUBuffer;
    positions?: GPUBuffer;
    ids: GPUBuffer;
    state: GPUBuffer;
    x: GPUBuffer;
    /** Positions pos … pos + rows − 1 into rows of x (prefill); default one. */
    rows?: number;
  },
): Promise<Dispatch> {
  const rows = options.rows ?? 1;
  const pipeline = await createPipeline(device, {
    label: `${options.label} embed`,
    code: source,
    constants: { POSITIONS: options.positions ? 1 : 0, SEQ: rows > 1 ? 1 : 0 },
  });
  const params = uniformBuffer(
    device,
    `${options.label} embed params`,
    packUniform([{ u32: options.d }, { u32: 0 }, { u32: 0 }, { u32: 0 }]),
  );
  return {
    pipeline,
    bindGroup: bindAll(device, pipeline, `${options.label} embed`, [
      options.table,
      options.positions ?? storageBuffer(device, `${options.label} no positions`, 16),
      options.ids,
      options.state,
      options.x,
      params,
    ]),
    workgroups: [Math.ceil(options.d / 256), rows, 1],
  };
}
