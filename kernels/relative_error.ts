/**
 * The check every kernel passes before it is timed: ‖out − ref‖₂ / ‖ref‖₂, with any non-finite
 * output element (an unwritten, poisoned slot) making the error infinite.
 *
 * @module
 */

/**
 * Relative L2 error of a kernel's output against its reference.
 *
 * @example Usage
 * ```ts
 * import { relativeError } from "./relative_error.ts";
 * console.log(relativeError(Float32Array.of(1, 2), Float32Array.of(1, 2))); // 0
 * ```
 *
 * @param out Kernel output.
 * @param ref Reference.
 * @returns The relative error (Infinity for a non-finite element or a length mismatch).
 */
export function relativeError(out: Float32Array, ref: Float32Array): number {
  if (out.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(out[i]!)) return Infinity;
    num += (out[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
