/**
 * Gathered GEMV over selected rows (neurons): host for `gather_gemv.wgsl` and its CPU reference.
 *
 * @module
 */

import gatherSource from "./gather_gemv.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  grid,
  packUniform,
  readBuffer,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";
import { ACT_CODE, activateCpu, type Activation, withActivation } from "./activation.ts";
import { padColumns } from "./gemv.ts";

/**
 * CPU reference: y[i] = act(W[idx[i]]·x + b[idx[i]]), or act(Wg[idx[i]]·x)·(W[idx[i]]·x) when
 * gated, or (W[idx[i]]·x)·vals[i] when `mulVals`.
 *
 * @param w Weights [rows, cols].
 * @param x Input [cols].
 * @param idx Selected rows.
 * @param options Shape, bias, activation, gate, values.
 * @returns Compact outputs.
 */
export function gatherGemvCpu(
  w: Float32Array,
  x: Float32Array,
  idx: Uint32Array,
  options: {
    cols: number;
    bias?: Float32Array;
    act?: Activation;
    gate?: Float32Array;
    vals?: Float32Array;
    actOnVals?: boolean;
  },
): Float32Array {
  return Float32Array.from(idx, (row, i) => {
    let s = 0;
    let g = 0;
    for (let c = 0; c < options.cols; c++) {
      s += w[row * options.cols + c]! * x[c]!;
      if (options.gate) g += options.gate[row * options.cols + c]! * x[c]!;
    }
    s += options.bias?.[row] ?? 0;
    if (options.gate) return activateCpu(options.act ?? "none", g) * s;
    if (options.vals) {
      return s *
        (options.actOnVals
          ? activateCpu(options.act ?? "none", options.vals[i]!)
          : options.vals[i]!);
    }
    return activateCpu(options.act ?? "none", s);
  });
}

/** A gathered GEMV ready to dispatch. */
export interface GatherGemvInstance {
  /** The dispatch (sized for all rows; extra workgroups exit at once). */
  dispatch: Dispatch;
  /** Compact output. */
  y: GPUBuffer;
  /** Reads `count` outputs. */
  read(count: number): Promise<Float32Array>;
}

/**
 * Creates a gathered GEMV reading its row list from the given buffers.
 *
 * @param device The device.
 * @param options Label, shape, weights, activation, gate weights, and the list buffers.
 * @returns The instance.
 */
export async function createGatherGemv(
  device: GPUDevice,
  options: {
    label: string;
    rows: number;
    cols: number;
    weight: Float32Array;
    bias?: Float32Array;
    act?: Activation;
    gateWeight?: Float32Array;
    /** W uploaded earlier ([rows, cols] f32, cols a multiple of 4); `weight` is then unused. */
    weightBuffer?: GPUBuffer;
    /** The gate's weights uploaded earlier, as `weightBuffer`; makes the GEMV gated. */
    gateWeightBuffer?: GPUBuffer;
    mulVals?: boolean;
    /** With `mulVals`: apply the activation to each value first. */
    actOnVals?: boolean;
    x: GPUBuffer;
    /** One thread per row without barriers (CPU adapters) instead of one workgroup per row. */
    rowPerThread?: boolean;
    /** Workgroup size (threads per row, or rows per workgroup with `rowPerThread`). */
    workgroupSize?: number;
    idx: GPUBuffer;
    vals?: GPUBuffer;
    count: GPUBuffer;
  },
): Promise<GatherGemvInstance> {
  const given = options.weightBuffer !== undefined || options.gateWeightBuffer !== undefined;
  if (given && options.cols % 4 !== 0) {
    throw new RangeError(`${options.label}: uploaded weights need cols a multiple of 4`);
  }
  const cols = Math.ceil(options.cols / 4) * 4;
  const w = options.weightBuffer ??
    storageBuffer(
      device,
      `${options.label} W`,
      padColumns(options.weight, options.rows, options.cols).data,
    );
  const gated = options.gateWeight !== undefined || options.gateWeightBuffer !== undefined;
  const wg = options.gateWeightBuffer ?? storageBuffer(
    device,
    `${options.label} Wg`,
    options.gateWeight
      ? padColumns(options.gateWeight, options.rows, options.cols).data
      : new Float32Array(4),
  );
  const bias = storageBuffer(device, `${options.label} b`, options.bias ?? new Float32Array(1));
  const vals = options.vals ?? storageBuffer(device, `${options.label} vals (unused)`, 4);
  const y = storageBuffer(device, `${options.label} y`, options.rows * 4);
  const dims = uniformBuffer(
    device,
    `${options.label} dims`,
    packUniform([{ u32: options.rows }, { u32: cols }, { u32: options.bias ? 1 : 0 }, { u32: 0 }]),
  );
  const perThread = options.rowPerThread ?? false;
  const wgSize = options.workgroupSize ?? (perThread ? 64 : 128);
  if (!perThread && (wgSize > 256 || (wgSize & (wgSize - 1)) !== 0)) {
    throw new RangeError(`${options.label}: workgroup size ${wgSize} must be a power of 2 ≤ 256`);
  }
  const pipeline = await createPipeline(device, {
    label: `${options.label} gather_gemv`,
    code: withActivation(gatherSource),
    entryPoint: perThread ? "main_row" : "main",
    constants: {
      WG: wgSize,
      ACT: ACT_CODE[options.act ?? "none"],
      GATED: gated ? 1 : 0,
      MUL_VALS: options.mulVals ? 1 : 0,
      ACT_VALS: options.actOnVals ? 1 : 0,
    },
  });
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, options.label, [
        w,
        wg,
        options.x,
        bias,
        options.idx,
        vals,
        options.count,
        y,
        dims,
      ]),
      workgroups: grid(perThread ? Math.ceil(options.rows / wgSize) : options.rows),
    },
    y,
    async read(count: number) {
      return new Float32Array(await readBuffer(device, y, Math.max(4, count * 4))).slice(0, count);
    },
  };
}
