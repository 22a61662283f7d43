/**
 * Robust statistics for timing samples: quantiles, median absolute deviation, outlier flags and a
 * bootstrap confidence interval on a ratio of medians.
 *
 * Outliers use the modified z-score of Iglewicz and Hoaglin (1993), M = 0.6745·(x − median)/MAD,
 * flagged when |M| > 3.5. They are flagged, never dropped (as Criterion.rs and hyperfine do): a
 * benchmark that throws away slow runs reports a machine that does not exist.
 *
 * @module
 */

import { createRng } from "../lib/prng.ts";

/** Summary of one set of timing samples, in milliseconds. */
export interface SampleSummary {
  /** Number of samples. */
  count: number;
  /** Median. */
  medianMs: number;
  /** 10th percentile (linear interpolation between order statistics). */
  p10Ms: number;
  /** 90th percentile. */
  p90Ms: number;
  /** Median absolute deviation, not scaled by the 1.4826 normal-consistency factor. */
  madMs: number;
  /** Arithmetic mean. */
  meanMs: number;
  /** Smallest sample. */
  minMs: number;
  /** Largest sample. */
  maxMs: number;
  /** Number of samples whose modified z-score exceeds {@linkcode OUTLIER_Z}. */
  outliers: number;
}

/** The modified z-score beyond which a sample is flagged as an outlier. */
export const OUTLIER_Z = 3.5;

/**
 * The q-quantile of sorted values (the "type 7" definition used by R and NumPy).
 *
 * @example Usage
 * ```ts
 * import { quantile } from "./stats.ts";
 * console.log(quantile([1, 2, 3, 4], 0.5)); // 2.5
 * ```
 *
 * @param sorted Values in ascending order.
 * @param q A probability in [0, 1].
 * @returns The quantile.
 * @throws {RangeError} When there are no values.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("Cannot compute a quantile: no values");
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * The median of some values.
 *
 * @param values Any order.
 * @returns The median.
 */
export function median(values: readonly number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/**
 * The median absolute deviation from the median (unscaled).
 *
 * @param values Any order.
 * @returns The MAD.
 */
export function mad(values: readonly number[]): number {
  const m = median(values);
  return median(values.map((v) => Math.abs(v - m)));
}

/**
 * Indices of samples flagged as outliers by the modified z-score.
 *
 * @param values Samples.
 * @returns Indices with |M| > {@linkcode OUTLIER_Z}; none when the MAD is zero.
 */
export function outlierIndices(values: readonly number[]): number[] {
  if (values.length < 3) return [];
  const m = median(values);
  const d = mad(values);
  if (d === 0) return [];
  const out: number[] = [];
  values.forEach((v, i) => {
    if (Math.abs((0.6745 * (v - m)) / d) > OUTLIER_Z) out.push(i);
  });
  return out;
}

/**
 * Summarises timing samples.
 *
 * @param samplesMs Samples in milliseconds.
 * @returns The summary.
 */
export function summarize(samplesMs: readonly number[]): SampleSummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    medianMs: quantile(sorted, 0.5),
    p10Ms: quantile(sorted, 0.1),
    p90Ms: quantile(sorted, 0.9),
    madMs: mad(sorted),
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    minMs: sorted[0]!,
    maxMs: sorted[sorted.length - 1]!,
    outliers: outlierIndices(sorted).length,
  };
}

/** A point estimate with a confidence interval. */
export interface Interval {
  /** Point estimate. */
  estimate: number;
  /** Lower bound. */
  low: number;
  /** Upper bound. */
  high: number;
}

/** Options for {@linkcode bootstrapRatioCi}. */
export interface BootstrapOptions {
  /** Number of resamples (default 2,000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  confidence?: number;
  /** Seed of the resampling (default 0), so the interval is reproducible. */
  seed?: number;
  /**
   * Resample (numerator, denominator) pairs together (default true when the lengths match). Pairs
   * measured back to back share the machine's state at that moment, so pairing cancels drift.
   */
  paired?: boolean;
}

/**
 * A percentile-bootstrap confidence interval for median(numerator) / median(denominator), e.g. a
 * speedup = dense time / sparse time.
 *
 * @example Usage
 * ```ts
 * import { bootstrapRatioCi } from "./stats.ts";
 * const ci = bootstrapRatioCi([10, 11, 10, 12], [5, 5, 6, 5]);
 * console.log(ci.estimate); // 2.1
 * ```
 *
 * @param numerator Samples of the numerator.
 * @param denominator Samples of the denominator.
 * @param options Resampling options.
 * @returns The ratio of medians and its interval.
 */
export function bootstrapRatioCi(
  numerator: readonly number[],
  denominator: readonly number[],
  options: BootstrapOptions = {},
): Interval {
  if (numerator.length === 0 || denominator.length === 0) {
    throw new RangeError("Cannot bootstrap a ratio: a sample set is empty");
  }
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const paired = options.paired ?? numerator.length === denominator.length;
  const rng = createRng(options.seed ?? 0);
  const estimate = median(numerator) / median(denominator);
  const ratios = new Float64Array(resamples);
  const a = new Array<number>(numerator.length);
  const b = new Array<number>(denominator.length);
  for (let r = 0; r < resamples; r++) {
    if (paired) {
      for (let i = 0; i < a.length; i++) {
        const k = rng.int(a.length);
        a[i] = numerator[k]!;
        b[i] = denominator[k]!;
      }
    } else {
      for (let i = 0; i < a.length; i++) a[i] = numerator[rng.int(a.length)]!;
      for (let i = 0; i < b.length; i++) b[i] = denominator[rng.int(b.length)]!;
    }
    ratios[r] = median(a) / median(b);
  }
  ratios.sort();
  const tail = (1 - confidence) / 2;
  const sorted = Array.from(ratios);
  return { estimate, low: quantile(sorted, tail), high: quantile(sorted, 1 - tail) };
}

/**
 * The two-sided Mann–Whitney U test with the normal approximation (tie-corrected), for comparing
 * raw samples of two runs.
 *
 * @param x First sample.
 * @param y Second sample.
 * @returns U of `x` and the two-sided p-value.
 */
export function mannWhitney(x: readonly number[], y: readonly number[]): { u: number; p: number } {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("Cannot run Mann-Whitney: a sample is empty");
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) =>
    a.v - b.v
  );
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[k] = r;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  let r1 = 0;
  all.forEach((e, i) => {
    if (e.g === 0) r1 += ranks[i]!;
  });
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = (n1 * n2 / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1 };
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) };
}

/**
 * The standard normal CDF (Abramowitz–Stegun 7.1.26 through erf, |error| < 1.5e-7).
 *
 * @param z A z value.
 * @returns P(Z ≤ z).
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * The inverse standard normal CDF, Φ⁻¹(p) (Acklam's rational approximation, relative error
 * below 1.2e-9), used by the statistical top-k threshold.
 *
 * @param p A probability in (0, 1).
 * @returns z with Φ(z) = p.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    throw new RangeError(`Cannot invert the normal CDF at ${p}: needs 0 < p < 1`);
  }
  const a = [
    -3.969683028665376e1,
    2.209460984245205e2,
    -2.759285104469687e2,
    1.38357751867269e2,
    -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1,
    1.615858368580409e2,
    -1.556989798598866e2,
    6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3,
    -3.223964580411365e-1,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
