/**
 * Small dense linear algebra for the pruning methods (matrices row-major in Float64Array): the
 * Cholesky factorisation and the inverse of a symmetric positive-definite matrix.
 *
 * @module
 */

/**
 * Lower Cholesky factor L of a symmetric positive-definite matrix A = L Lᵀ.
 *
 * @param a A, n × n (not modified).
 * @param n Size.
 * @returns L.
 * @throws {RangeError} When A is not positive definite.
 */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) {
          throw new RangeError(`Cholesky: matrix is not positive definite at pivot ${i} (${s})`);
        }
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j]!;
    }
  }
  return l;
}

/**
 * The inverse of a symmetric positive-definite matrix, through its Cholesky factor.
 *
 * @param a A, n × n.
 * @param n Size.
 * @returns A⁻¹.
 */
export function spdInverse(a: Float64Array, n: number): Float64Array {
  const l = cholesky(a, n);
  // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let i = c; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * n + k]! * li[k * n + c]!;
      li[i * n + c] = s / l[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i]! * li[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/**
 * The upper Cholesky factor U of A, A = Uᵀ U (SparseGPT works with U of H⁻¹).
 *
 * @param a A, n × n.
 * @param n Size.
 * @returns U.
 */
export function choleskyUpper(a: Float64Array, n: number): Float64Array {
  const l = cholesky(a, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) u[j * n + i] = l[i * n + j]!;
  return u;
}
