/**
 * The Fréchet distance between two feature sets (Heusel et al., 2017, "FID" when the features are
 * Inception's; the `obs-diff` suite uses a classifier trained here and says so):
 *
 *   d² = ‖μ_g − μ_r‖² + Tr Σ_g + Tr Σ_r − 2 Tr (Σ_r Σ_g)^{1/2},
 *
 * with Tr (Σ_r Σ_g)^{1/2} = Σ_i √λ_i over the eigenvalues of Lᵀ Σ_g L, L the Cholesky factor of
 * Σ_r (similar to Σ_r Σ_g, and symmetric positive semi-definite). The eigenvalues come from a
 * Householder reduction to tridiagonal form and the implicit QL iteration. The noise of the
 * estimate is a percentile bootstrap over the generated samples, with resample indices fixed by
 * the seed so that variants generated from the same noise can be compared pair by pair.
 *
 * @module
 */

import { createRng } from "../lib/prng.ts";

/** Mean and covariance (n − 1 normalisation) of a feature set. */
export interface FeatureStats {
  /** Width. */
  d: number;
  /** Mean, d. */
  mean: Float64Array;
  /** Covariance, d × d row-major. */
  cov: Float64Array;
}

/**
 * Mean and covariance of rows (optionally a resample of them, by index).
 *
 * @param x Rows, row-major [n, d].
 * @param d Width.
 * @param rows Row indices to use (repeats allowed; default all).
 * @returns The statistics.
 */
export function featureStats(x: Float32Array, d: number, rows?: readonly number[]): FeatureStats {
  const idx = rows ?? [...Array(x.length / d).keys()];
  const n = idx.length;
  const mean = new Float64Array(d);
  for (const r of idx) for (let i = 0; i < d; i++) mean[i]! += x[r * d + i]!;
  for (let i = 0; i < d; i++) mean[i]! /= n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (const r of idx) {
    for (let i = 0; i < d; i++) c[i] = x[r * d + i]! - mean[i]!;
    for (let i = 0; i < d; i++) {
      const ci = c[i]!;
      if (ci === 0) continue;
      const off = i * d;
      for (let j = 0; j <= i; j++) cov[off + j]! += ci * c[j]!;
    }
  }
  const s = 1 / Math.max(1, n - 1);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = cov[i * d + j]! * s;
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  return { d, mean, cov };
}

/**
 * Eigenvalues of a symmetric matrix (Householder tridiagonalisation, then implicit QL).
 *
 * @param a A, n × n row-major (destroyed).
 * @param n Size.
 * @returns The n eigenvalues, unordered.
 * @throws {Error} When QL does not converge.
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += a[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const x0 = a[(k + 1) * n + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    let vn = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = a[i * n + k]! - (i === k + 1 ? alpha : 0);
      vn += v[i]! ** 2;
    }
    vn = Math.sqrt(vn);
    if (vn === 0) continue;
    for (let i = k + 1; i < n; i++) v[i]! /= vn;
    // S ← H S H on the trailing block, H = I − 2vvᵀ: S −= 2(v qᵀ + q vᵀ), q = Sv − (vᵀSv) v.
    let kk = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[i * n + j]! * v[j]!;
      p[i] = s;
      kk += v[i]! * s;
    }
    for (let i = k + 1; i < n; i++) p[i] = p[i]! - kk * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const vi = v[i]!, qi = p[i]!;
      for (let j = k + 1; j < n; j++) a[i * n + j]! -= 2 * (vi * p[j]! + qi * v[j]!);
    }
    for (let i = k + 2; i < n; i++) {
      a[i * n + k] = 0;
      a[k * n + i] = 0;
    }
    a[(k + 1) * n + k] = alpha;
    a[k * n + k + 1] = alpha;
  }
  const d = Float64Array.from({ length: n }, (_, i) => a[i * n + i]!);
  const e = Float64Array.from({ length: n }, (_, i) => (i + 1 < n ? a[(i + 1) * n + i]! : 0));
  // An off-diagonal also counts as zero below ε‖T‖ (EISPACK's tql1 tests against a running norm
  // the same way): the reduction leaves rounding noise of that size, and where a block's own
  // entries are far smaller (the null space of a rank-deficient covariance), the relative test
  // alone can wait on that noise for ever.
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]!) + Math.abs(e[i]!));
  for (let l = 0; l < n; l++) {
    for (let iter = 0;; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * Math.max(dd, scale)) break;
      }
      if (m === l) break;
      if (iter === 100) throw new Error("symmetricEigenvalues: QL did not converge");
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, pp = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1]! -= pp;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - pp;
        r = (d[i]! - g) * s + 2 * c * b;
        pp = s * r;
        d[i + 1] = g + pp;
        g = c * r - b;
      }
      if (underflow) continue;
      d[l]! -= pp;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

/** Lower Cholesky factor of A + ridge·I. */
function choleskyRidge(a: Float64Array, n: number, ridge: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]! + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) l[i * n + i] = Math.sqrt(Math.max(s, ridge));
      else l[i * n + j] = s / l[j * n + j]!;
    }
  }
  return l;
}

/** The reference side of the distance, prepared once. */
export interface FidReference {
  /** Its statistics. */
  stats: FeatureStats;
  /** Cholesky factor of its covariance (plus a ridge of 1e-9 of the mean variance). */
  chol: Float64Array;
  /** Tr Σ_r. */
  trace: number;
}

/**
 * Prepares the reference statistics.
 *
 * @param stats The reference feature statistics.
 * @returns The reference.
 */
export function fidReference(stats: FeatureStats): FidReference {
  const { d, cov } = stats;
  let trace = 0;
  for (let i = 0; i < d; i++) trace += cov[i * d + i]!;
  return { stats, chol: choleskyRidge(cov, d, 1e-9 * Math.max(trace / d, 1e-12)), trace };
}

/**
 * The Fréchet distance of generated statistics to the reference.
 *
 * @param g Generated statistics.
 * @param ref The reference.
 * @returns d² (see the module doc).
 */
export function frechetDistance(g: FeatureStats, ref: FidReference): number {
  const d = g.d;
  const l = ref.chol;
  let mu = 0;
  let trG = 0;
  for (let i = 0; i < d; i++) {
    mu += (g.mean[i]! - ref.stats.mean[i]!) ** 2;
    trG += g.cov[i * d + i]!;
  }
  // M = Lᵀ Σ_g L; L is lower triangular, so (Σ_g L)_ij sums k ≥ j and (Lᵀ T)_ij sums k ≥ i.
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const s = g.cov[i * d + k]!;
      if (s === 0) continue;
      const lk = k * d;
      const ti = i * d;
      for (let j = 0; j <= k; j++) t[ti + j]! += s * l[lk + j]!;
    }
  }
  const m = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const lk = k * d;
    const tk = k * d;
    for (let i = 0; i <= k; i++) {
      const lki = l[lk + i]!;
      if (lki === 0) continue;
      const mi = i * d;
      for (let j = 0; j < d; j++) m[mi + j]! += lki * t[tk + j]!;
    }
  }
  // Symmetrise against rounding before the eigen solve.
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (m[i * d + j]! + m[j * d + i]!);
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
  }
  let trSqrt = 0;
  for (const lambda of symmetricEigenvalues(m, d)) trSqrt += Math.sqrt(Math.max(0, lambda));
  return mu + trG + ref.trace - 2 * trSqrt;
}

/**
 * The resample indices of the bootstrap: the same for every variant of a run (same seed, same
 * sample count), so their distances can be differenced replicate by replicate.
 *
 * @param n Samples.
 * @param resamples Replicates.
 * @param seed Seed.
 * @returns One index list per replicate.
 */
export function bootstrapIndices(n: number, resamples: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: resamples }, () => Array.from({ length: n }, () => rng.int(n)));
}

/**
 * The distance of generated features and its bootstrap replicates.
 *
 * @param x Generated features [n, d].
 * @param d Width.
 * @param options The reference and the bootstrap indices.
 * @returns The distance on all samples and one per replicate.
 */
export function fidWithBootstrap(
  x: Float32Array,
  d: number,
  options: { ref: FidReference; indices: readonly number[][] },
): { fid: number; replicates: number[] } {
  const fid = frechetDistance(featureStats(x, d), options.ref);
  const replicates = options.indices.map((rows) =>
    frechetDistance(featureStats(x, d, rows), options.ref)
  );
  return { fid, replicates };
}
