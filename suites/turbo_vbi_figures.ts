/**
 * The Turbo-VBI study's figures of a compressed model, from its sliced weights and the layer
 * record its training script wrote: compression (dense parameters over nonzero ones), regularity
 * (the share of zero weights that lie in whole neurons or channels, or in whole aligned groups,
 * counted in the dense model's index space) and the weights' FLOPs; plus the accuracy intervals
 * the report quotes (Wilson for one accuracy, a paired bootstrap for a difference on the same
 * images).
 *
 * @module
 */

import { createRng } from "../lib/prng.ts";

/** One prunable layer as `models/train_turbo_vbi.py` records it in `<model>.train.json`. */
export interface LayerRecord {
  /** The dense weight's shape: `[out, in]` (Gemm, transB) or `[out, in, kh, kw]` (Conv). */
  dense_shape: number[];
  /** The sliced weight's shape in the exported model. */
  sliced_shape: number[];
  /** Output neurons (rows) kept, in dense indices; null for the last layer (none removed). */
  kept_out: number[] | null;
  /** The previous layer's neurons kept (the input units), in dense indices; null for the first. */
  kept_in: number[] | null;
  /** Columns of the `[out, in_total]` view that one input unit feeds (25 for a 5 x 5 map). */
  in_unit: number;
  /** Columns of one aligned group along a row of the `[out, in_total]` view. */
  group: number;
}

/** A sliced layer's weights and bias as the exported model holds them. */
export interface SlicedLayer {
  /** Row-major weight, `sliced_shape`. */
  weight: Float32Array;
  /** Bias. */
  bias: Float32Array;
}

/** What {@linkcode compressionFigures} measures. */
export interface CompressionFigures {
  /** Weights plus biases of the dense model. */
  paramsDense: number;
  /** Nonzero weights plus nonzero biases of the compressed model. */
  paramsNonzero: number;
  /** paramsDense / paramsNonzero. */
  compression: number;
  /** Zero weights (dense index space). */
  zeros: number;
  /** Share of the zero weights lying in a whole zero neuron: a zero row or a zero input unit. */
  neuronShare: number;
  /** Share of the zero weights lying in a whole zero neuron or a whole zero aligned group. */
  regularity: number;
  /** Output neurons kept per layer. */
  neuronsKept: number[];
  /** Nonzero weights per layer. */
  nonzeroPerLayer: number[];
}

const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Puts a sliced layer back into the dense layer's `[out, in_total]` index space (zeros where
 * neurons were removed).
 *
 * @param layer The layer record.
 * @param weight The sliced weight.
 * @returns The dense-shaped weight, row-major `[out, in_total]`.
 * @throws {RangeError} When the weight does not have the recorded sliced shape.
 */
export function denseView(layer: LayerRecord, weight: Float32Array): Float32Array {
  const [outDense] = layer.dense_shape as [number];
  const inTotal = prod(layer.dense_shape) / outDense;
  const [outSliced] = layer.sliced_shape as [number];
  const inSliced = prod(layer.sliced_shape) / outSliced;
  if (weight.length !== outSliced * inSliced) {
    throw new RangeError(
      `A weight of ${weight.length} elements does not match the recorded sliced shape [${layer.sliced_shape}]`,
    );
  }
  const rowsKept = layer.kept_out ?? [...Array(outDense).keys()];
  const cols: number[] = [];
  if (layer.kept_in === null) {
    for (let c = 0; c < inTotal; c++) cols.push(c);
  } else {
    for (const u of layer.kept_in) {
      for (let k = 0; k < layer.in_unit; k++) cols.push(u * layer.in_unit + k);
    }
  }
  if (rowsKept.length !== outSliced || cols.length !== inSliced) {
    throw new RangeError(
      `Kept indices (${rowsKept.length} rows, ${cols.length} columns) do not match the sliced shape [${layer.sliced_shape}]`,
    );
  }
  const out = new Float32Array(outDense * inTotal);
  for (let r = 0; r < outSliced; r++) {
    const base = rowsKept[r]! * inTotal;
    for (let c = 0; c < inSliced; c++) out[base + cols[c]!] = weight[r * inSliced + c]!;
  }
  return out;
}

/**
 * Compression and regularity of a compressed model.
 *
 * @param layers The layer records, in graph order.
 * @param sliced The exported layers, in the same order.
 * @returns The figures.
 * @throws {RangeError} When the counts of layers differ or a shape does not match its record.
 */
export function compressionFigures(
  layers: readonly LayerRecord[],
  sliced: readonly SlicedLayer[],
): CompressionFigures {
  if (layers.length !== sliced.length) {
    throw new RangeError(`${sliced.length} weight layers in the model, ${layers.length} recorded`);
  }
  let paramsDense = 0, paramsNonzero = 0, zeros = 0, inNeuron = 0, structured = 0;
  const neuronsKept: number[] = [];
  const nonzeroPerLayer: number[] = [];
  layers.forEach((layer, li) => {
    const w = denseView(layer, sliced[li]!.weight);
    const out = layer.dense_shape[0]!;
    const inTotal = w.length / out;
    paramsDense += w.length + out;
    let nz = 0;
    for (const v of w) if (v !== 0) nz++;
    for (const v of sliced[li]!.bias) if (v !== 0) paramsNonzero++;
    paramsNonzero += nz;
    nonzeroPerLayer.push(nz);
    zeros += w.length - nz;
    const rowZero = new Uint8Array(out);
    for (let r = 0; r < out; r++) {
      let all = 1;
      for (let c = 0; c < inTotal && all; c++) if (w[r * inTotal + c] !== 0) all = 0;
      rowZero[r] = all;
    }
    neuronsKept.push(out - rowZero.reduce((a, b) => a + b, 0));
    const units = inTotal / layer.in_unit;
    const unitZero = new Uint8Array(units);
    for (let u = 0; u < units; u++) {
      let all = 1;
      for (let r = 0; r < out && all; r++) {
        for (let k = 0; k < layer.in_unit && all; k++) {
          if (w[r * inTotal + u * layer.in_unit + k] !== 0) all = 0;
        }
      }
      unitZero[u] = all;
    }
    const groups = inTotal / layer.group;
    for (let r = 0; r < out; r++) {
      for (let g = 0; g < groups; g++) {
        let groupZero = 1;
        for (let k = 0; k < layer.group && groupZero; k++) {
          if (w[r * inTotal + g * layer.group + k] !== 0) groupZero = 0;
        }
        for (let k = 0; k < layer.group; k++) {
          const c = g * layer.group + k;
          if (w[r * inTotal + c] !== 0) continue;
          const neuron = rowZero[r] === 1 || unitZero[Math.floor(c / layer.in_unit)] === 1;
          if (neuron) inNeuron++;
          if (neuron || groupZero === 1) structured++;
        }
      }
    }
  });
  return {
    paramsDense,
    paramsNonzero,
    compression: paramsDense / Math.max(1, paramsNonzero),
    zeros,
    neuronShare: zeros === 0 ? 0 : inNeuron / zeros,
    regularity: zeros === 0 ? 0 : structured / zeros,
    neuronsKept,
    nonzeroPerLayer,
  };
}

/**
 * The Wilson score interval of a binomial proportion (95 % by default).
 *
 * @param correct Successes.
 * @param n Trials.
 * @param z The normal quantile (1.96 for 95 %).
 * @returns Lower and upper bounds.
 * @throws {RangeError} When n is not positive.
 */
export function wilson(correct: number, n: number, z = 1.96): { low: number; high: number } {
  if (!(n > 0)) throw new RangeError(`A proportion needs trials (got n = ${n})`);
  const p = correct / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * A paired percentile-bootstrap interval of accuracy(a) − accuracy(b) on the same samples.
 *
 * @param a 1 where model a is right, per sample.
 * @param b 1 where model b is right, same samples.
 * @param options `resamples` (default 2,000), `seed` (default 0).
 * @returns The difference and its 95 % interval.
 * @throws {RangeError} When the lengths differ or are zero.
 */
export function pairedDifferenceCi(
  a: Uint8Array,
  b: Uint8Array,
  options: { resamples?: number; seed?: number } = {},
): { estimate: number; low: number; high: number } {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `Paired samples must have one equal, nonzero length (${a.length}, ${b.length})`,
    );
  }
  const n = a.length;
  const d = new Int8Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += d[i] = a[i]! - b[i]!;
  const rng = createRng(options.seed ?? 0);
  const resamples = options.resamples ?? 2000;
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)]!;
    stats[r] = s / n;
  }
  stats.sort();
  const at = (q: number) => stats[Math.min(resamples - 1, Math.floor(q * resamples))]!;
  return { estimate: sum / n, low: at(0.025), high: at(0.975) };
}
