/**
 * A decoder's weights on the GPU: uploaded from the host (imported models) or generated there from
 * a seed (speed-only models at real shapes). Each linear is kept in the layouts the plans need:
 * row-major [out, in] for the dense GEMV, transposed [in, out] for the input-sparse GEMV (a
 * skipped input skips one contiguous row).
 *
 * @module
 */

import { storageBuffer } from "../../kernels/host.ts";
import { fillBytes, fillRandom } from "../../kernels/fill.ts";
import type { DecoderSpec, HostLinear, HostNorm, HostWeights } from "./spec.ts";
import { linearShapes, type ProjectionName, PROJECTIONS } from "./spec.ts";
import { scaleColumns, type ScaleColumnsJob } from "../../kernels/scale_columns.ts";

/** Weight layouts a decoder can need. */
export type Layout = "row" | "transposed";

/** A linear on the GPU. */
export interface GpuLinear {
  /** Inputs. */
  k: number;
  /** Outputs. */
  n: number;
  /** Weight precision. */
  dtype: "f32" | "f16";
  /** [n, k] row-major, for the dense GEMV. */
  row?: GPUBuffer;
  /** [k, n] row-major, for the input-sparse GEMV. */
  transposed?: GPUBuffer;
  /** Bias [n] on the GPU (zeros when the model has none). */
  bias: GPUBuffer;
  /** Bias on the host (the dense GEMV of the LM head takes it there). */
  hostBias?: Float32Array;
  /** ‖W[:, j]‖₂ per input j, for WINA's scores (imported models). */
  columnNorms?: Float32Array;
  /** Bytes of one copy of the weight. */
  bytes: number;
}

/** A norm on the GPU. */
export interface GpuNorm {
  /** Scale. */
  w: GPUBuffer;
  /** Shift (LayerNorm). */
  b?: GPUBuffer;
}

/** A block on the GPU. */
export type GpuLayer = Record<ProjectionName, GpuLinear> & { norm1: GpuNorm; norm2: GpuNorm };

/** A decoder's weights on the GPU. */
export interface GpuWeights {
  /** Architecture. */
  spec: DecoderSpec;
  /** Precision of the linears (embeddings, norms and biases stay f32). */
  dtype: "f32" | "f16";
  /** Token embedding [vocab, d], f32. */
  embed: GPUBuffer;
  /** Learned positions [maxPositions, d], f32. */
  positions?: GPUBuffer;
  /** Blocks. */
  layers: GpuLayer[];
  /** Final norm. */
  finalNorm: GpuNorm;
  /** LM head (row-major always: its input is never sparse). */
  head: GpuLinear;
  /** Whether the weights are random (speed only). */
  synthetic: boolean;
  /**
   * Whether {@linkcode foldNormsIntoRows} has folded the RMSNorm weights into the row-major
   * weights of q/k/v, up/gate and the head (decoders then normalise those inputs without it).
   */
  normsFolded?: boolean;
  /** Frees every buffer. */
  destroy(): void;
}

/**
 * Folds each RMSNorm's weight into the columns of the row-major weights that read the norm's
 * output (q/k/v ← norm1, up/gate ← norm2, head ← final norm), once, so that the dense GEMVs can
 * normalise their input themselves (`kernels/gemv.ts` normIn). The transposed copies stay as
 * they are: the input-sparse GEMVs multiply by the norm's weight themselves (after a separate
 * norm, or fused, `kernels/skip_gemv.ts` normIn), so projections without row-major weights are
 * left alone.
 *
 * @param device The device.
 * @param weights Weights of an RMSNorm model, with a row-major head.
 * @throws {Error} When the model is not RMSNorm or the head has no row-major weight.
 */
export async function foldNormsIntoRows(device: GPUDevice, weights: GpuWeights): Promise<void> {
  if (weights.normsFolded) return;
  const spec = weights.spec;
  if (spec.norm !== "rms") throw new Error(`${spec.id}: only RMSNorm weights fold into the GEMVs`);
  const jobs: ScaleColumnsJob[] = [];
  const fold = (label: string, lin: GpuLinear, norm: GpuNorm) => {
    // A projection without row-major weights runs the input-sparse GEMV, which applies the
    // norm's weight itself; the head always runs the dense GEMV.
    if (!lin.row && label !== "head") return;
    if (!lin.row) throw new Error(`${spec.id} ${label}: folding needs the row-major weight`);
    jobs.push({
      label: `${spec.id} ${label}`,
      weight: lin.row,
      rows: lin.n,
      cols: lin.k,
      dtype: lin.dtype,
      scale: norm.w,
    });
  };
  for (const [l, w] of weights.layers.entries()) {
    fold(`L${l} qkv`, w.qkv, w.norm1);
    fold(`L${l} up`, w.up, w.norm2);
  }
  fold("head", weights.head, weights.finalNorm);
  await scaleColumns(device, jobs);
  weights.normsFolded = true;
}

function transposeHost(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

function columnNorms(w: Float32Array, n: number, k: number): Float32Array {
  const out = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) out[c]! += w[r * k + c]! ** 2;
  return Float32Array.from(out, Math.sqrt);
}

/**
 * Uploads an imported model's weights.
 *
 * @param device The device.
 * @param spec Architecture.
 * @param host Weights.
 * @param options Precision of the linears and the layouts to build.
 * @returns The weights on the GPU.
 */
export function uploadWeights(
  device: GPUDevice,
  spec: DecoderSpec,
  host: HostWeights,
  options: {
    dtype: "f32" | "f16";
    layouts: readonly Layout[];
    /** Precision of the LM head (default `dtype`; f32 lets f16 blocks run without shader-f16). */
    headDtype?: "f32" | "f16";
  },
): GpuWeights {
  const all: GPUBuffer[] = [];
  const buf = (label: string, data: Float32Array | Float16Array) => {
    const b = storageBuffer(device, `${spec.id} ${label}`, data);
    all.push(b);
    return b;
  };
  const linear = (label: string, l: HostLinear, k: number, n: number, head = false): GpuLinear => {
    const dtype = head ? options.headDtype ?? options.dtype : options.dtype;
    const cast = (m: Float32Array) => dtype === "f16" ? new Float16Array(m) : m;
    if (l.w.length !== n * k) {
      throw new RangeError(`${spec.id} ${label}: weight has ${l.w.length} elements, not ${n}x${k}`);
    }
    return {
      k,
      n,
      dtype,
      ...(head || options.layouts.includes("row") ? { row: buf(`${label} W`, cast(l.w)) } : {}),
      ...(!head && options.layouts.includes("transposed")
        ? { transposed: buf(`${label} Wt`, cast(transposeHost(l.w, n, k))) }
        : {}),
      bias: buf(`${label} b`, l.b ?? new Float32Array(n)),
      ...(l.b ? { hostBias: l.b } : {}),
      columnNorms: columnNorms(l.w, n, k),
      bytes: n * k * (dtype === "f16" ? 2 : 4),
    };
  };
  const norm = (label: string, nm: HostNorm): GpuNorm => ({
    w: buf(`${label} w`, nm.w),
    ...(nm.b ? { b: buf(`${label} b`, nm.b) } : {}),
  });
  const shapes = linearShapes(spec).block;
  return {
    spec,
    dtype: options.dtype,
    embed: buf("embed", host.embed),
    ...(host.positions ? { positions: buf("positions", host.positions) } : {}),
    layers: host.layers.map((l, i) => ({
      norm1: norm(`L${i} norm1`, l.norm1),
      norm2: norm(`L${i} norm2`, l.norm2),
      ...(Object.fromEntries(
        PROJECTIONS.map((p) => [p, linear(`L${i} ${p}`, l[p], shapes[p].k, shapes[p].n)]),
      ) as Record<ProjectionName, GpuLinear>),
    })),
    finalNorm: norm("final norm", host.finalNorm),
    head: linear("head", host.head, spec.d, spec.vocab, true),
    synthetic: false,
    destroy: () => all.forEach((b) => b.destroy()),
  };
}

/**
 * Generates seeded random weights on the GPU (speed only: nothing passes through the host).
 * Linears are uniform with the standard deviation of a 1/√fan-in initialisation, norms are ones.
 *
 * @param device The device.
 * @param spec Architecture.
 * @param options Precision, layouts and seed.
 * @returns The weights on the GPU.
 */
export async function syntheticWeights(
  device: GPUDevice,
  spec: DecoderSpec,
  options: { dtype: "f32" | "f16"; layouts: readonly Layout[]; seed: number },
): Promise<GpuWeights> {
  const all: GPUBuffer[] = [];
  let seed = options.seed * 7919;
  const filled = async (
    label: string,
    rows: number,
    cols: number,
    scale: number,
    extra: { offset?: number; transposed?: boolean; dtype?: "f32" | "f16"; seed?: number } = {},
  ) => {
    const spec1 = { rows, cols, seed: extra.seed ?? ++seed, scale, ...extra };
    const b = storageBuffer(device, `${spec.id} ${label}`, fillBytes(spec1));
    all.push(b);
    await fillRandom(device, b, spec1);
    return b;
  };
  const zeros = (label: string, n: number) => {
    const b = storageBuffer(device, `${spec.id} ${label}`, n * 4);
    all.push(b);
    return b;
  };
  const linear = async (label: string, k: number, n: number, row: boolean): Promise<GpuLinear> => {
    const s = ++seed;
    // Uniform on [-a, a] has std a/√3: a = √3/√k gives std 1/√k.
    const scale = Math.sqrt(3 / k);
    const dtype = options.dtype;
    const wantRow = row || options.layouts.includes("row");
    return {
      k,
      n,
      dtype,
      ...(wantRow ? { row: await filled(`${label} W`, n, k, scale, { dtype, seed: s }) } : {}),
      ...(!row && options.layouts.includes("transposed")
        ? {
          transposed: await filled(`${label} Wt`, n, k, scale, {
            dtype,
            seed: s,
            transposed: true,
          }),
        }
        : {}),
      bias: zeros(`${label} b`, n),
      bytes: n * k * (dtype === "f16" ? 2 : 4),
    };
  };
  const ones = async (label: string) => ({ w: await filled(label, 1, spec.d, 0, { offset: 1 }) });
  const shapes = linearShapes(spec).block;
  const layers: GpuLayer[] = [];
  for (let i = 0; i < spec.layers; i++) {
    const lin: Partial<Record<ProjectionName, GpuLinear>> = {};
    for (const p of PROJECTIONS) {
      lin[p] = await linear(`L${i} ${p}`, shapes[p].k, shapes[p].n, false);
    }
    layers.push({
      norm1: await ones(`L${i} norm1`),
      norm2: await ones(`L${i} norm2`),
      ...(lin as Record<ProjectionName, GpuLinear>),
    });
    // Let the queue drain now and then, so a 13B model's fills do not pile up in one submit queue.
    if (i % 4 === 3) await device.queue.onSubmittedWorkDone();
  }
  const weights: GpuWeights = {
    spec,
    dtype: options.dtype,
    embed: await filled("embed", spec.vocab, spec.d, 1),
    ...(spec.positions.kind === "learned"
      ? { positions: await filled("positions", spec.maxPositions, spec.d, 0.1) }
      : {}),
    layers,
    finalNorm: await ones("final norm"),
    head: await linear("head", spec.d, spec.vocab, true),
    synthetic: true,
    destroy: () => all.forEach((b) => b.destroy()),
  };
  await device.queue.onSubmittedWorkDone();
  return weights;
}
