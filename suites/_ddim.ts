/**
 * The deterministic DDIM sampler (Song et al., ICLR 2021, η = 0) of the `obs-diff` suite, driving
 * the dit-mnist denoiser on any backend: the DDPM schedule the model was trained with (T = 1000,
 * linear β from 1e-4 to 0.02, as `models/train_dit.py`), `steps` evenly spaced timesteps from
 * T − 1 down to 0, and per step
 *
 *   x̂₀ = clamp((x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, −1, 1),   x_prev = √ᾱ_prev x̂₀ + √(1 − ᾱ_prev) ε,
 *
 * with ᾱ_prev = 1 after the last step. The starting noise comes from the seeded generator of
 * `lib/prng.ts`, so a seed, the labels and the step count fix every sample.
 *
 * @module
 */

import { createRng } from "../lib/prng.ts";
import type { TensorMap } from "../src/backend.ts";

/** Timesteps of the training schedule. */
export const TRAIN_STEPS = 1000;
/** Pixels of one image (1 × 28 × 28). */
export const PIXELS = 784;

/**
 * ᾱ_t = Π_{s ≤ t} (1 − β_s) with β linear from 1e-4 to 0.02 over T steps, rounded to float32 as
 * the training script holds it.
 *
 * @returns ᾱ for t = 0 … T − 1.
 */
export function alphasCumprod(): Float64Array {
  const out = new Float64Array(TRAIN_STEPS);
  let p = 1;
  for (let t = 0; t < TRAIN_STEPS; t++) {
    const beta = 1e-4 + (0.02 - 1e-4) * t / (TRAIN_STEPS - 1);
    p *= 1 - beta;
    out[t] = Math.fround(p);
  }
  return out;
}

/**
 * The timesteps DDIM visits, first (noisiest) to last: round((T − 1)(K − 1 − i) / (K − 1)).
 *
 * @param steps K, at least 2.
 * @returns K timesteps, descending to 0.
 */
export function ddimTimesteps(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 2) {
    throw new RangeError(`DDIM needs at least 2 steps, got ${steps}; use e.g. 20`);
  }
  return Array.from(
    { length: steps },
    (_, i) => Math.round((TRAIN_STEPS - 1) * (steps - 1 - i) / (steps - 1)),
  );
}

/**
 * Seeded standard-normal starting noise for `count` images.
 *
 * @param count Images.
 * @param seed Seed.
 * @returns [count, 1, 28, 28] values.
 */
export function startNoise(count: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count * PIXELS }, () => rng.normal());
}

/** Runs the denoiser once: ε for a batch, given x_t, the timestep and the labels. */
export type Denoise = (
  xt: Float32Array,
  t: number,
  labels: readonly number[],
  step: number,
) => Promise<Float32Array>;

/**
 * The denoiser's feeds for one batch (`x_t` [b, 1, 28, 28], `t` [b] float, `class` [b] int64).
 *
 * @param xt x_t.
 * @param t The timestep.
 * @param labels Class of each image.
 * @returns The feeds.
 */
export function denoiserFeeds(xt: Float32Array, t: number, labels: readonly number[]): TensorMap {
  const b = labels.length;
  return {
    x_t: { type: "float32", data: xt, dims: [b, 1, 28, 28] },
    t: { type: "float32", data: new Float32Array(b).fill(t), dims: [b] },
    class: { type: "int64", data: BigInt64Array.from(labels.map(BigInt)), dims: [b] },
  };
}

/**
 * Samples a batch with DDIM from the given starting noise.
 *
 * @param denoise The denoiser.
 * @param noise Starting noise [b, 1, 28, 28] (not modified).
 * @param options `labels` (one per image) and `steps`.
 * @returns The images x₀ in [−1, 1], [b, 1, 28, 28].
 */
export async function ddimSample(
  denoise: Denoise,
  noise: Float32Array,
  options: { labels: readonly number[]; steps: number },
): Promise<Float32Array> {
  const { labels } = options;
  if (noise.length !== labels.length * PIXELS) {
    throw new RangeError(
      `DDIM: ${noise.length} noise values for ${labels.length} images; give ${PIXELS} per image`,
    );
  }
  const ab = alphasCumprod();
  const ts = ddimTimesteps(options.steps);
  let x = Float32Array.from(noise);
  for (let i = 0; i < ts.length; i++) {
    const a = ab[ts[i]!]!;
    const aPrev = i + 1 < ts.length ? ab[ts[i + 1]!]! : 1;
    const eps = await denoise(x, ts[i]!, labels, i);
    const sa = Math.sqrt(a), s1a = Math.sqrt(1 - a);
    const sp = Math.sqrt(aPrev), s1p = Math.sqrt(1 - aPrev);
    const next = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const x0 = Math.min(1, Math.max(-1, (x[j]! - s1a * eps[j]!) / sa));
      next[j] = sp * x0 + s1p * eps[j]!;
    }
    x = next;
  }
  return x;
}

/**
 * Images in [−1, 1] as the classifier's pixels in [0, 1].
 *
 * @param x Images in [−1, 1].
 * @returns (x + 1) / 2, clamped.
 */
export function toPixels(x: Float32Array): Float32Array {
  return x.map((v) => Math.min(1, Math.max(0, (v + 1) / 2)));
}
