/**
 * Input-sparse GEMV over a transposed weight, y = act(Σ_i vals[i] · Wt[idx[i], :] + b), and its
 * CPU reference. The kernel for decoding is {@linkcode createActiveSparseGemv}
 * (`sparse_gemv_active.wgsl`: one dispatch, f32 or f16 weights, split-K over the active list,
 * the reduction fused); the older forms stay for the FFN pipelines: `sparse_gemv.wgsl` over a
 * select list and the masked/compacting forms, each followed by `reduce.wgsl`.
 *
 * How to use the active-list kernel:
 * - **Weights**: {@linkcode activeWeightBuffer} uploads the transposed weight Wt [k, n] (row j =
 *   input channel j, the n outputs contiguous; PyTorch's Linear weight [n, k] transposed by
 *   {@linkcode transpose}), rows padded to a multiple of 4 (f32) or 8 (f16) columns.
 * - **Active list**: either the kernel compacts the input itself against a fixed threshold
 *   (`input: { kind: "threshold", x, rule }`; every workgroup compacts the same list, so the
 *   GEMV is one dispatch), or it reads a list another kernel wrote on the GPU
 *   (`input: { kind: "list", idx, vals, count }`, e.g. `createSelect`'s buffers from `select.ts`, for
 *   top-k and statistical rules).
 * - **Chaining without read-back**: x (or the list) and the output are GPU buffers: pass the
 *   previous kernel's output buffer as `x`, and give `y` (or, with `output: "partials"`, the
 *   split partials) to the next kernel; the kept count never leaves the GPU.
 *
 * @module
 */

import sparseSource from "./sparse_gemv.wgsl" with { type: "text" };
import reduceSource from "./reduce.wgsl" with { type: "text" };
import maskedSource from "./sparse_gemv_masked.wgsl" with { type: "text" };
import compactSource from "./sparse_gemv_compact.wgsl" with { type: "text" };
import activeSource from "./sparse_gemv_active.wgsl" with { type: "text" };
import activeF32Source from "./sparse_weights_f32.wgsl" with { type: "text" };
import activeF16Source from "./sparse_weights_f16.wgsl" with { type: "text" };
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
import { type ActiveSparseTuning, activeSparseTuning } from "./tuning.ts";
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

/**
 * The reduction of split-K partials [splits, cols] (plus bias and activation) that the sparse
 * GEMVs end with (`reduce.wgsl`); also what a timed input-sparse GEMV that leaves partials
 * (`skip_gemv.ts`) is finished with when no later kernel sums them.
 *
 * @param device The device.
 * @param label Label.
 * @param options Width, split count, the partials buffer (and a window of it), bias, activation.
 * @returns The dispatch and the output buffer.
 */
export async function createReduce(
  device: GPUDevice,
  label: string,
  options: {
    cols: number;
    splits: number;
    partials: GPUBuffer;
    /** Byte offset and size of the partials in `partials` (default: the whole buffer). */
    partialsOffset?: number;
    partialsSize?: number;
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
      bindGroup: device.createBindGroup({
        label: `${label} reduce`,
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          {
            binding: 0,
            resource: {
              buffer: options.partials,
              offset: options.partialsOffset ?? 0,
              ...(options.partialsSize ? { size: options.partialsSize } : {}),
            },
          },
          { binding: 1, resource: { buffer: bias } },
          { binding: 2, resource: { buffer: y } },
          { binding: 3, resource: { buffer: rdims } },
        ],
      }),
      workgroups: [Math.ceil(options.cols / (256 / slices)), 1, 1],
    },
    y,
  };
}

/** Weight precision of the active-list sparse GEMV. */
export type SparsePrecision = "f32" | "f16";

/**
 * Output columns per 16-byte chunk of a transposed weight row: 4 in f32, 8 in f16.
 *
 * @param precision Weight precision.
 * @returns Columns per chunk.
 */
export function chunkColumns(precision: SparsePrecision): number {
  return precision === "f16" ? 8 : 4;
}

/**
 * Uploads a transposed weight for {@linkcode createActiveSparseGemv}: Wt [k, n] row-major (row j
 * = input channel j), each row padded with zeros to a multiple of {@linkcode chunkColumns}
 * columns; f16 rounds to nearest even (`Float16Array`, as the GPU's f16 does).
 *
 * @param device The device.
 * @param label Label.
 * @param options Shape, transposed weight and precision (default f32).
 * @returns The buffer (`k · ⌈n / chunk⌉ · 16` bytes).
 */
export function activeWeightBuffer(
  device: GPUDevice,
  label: string,
  options: { k: number; n: number; weightT: Float32Array; precision?: SparsePrecision },
): GPUBuffer {
  const precision = options.precision ?? "f32";
  const cols = Math.ceil(options.n / chunkColumns(precision)) * chunkColumns(precision);
  let data = options.weightT;
  if (cols !== options.n) {
    data = new Float32Array(options.k * cols);
    for (let r = 0; r < options.k; r++) {
      data.set(options.weightT.subarray(r * options.n, (r + 1) * options.n), r * cols);
    }
  }
  return precision === "f16"
    ? storageBuffer(device, `${label} Wt (f16)`, new Float16Array(data))
    : storageBuffer(device, `${label} Wt`, data);
}

/** Where the active-list sparse GEMV finds its active inputs. */
export type ActiveInput =
  | {
    /** Compact the input here against a fixed threshold (one dispatch in all). */
    kind: "threshold";
    /** The input vector, k floats (a previous kernel's output). */
    x: GPUBuffer;
    /** Keep |x_j · s_j| > threshold (TEAL; WINA with s = column norms) or x_j > threshold. */
    rule: { kind: "magnitude"; threshold: number; scale?: Float32Array } | {
      kind: "value";
      threshold: number;
    };
  }
  | {
    /** Read a list another kernel wrote (select.wgsl's layout). */
    kind: "list";
    /** Kept input indices, u32. */
    idx: GPUBuffer;
    /** Their values, f32, in the same order. */
    vals: GPUBuffer;
    /** One u32: how many entries are kept. */
    count: GPUBuffer;
    /** Activation applied to each value first (the list holds pre-activations). */
    valsAct?: Activation;
  };

/** Options of {@linkcode createActiveSparseGemv}. */
export interface ActiveSparseGemvOptions {
  /** Label for GPU objects. */
  label: string;
  /** Inputs (weight rows). */
  k: number;
  /** Outputs. */
  n: number;
  /** Weight precision (default f32). */
  precision?: SparsePrecision;
  /** The transposed weight [k, n], uploaded here unless `weightBuffer` is given. */
  weightT?: Float32Array;
  /** A buffer from {@linkcode activeWeightBuffer} for the same shape and precision. */
  weightBuffer?: GPUBuffer;
  /** Bias [n]. */
  bias?: Float32Array;
  /** Activation of the output (after the bias). */
  act?: Activation;
  /** The active inputs. */
  input: ActiveInput;
  /**
   * Launch shape; default `activeSparseTuning` (tuning.ts) for a GPU at density 0.5. Pass that
   * function's choice for the adapter (`acquireGpu().facts`) and the expected density.
   */
  tuning?: ActiveSparseTuning;
  /**
   * `y` (default): the kernel writes y. `partials`: it leaves partials[split][col] (f32, `splits`
   * rows of ⌈n / chunk⌉ · chunk columns, in `partials` from byte `partialsOffset`) for the next
   * kernel to add, with its bias and activation; no reduction at all.
   */
  output?: "y" | "partials";
}

/** An active-list sparse GEMV ready to dispatch. */
export interface ActiveSparseGemvInstance extends SparseGemvInstance {
  /** The launch shape used (splits raised where a share would not fit workgroup memory). */
  tuning: ActiveSparseTuning;
  /** Column tiles (workgroups per split). */
  tiles: number;
  /** Padded row width in columns (a multiple of the chunk). */
  cols: number;
  /** Counters and partials; the partials start at `partialsOffset` bytes. */
  partials: GPUBuffer;
  /** Byte offset of the partials in `partials` (a multiple of 256). */
  partialsOffset: number;
}

/** Entries of one split's share held in workgroup memory at most (8 bytes each). */
const LIST_LIMIT = 2048;

/**
 * Creates the active-list input-sparse GEMV (`sparse_gemv_active.wgsl`): one dispatch (two with
 * `reduce: "pass"`) computing y = act(Σ_{j active} v_j · Wt[j, :] + b), validated by the caller
 * against {@linkcode sparseGemvCpu}. Splits share the active list equally, so any pattern of kept
 * channels is balanced; the sum is bitwise the same from run to run.
 *
 * @example Chaining after a kernel that wrote x, without read-back
 * ```ts ignore
 * const wt = activeWeightBuffer(device, "down", { k, n, weightT, precision: "f16" });
 * const down = await createActiveSparseGemv(device, {
 *   label: "down", k, n, precision: "f16", weightBuffer: wt,
 *   input: { kind: "threshold", x: previous.y, rule: { kind: "magnitude", threshold: t } },
 *   tuning: activeSparseTuning(facts, { k, n, precision: "f16", density: 0.5 }),
 * });
 * encodePass(encoder, [...previous.dispatches, ...down.dispatches]); // down.y feeds the next
 * ```
 *
 * @param device The device.
 * @param options Shape, weights, input, tuning.
 * @returns The instance.
 * @throws {RangeError} On a tuning the kernel cannot take, or one past the device's limits.
 */
export async function createActiveSparseGemv(
  device: GPUDevice,
  options: ActiveSparseGemvOptions,
): Promise<ActiveSparseGemvInstance> {
  const precision = options.precision ?? "f32";
  const chunk = chunkColumns(precision);
  const nc = Math.ceil(options.n / chunk);
  const cols = nc * chunk;
  const asked = options.tuning ?? activeSparseTuning({ isFallbackAdapter: false }, {
    k: options.k,
    n: options.n,
    precision,
  });
  const { workgroupSize: wg, lanes, unroll } = asked;
  const pow2 = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;
  if (
    !pow2(wg) || !pow2(lanes) || lanes > wg || ![1, 2, 4, 8].includes(unroll) ||
    !(asked.splits >= 1) || wg > device.limits.maxComputeInvocationsPerWorkgroup
  ) {
    throw new RangeError(
      `${options.label}: the active sparse GEMV takes a power-of-two workgroup size up to ${device.limits.maxComputeInvocationsPerWorkgroup}, power-of-two lanes up to it, unroll 1, 2, 4 or 8 and splits >= 1`,
    );
  }
  const compact = options.input.kind === "threshold";
  // A compacting workgroup holds its share of the list: raise the splits until one fits.
  const splits = Math.max(
    Math.round(asked.splits),
    compact ? Math.ceil(options.k / LIST_LIMIT) : 1,
  );
  const listMax = compact ? Math.max(4, Math.ceil(options.k / splits)) : 1;
  const wgBytes = wg * 16 + wg * 4 + listMax * 8 + 16;
  if (wgBytes > device.limits.maxComputeWorkgroupStorageSize) {
    throw new RangeError(
      `${options.label}: ${wgBytes} bytes of workgroup memory exceed this device's ${device.limits.maxComputeWorkgroupStorageSize}; use a smaller workgroup size or more splits`,
    );
  }
  const tuning: ActiveSparseTuning = { ...asked, splits };
  const tiles = Math.ceil(nc / lanes);
  const reduce = options.output === "partials" ? "none" : splits === 1 ? "fused" : tuning.reduce;
  const partialsOffset = Math.ceil((tiles * 4) / 256) * 256;
  const partialBytes = splits * cols * 4;
  const label = options.label;
  if (!options.weightBuffer && !options.weightT) {
    throw new RangeError(`${label}: give the transposed weight (weightT) or its buffer`);
  }
  const weight = options.weightBuffer ?? activeWeightBuffer(device, label, {
    k: options.k,
    n: options.n,
    weightT: options.weightT!,
    precision,
  });
  const dummy = () => storageBuffer(device, `${label} (unused)`, 16);
  const input = options.input;
  const x = input.kind === "threshold" ? input.x : input.vals;
  const scale = input.kind === "threshold" && input.rule.kind === "magnitude" && input.rule.scale
    ? storageBuffer(device, `${label} scale`, input.rule.scale)
    : dummy();
  const idx = input.kind === "list" ? input.idx : dummy();
  const count = input.kind === "list" ? input.count : dummy();
  const bias = options.bias ? storageBuffer(device, `${label} b`, options.bias) : dummy();
  const y = storageBuffer(device, `${label} y`, cols * 4);
  const scratch = storageBuffer(
    device,
    `${label} counters and partials`,
    partialsOffset + partialBytes,
  );
  const dims = uniformBuffer(
    device,
    `${label} dims`,
    packUniform([
      { u32: options.k },
      { u32: nc },
      { u32: options.n },
      { u32: splits },
      { f32: input.kind === "threshold" ? input.rule.threshold : 0 },
      { u32: options.bias ? 1 : 0 },
      { u32: partialsOffset / 4 },
      { u32: 0 },
    ]),
  );
  const pipeline = await createPipeline(device, {
    label: `${label} sparse_gemv_active`,
    code: withActivation(activeSource, precision === "f16" ? activeF16Source : activeF32Source),
    constants: {
      WG: wg,
      LANES: lanes,
      UNROLL: unroll,
      SOURCE: compact ? 0 : 1,
      MODE: input.kind === "threshold" && input.rule.kind === "value" ? 1 : 0,
      SCALED: input.kind === "threshold" && input.rule.kind === "magnitude" && input.rule.scale
        ? 1
        : 0,
      VALS_ACT: ACT_CODE[input.kind === "list" ? input.valsAct ?? "none" : "none"],
      REDUCE: reduce === "fused" ? 1 : 0,
      LIST_MAX: listMax,
      ACT: ACT_CODE[options.act ?? "none"],
    },
  });
  const dispatches: Dispatch[] = [{
    pipeline,
    bindGroup: bindAll(device, pipeline, label, [
      weight,
      x,
      scale,
      idx,
      count,
      bias,
      y,
      scratch,
      dims,
    ]),
    workgroups: [tiles, splits, 1],
  }];
  let out = y;
  if (reduce === "pass") {
    const r = await createReduce(device, label, {
      cols,
      splits,
      partials: scratch,
      partialsOffset,
      partialsSize: partialBytes,
      ...(options.bias ? { bias: options.bias } : {}),
      ...(options.act ? { act: options.act } : {}),
    });
    dispatches.push(r.dispatch);
    out = r.y;
  }
  return {
    dispatches,
    y: out,
    rowBytes: cols * (precision === "f16" ? 2 : 4),
    splits,
    tuning,
    tiles,
    cols,
    partials: scratch,
    partialsOffset,
    async read() {
      return new Float32Array(await readBuffer(device, out, options.n * 4));
    },
  };
}
