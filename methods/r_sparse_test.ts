import assert from "node:assert/strict";
import { createRng } from "../lib/prng.ts";
import { channelNorms, lowRankFactor } from "./r_sparse.ts";
import { symmetricEigen } from "./_sym_eigen.ts";

function randomMatrix(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

function product(a: Float32Array, b: Float32Array, n: number, r: number, o: number): Float64Array {
  const out = new Float64Array(n * o);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < r; c++) {
      for (let k = 0; k < o; k++) out[i * o + k]! += a[i * r + c]! * b[c * o + k]!;
    }
  }
  return out;
}

function frobenius(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

Deno.test("symmetricEigen() reconstructs a symmetric matrix from descending eigenpairs", () => {
  const n = 12;
  const g = randomMatrix(n * n, 1);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a[i * n + j] = g[i * n + j]! + g[j * n + i]!;
  }
  const { values, vectors } = symmetricEigen(a, n);
  for (let i = 1; i < n; i++) assert.ok(values[i - 1]! >= values[i]!);
  const back = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let c = 0; c < n; c++) {
        back[i * n + j]! += vectors[i * n + c]! * values[c]! * vectors[j * n + c]!;
      }
    }
  }
  assert.ok(frobenius(back, a) < 1e-9 * Math.sqrt(n * n));
});

Deno.test("lowRankFactor() is exact at full rank and, below it, leaves the discarded singular values' energy", () => {
  for (const [n, o] of [[10, 16], [16, 10]] as const) {
    const w = randomMatrix(n * o, n + o);
    const full = lowRankFactor(w, { inFeatures: n, outFeatures: o }, Math.min(n, o));
    assert.ok(frobenius(product(full.a, full.b, n, full.rank, o), w) < 1e-4);
    // Eckart–Young: the rank-r error² equals the sum of the discarded eigenvalues of W·Wᵀ.
    const small = Math.min(n, o);
    const gram = new Float64Array(small * small);
    for (let i = 0; i < small; i++) {
      for (let j = 0; j < small; j++) {
        let s = 0;
        if (n <= o) { for (let k = 0; k < o; k++) s += w[i * o + k]! * w[j * o + k]!; }
        else for (let k = 0; k < n; k++) s += w[k * o + i]! * w[k * o + j]!;
        gram[i * small + j] = s;
      }
    }
    const { values } = symmetricEigen(gram, small);
    const r = 4;
    const f = lowRankFactor(w, { inFeatures: n, outFeatures: o }, r);
    const err = frobenius(product(f.a, f.b, n, r, o), w);
    const expected = Math.sqrt(values.slice(r).reduce((s, v) => s + v, 0));
    assert.ok(Math.abs(err - expected) < 1e-3 * expected, `${n}x${o}: ${err} vs ${expected}`);
  }
});

Deno.test("channelNorms() gives each input channel's row norm of an [in, out] weight", () => {
  const norms = channelNorms(Float32Array.from([3, 4, 0, 0, 1, 0]), {
    inFeatures: 2,
    outFeatures: 3,
  });
  assert.deepEqual([...norms], [5, 1]);
});
