/**
 * Input-sparse GEMV over a transposed weight, y = Σ_i vals[i] · Wt[idx[i], :] + b: host for
 * `sparse_gemv.wgsl` (split-K partials) and `reduce.wgsl`, and the CPU reference.
 *
 * @module
 */

import sparseSource from "./sparse_gemv.wgsl" with { type: "text" };
import reduceSource from "./reduce.wgsl" with { type: "text" };
import maskedSource from "./sparse_gemv_masked.wgsl" with { type: "text" };
import compactSource from "./sparse_gemv_compact.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  readBuffer,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";
import { padColumns } from "./gemv.ts";
import { ACT_CODE, activateCpu, type Activation, withActivation } from "./activation.ts";

/**
 * CPU reference: y[n] = Σ_i vals[i] · wt[idx[i], n] + b[n], accumulated in double.
 *
 * @param wt Transposed weight [k, n] row-major.
 * @param sel Active indices and values.
 * @param options Output width and bias.
 * @returns y.
 */
export function sparseGemvCpu(
  wt: Float32Array,
  sel: { idx: Uint32Array; vals: Float32Array },
  options: { n: number; bias?: Float32Array; actOnVals?: Activation; act?: Activation },
): Float32Array {
  const acc = new Float64Array(options.n);
  for (let i = 0; i < sel.idx.length; i++) {
    const off = sel.idx[i]! * options.n;
    const v = activateCpu(options.actOnVals ?? "none", sel.vals[i]!);
    for (let c = 0; c < options.n; c++) acc[c]! += wt[off + c]! * v;
  }
  return Float32Array.from(
    acc,
    (s, c) => activateCpu(options.act ?? "none", s + (options.bias?.[c] ?? 0)),
  );
}

/**
 * Transposes a row-major [rows, cols] matrix.
 *
 * @param m Matrix.
 * @param rows Rows.
 * @param cols Columns.
 * @returns [cols, rows].
 */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

/** A sparse GEMV ready to dispatch (sparse pass then reduce). */
export interface SparseGemvInstance {
  /** The two dispatches. */
  dispatches: Dispatch[];
  /** Output buffer [n]. */
  y: GPUBuffer;
  /** Bytes of one weight row (skipped per inactive input). */
  rowBytes: number;
  /** Split-K count used. */
  splits: number;
  /** Reads the output. */
  read(): Promise<Float32Array>;
}

/**
 * Creates an input-sparse GEMV that reads its active list from the given buffers.
 *
 * @param device The device.
 * @param options Label, shape, transposed weight, bias, the selection buffers, split count.
 * @returns The instance.
 */
export async function createSparseGemv(
  device: GPUDevice,
  options: {
    label: string;
    k: number;
    n: number;
    weightT: Float32Array;
    bias?: Float32Array;
    idx: GPUBuffer;
    vals: GPUBuffer;
    count: GPUBuffer;
    splits?: number;
    workgroupSize?: number;
    /** Threads sharing a column in the reduction (override SLICES). */
    reduceSlices?: number;
    /** Activation applied to each value before it multiplies its row (input given pre-activation). */
    actOnVals?: Activation;
    /** Activation applied to the output (after the bias). */
    act?: Activation;
    /** The padded transposed weight uploaded earlier ({@linkcode sparseWeightBuffer}). */
    weightBuffer?: GPUBuffer;
  },
): Promise<SparseGemvInstance> {
  const { wg, data, cols, lanes, tiles, splits } = splitLayout(options);
  const wt = options.weightBuffer ?? storageBuffer(device, `${options.label} Wt`, data);
  const partials = storageBuffer(device, `${options.label} partials`, splits * cols * 4);
  const dims = uniformBuffer(
    device,
    `${options.label} dims`,
    packUniform([{ u32: options.k }, { u32: cols }, { u32: splits }, { u32: lanes }]),
  );
  const sparse = await createPipeline(device, {
    label: `${options.label} sparse_gemv`,
    code: withActivation(sparseSource),
    constants: { WG: wg, ACT: ACT_CODE[options.actOnVals ?? "none"] },
  });
  const reduce = await createReduce(device, options.label, { ...options, cols, splits, partials });
  return {
    dispatches: [
      {
        pipeline: sparse,
        bindGroup: bindAll(device, sparse, `${options.label} sparse`, [
          wt,
          options.idx,
          options.vals,
          options.count,
          partials,
          dims,
        ]),
        workgroups: [tiles, splits, 1],
      },
      reduce.dispatch,
    ],
    y: reduce.y,
    splits,
    rowBytes: options.n * 4,
    async read() {
      return new Float32Array(await readBuffer(device, reduce.y, options.n * 4));
    },
  };
}

/**
 * The split-K count: enough workgroups to fill a large GPU (2,048 in all) unless given, at most
 * one split per 4 rows.
 *
 * @param k Rows (inputs).
 * @param tiles Column tiles.
 * @param given An explicit count (tuning).
 * @returns Splits.
 */
export function splitCount(k: number, tiles: number, given?: number): number {
  return Math.max(1, Math.min(given ?? Math.ceil(2048 / tiles), Math.ceil(k / 4)));
}

/**
 * Creates an input-sparse GEMV that tests each input against a fixed threshold as it goes (no
 * compaction pass): TEAL's layout, for magnitude and value thresholds.
 *
 * @param device The device.
 * @param options Label, shape, transposed weight, bias, input buffer, rule, tuning.
 * @returns The instance.
 */
export async function createMaskedSparseGemv(
  device: GPUDevice,
  options: {
    label: string;
    k: number;
    n: number;
    weightT: Float32Array;
    bias?: Float32Array;
    x: GPUBuffer;
    rule: { kind: "magnitude"; threshold: number; scale?: Float32Array } | {
      kind: "value";
      threshold: number;
    };
    splits?: number;
    workgroupSize?: number;
    reduceSlices?: number;
    act?: Activation;
    /** Rows per iteration, 1, 2 or 4 (override UNROLL; default 4). */
    unroll?: number;
    /**
     * Without `splits`: the split-K count as a multiple of the default, which aims at 2,048
     * workgroups (tuning sweeps).
     */
    splitScale?: number;
    /**
     * vec4 columns per thread of the uncompacted form, 1, 2 or 4 (override CPT; default 1):
     * one test of an input feeds that many weight loads.
     */
    columnsPerThread?: number;
    /**
     * Compact each workgroup's kept rows in workgroup memory before sweeping them
     * (`sparse_gemv_compact.wgsl`; default true): the form for GPUs. CPU adapters run the
     * uncompacted `sparse_gemv_masked.wgsl` faster.
     */
    compact?: boolean;
    /** The padded transposed weight uploaded earlier ({@linkcode sparseWeightBuffer}). */
    weightBuffer?: GPUBuffer;
  },
): Promise<SparseGemvInstance> {
  const cpt = options.compact === false ? options.columnsPerThread ?? 1 : 1;
  const { wg, data, cols, lanes, tiles, splits } = splitLayout({
    ...options,
    columnsPerThread: cpt,
  });
  const scale = options.rule.kind === "magnitude" ? options.rule.scale : undefined;
  const wt = options.weightBuffer ?? storageBuffer(device, `${options.label} Wt`, data);
  const scaleBuf = storageBuffer(device, `${options.label} scale`, scale ?? new Float32Array(1));
  const partials = storageBuffer(device, `${options.label} partials`, splits * cols * 4);
  const dims = uniformBuffer(
    device,
    `${options.label} dims`,
    packUniform([
      { u32: options.k },
      { u32: cols },
      { u32: splits },
      { u32: lanes },
      { f32: options.rule.threshold },
      { u32: 0 },
      {
        u32: 0,
      },
      { u32: 0 },
    ]),
  );
  const sparse = await createPipeline(device, {
    label: `${options.label} sparse_gemv_${options.compact === false ? "masked" : "compact"}`,
    code: options.compact === false ? maskedSource : compactSource,
    constants: {
      WG: wg,
      MODE: options.rule.kind === "value" ? 1 : 0,
      SCALED: scale ? 1 : 0,
      UNROLL: options.unroll ?? 4,
      ...(options.compact === false ? { CPT: cpt } : {}),
    },
  });
  const reduce = await createReduce(device, options.label, { ...options, cols, splits, partials });
  return {
    dispatches: [
      {
        pipeline: sparse,
        bindGroup: bindAll(device, sparse, `${options.label} sparse`, [
          wt,
          options.x,
          scaleBuf,
          partials,
          dims,
        ]),
        workgroups: [tiles, splits, 1],
      },
      reduce.dispatch,
    ],
    y: reduce.y,
    splits,
    rowBytes: options.n * 4,
    async read() {
      return new Float32Array(await readBuffer(device, reduce.y, options.n * 4));
    },
  };
}

/**
 * Uploads a transposed weight [k, n] padded as the sparse GEMVs read it.
 *
 * @param device The device.
 * @param label Label.
 * @param options Shape and transposed weight.
 * @returns The buffer.
 */
export function sparseWeightBuffer(
  device: GPUDevice,
  label: string,
  options: { k: number; n: number; weightT: Float32Array },
): GPUBuffer {
  return storageBuffer(
    device,
    `${label} Wt`,
    padColumns(options.weightT, options.k, options.n).data,
  );
}

/** The split-K launch shape shared by both sparse GEMVs: padded weight, lanes, tiles, splits. */
function splitLayout(
  options: {
    k: number;
    n: number;
    weightT: Float32Array;
    splits?: number;
    splitScale?: number;
    workgroupSize?: number;
    columnsPerThread?: number;
  },
) {
  const wg = options.workgroupSize ?? 256;
  const cpt = options.columnsPerThread ?? 1;
  const { data, cols } = padColumns(options.weightT, options.k, options.n);
  const n4 = cols / 4;
  let lanes = Math.min(wg, Math.ceil(n4 / cpt));
  while (wg % lanes !== 0) lanes--;
  const tiles = Math.ceil(n4 / (lanes * cpt));
  const scaled = options.splitScale === undefined || options.splits !== undefined
    ? options.splits
    : Math.max(1, Math.round(splitCount(options.k, tiles) * options.splitScale));
  return { wg, data, cols, lanes, tiles, splits: splitCount(options.k, tiles, scaled) };
}

/** The reduction of the split-K partials (plus bias and activation) that both sparse GEMVs end with. */
async function createReduce(
  device: GPUDevice,
  label: string,
  options: {
    cols: number;
    splits: number;
    partials: GPUBuffer;
    bias?: Float32Array;
    act?: Activation;
    reduceSlices?: number;
  },
): Promise<{ dispatch: Dispatch; y: GPUBuffer }> {
  const slices = options.reduceSlices ?? 8;
  const bias = storageBuffer(device, `${label} b`, options.bias ?? new Float32Array(1));
  const y = storageBuffer(device, `${label} y`, options.cols * 4);
  const rdims = uniformBuffer(
    device,
    `${label} reduce dims`,
    packUniform([
      { u32: options.cols },
      { u32: options.splits },
      { u32: options.bias ? 1 : 0 },
      { u32: 0 },
    ]),
  );
  const pipeline = await createPipeline(device, {
    label: `${label} reduce`,
    code: withActivation(reduceSource),
    constants: { ACT: ACT_CODE[options.act ?? "none"], SLICES: slices, COLS: 256 / slices },
  });
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, `${label} reduce`, [options.partials, bias, y, rdims]),
      workgroups: [Math.ceil(options.cols / (256 / slices)), 1, 1],
    },
    y,
  };
}
