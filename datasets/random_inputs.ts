/**
 * Seeded random model inputs for speed-only and agreement-only runs on a user's model: the same
 * seed and specs give the same tensors on every machine.
 *
 * @module
 */

import { createRng } from "../lib/prng.ts";
import type { RandomInputSpec, SampleTensor } from "./types.ts";

/**
 * Draws `count` samples of every input, concatenated along the first axis.
 *
 * @example Usage
 * ```ts
 * import { randomInputs } from "./random_inputs.ts";
 * const t = randomInputs([{ name: "x", type: "float32", dims: [1, 4], fill: "normal" }], 3, 7);
 * console.log(t.x!.dims); // [3, 4]
 * ```
 *
 * @param specs The inputs (per-sample dims, batch dimension included, normally 1).
 * @param count Samples.
 * @param seed Seed.
 * @returns Tensors by input name, `[count * dims[0], ...dims.slice(1)]`.
 * @throws {RangeError} For `ids` without a positive `high`.
 */
export function randomInputs(
  specs: readonly RandomInputSpec[],
  count: number,
  seed: number,
): Record<string, SampleTensor> {
  const rng = createRng(seed);
  const out: Record<string, SampleTensor> = {};
  for (const s of specs) {
    const per = s.dims.reduce((a, b) => a * b, 1);
    const n = per * count;
    const last = s.dims[s.dims.length - 1] ?? 1;
    const value = (i: number): number => {
      switch (s.fill) {
        case "normal":
          return rng.normal();
        case "uniform":
          return rng.next();
        case "ids":
          if (!(s.high && s.high > 0)) {
            throw new RangeError(`Random input ${s.name}: fill "ids" needs high >= 1`);
          }
          return rng.int(s.high);
        case "ones":
          return 1;
        case "zeros":
          return 0;
        case "positions":
          return i % last;
      }
    };
    const dims = [count * (s.dims[0] ?? 1), ...s.dims.slice(1)];
    if (s.type === "float32") {
      out[s.name] = {
        type: s.type,
        dims,
        data: Float32Array.from({ length: n }, (_, i) => value(i)),
      };
    } else if (s.type === "int32") {
      out[s.name] = {
        type: s.type,
        dims,
        data: Int32Array.from({ length: n }, (_, i) => value(i)),
      };
    } else {
      out[s.name] = {
        type: s.type,
        dims,
        data: BigInt64Array.from({ length: n }, (_, i) => BigInt(value(i))),
      };
    }
  }
  return out;
}
