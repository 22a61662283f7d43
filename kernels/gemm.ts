/**
 * GEMM for prefill and batched tokens, Y = X Wᵀ + b, dense or over a gathered subset of rows of X
 * (token pruning): host for `gemm.wgsl` with f32 weights (`gemm_weights_f32.wgsl`) or f16 weights
 * (`gemm_weights_f16.wgsl`: packed halves unpacked in the shader, no shader-f16 feature needed;
 * X, Y and the sums stay f32), and the CPU reference.
 *
 * @module
 */

import gemmSource from "./gemm.wgsl" with { type: "text" };
import weightsF32Source from "./gemm_weights_f32.wgsl" with { type: "text" };
import weightsF16Source from "./gemm_weights_f16.wgsl" with { type: "text" };
import { ACT_CODE, activateCpu, type Activation, withActivation } from "./activation.ts";
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  readBuffer,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/**
 * CPU reference: Y[m] = act(X[rows[m]] · Wᵀ + b) (rows[m] = m when not gathered).
 *
 * @param x X [mTotal, k].
 * @param w W [n, k].
 * @param options Shape, bias, gathered rows, activation (default none).
 * @returns Y [rows.length or m, n].
 */
export function gemmCpu(
  x: Float32Array,
  w: Float32Array,
  options: {
    m: number;
    n: number;
    k: number;
    bias?: Float32Array;
    rows?: Uint32Array;
    act?: Activation;
  },
): Float32Array {
  const rows = options.rows ?? Uint32Array.from({ length: options.m }, (_, i) => i);
  const y = new Float32Array(rows.length * options.n);
  rows.forEach((src, m) => {
    for (let j = 0; j < options.n; j++) {
      let s = 0;
      for (let c = 0; c < options.k; c++) s += x[src * options.k + c]! * w[j * options.k + c]!;
      y[m * options.n + j] = activateCpu(options.act ?? "none", s + (options.bias?.[j] ?? 0));
    }
  });
  return y;
}

/** A GEMM ready to dispatch. */
export interface GemmInstance {
  /** The dispatch. */
  dispatch: Dispatch;
  /** Input X. */
  x: GPUBuffer;
  /** Output Y. */
  y: GPUBuffer;
  /** Reads `rows` output rows. */
  read(rows: number): Promise<Float32Array>;
  /** Sizes the grid for the first `rows` rows (a gathered GEMM whose count shrank). */
  setRows(rows: number): void;
}

/** Output rows and columns one workgroup computes. */
const TILE = 32;

/**
 * Creates a GEMM; with `rows`/`count` buffers it computes only the listed rows of X.
 *
 * @param device The device.
 * @param options Label, shape, weight and its precision (default f32), bias, gather buffers,
 *   activation of the output (default none), and X and Y buffers to use instead of new ones (to
 *   chain GEMMs with other kernels).
 * @returns The instance.
 */
export async function createGemm(
  device: GPUDevice,
  options: {
    label: string;
    m: number;
    n: number;
    k: number;
    /**
     * W [n, k] row-major, uploaded here (rounded to f16 with `dtype` f16), or `weightBuffer`,
     * already on the GPU in that precision (f16: n·k packed halves, as a Float16Array lays them).
     */
    weight?: Float32Array;
    weightBuffer?: GPUBuffer;
    /** Precision of W (default f32). */
    dtype?: "f32" | "f16";
    bias?: Float32Array;
    gather?: { rows: GPUBuffer; count: GPUBuffer };
    act?: Activation;
    x?: GPUBuffer;
    y?: GPUBuffer;
  },
): Promise<GemmInstance> {
  const f16 = options.dtype === "f16";
  const pipeline = await createPipeline(device, {
    label: `${options.label} gemm${f16 ? " (f16 W)" : ""}`,
    code: withActivation(gemmSource, f16 ? weightsF16Source : weightsF32Source),
    constants: { GATHER: options.gather ? 1 : 0, ACT: ACT_CODE[options.act ?? "none"] },
  });
  const x = options.x ?? storageBuffer(device, `${options.label} X`, options.m * options.k * 4);
  if (!options.weight && !options.weightBuffer) {
    throw new TypeError(`${options.label}: a GEMM needs weight or weightBuffer`);
  }
  // Float16Array rounds to nearest even, as the GPU's f16 does; its bytes are the f16 weights.
  const w = options.weightBuffer ??
    (f16
      ? storageBuffer(device, `${options.label} W (f16)`, new Float16Array(options.weight!))
      : storageBuffer(device, `${options.label} W`, options.weight!));
  const bias = storageBuffer(device, `${options.label} b`, options.bias ?? new Float32Array(1));
  const rows = options.gather?.rows ?? storageBuffer(device, `${options.label} rows (unused)`, 4);
  const count = options.gather?.count ??
    storageBuffer(device, `${options.label} count (unused)`, 4);
  const y = options.y ?? storageBuffer(device, `${options.label} Y`, options.m * options.n * 4);
  const dims = uniformBuffer(
    device,
    `${options.label} dims`,
    packUniform([{ u32: options.m }, { u32: options.n }, { u32: options.k }, {
      u32: options.bias ? 1 : 0,
    }]),
  );
  const instance: GemmInstance = {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, options.label, [x, w, bias, rows, count, y, dims]),
      workgroups: [Math.ceil(options.n / TILE), Math.ceil(options.m / TILE), 1],
    },
    x,
    y,
    async read(r: number) {
      return new Float32Array(await readBuffer(device, y, Math.max(4, r * options.n * 4)));
    },
    setRows(r: number) {
      instance.dispatch.workgroups[1] = Math.max(1, Math.ceil(Math.min(r, options.m) / TILE));
    },
  };
  return instance;
}
