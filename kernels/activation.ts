/**
 * The activations the kernels fuse, by the code their WGSL `ACT` override takes, with the CPU
 * definitions the references use (exact erf-form GELU, as torch's default GELU), and the WGSL
 * prelude (`activation.wgsl`) that every kernel with an `ACT` override is built with.
 *
 * @module
 */

import activationSource from "./activation.wgsl" with { type: "text" };

/**
 * A kernel's source with the shared activation prelude (the `ACT` override, `erf_approx` and
 * `activate`) put in front, after any `enable` prelude (an `enable` must open a module).
 *
 * @param source The kernel's WGSL, which uses `activate()` and declares no `ACT` of its own.
 * @param enablePrelude WGSL that must come first (e.g. the f16 weight binding).
 * @returns The complete module source.
 */
export function withActivation(source: string, enablePrelude = ""): string {
  return enablePrelude + activationSource + source;
}

/** Activation kinds the kernels support. */
export type Activation = "none" | "relu" | "gelu" | "silu";

/** WGSL `ACT` override code of each activation. */
export const ACT_CODE: Record<Activation, number> = { none: 0, relu: 1, gelu: 2, silu: 3 };

/**
 * erf(x) to double precision (series for small |x|, continued fraction beyond), for references.
 *
 * @param x Any number.
 * @returns erf(x).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    // Maclaurin series: erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1)).
    let term = a;
    let sum = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc (Lentz), accurate for a ≥ 2.5.
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = a + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = a + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

/**
 * Applies an activation on the CPU.
 *
 * @param kind Activation.
 * @param v Input.
 * @returns Output.
 */
export function activateCpu(kind: Activation, v: number): number {
  switch (kind) {
    case "relu":
      return Math.max(v, 0);
    case "gelu":
      return 0.5 * v * (1 + erf(v / Math.SQRT2));
    case "silu":
      return v / (1 + Math.exp(-v));
    default:
      return v;
  }
}
