/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations (double precision),
 * for the low-rank factors R-Sparse needs: the leading eigenvectors of W·Wᵀ are W's leading left
 * singular vectors.
 *
 * @module
 */

/** Eigenvalues (descending) and their unit eigenvectors. */
export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as columns of an [n, n] row-major matrix, in the order of `values`. */
  vectors: Float64Array;
}

/**
 * Decomposes a symmetric matrix A = V·diag(λ)·Vᵀ.
 *
 * @param a The matrix [n, n] row-major (only its symmetric part is used; not modified).
 * @param n Its order.
 * @param options `maxSweeps` (default 30); sweeps stop once the off-diagonal mass is below
 *   1e-22 of the total.
 * @returns Eigenvalues and eigenvectors.
 */
export function symmetricEigen(
  a: Float64Array,
  n: number,
  options: { maxSweeps?: number } = {},
): SymmetricEigen {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += m[i]! * m[i]!;
  for (let sweep = 0; sweep < (options.maxSweeps ?? 30); sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * m[p * n + q]! ** 2;
    if (off <= 1e-22 * total) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p]!, akq = m[k * n + q]!;
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!, aqk = m[q * n + k]!;
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!, vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = [...Array(n).keys()].sort((x, y) => m[y * n + y]! - m[x * n + x]!);
  const values = Float64Array.from(order, (i) => m[i * n + i]!);
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    order.forEach((src, dst) => (vectors[r * n + dst] = v[r * n + src]!));
  }
  return { values, vectors };
}
