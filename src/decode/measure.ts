/**
 * Timing a decoder: milliseconds per token at a fixed context length, many tokens per
 * synchronisation. The state wraps the position inside [context, context + window), so every
 * timed token attends over about `context` positions however long the batch. GPU timestamps
 * where the device has them (`timeDispatches` in `kernels/host.ts`), the wall-time slope over two
 * batch sizes on CPU adapters.
 *
 * @module
 */

import { type KernelTime, timeDispatches } from "../../kernels/gpu_timing.ts";
import { fillRandom } from "../../kernels/fill.ts";
import type { Decoder } from "./engine.ts";

/** Positions the timed context wraps over. */
export const WRAP_WINDOW = 16;

/**
 * Fills the KV caches with random contents (speed runs of synthetic models: a context of
 * `context` positions without decoding them first).
 *
 * @param device The device.
 * @param decoder The decoder.
 * @param seed Seed.
 */
export async function fillCaches(device: GPUDevice, decoder: Decoder, seed: number): Promise<void> {
  const spec = decoder.weights.spec;
  const kvd = spec.kvHeads * spec.headDim;
  let i = 0;
  for (const c of decoder.caches) {
    for (const b of [c.k, c.v]) {
      await fillRandom(device, b, {
        rows: decoder.maxContext,
        cols: kvd,
        seed: seed + i++,
        scale: 1,
        // An f16 cache is filled with f16 values, packed as the kernels read them.
        dtype: decoder.kvDtype,
      });
    }
  }
  await device.queue.onSubmittedWorkDone();
}

/**
 * Times one token of a decoder at a context length.
 *
 * @param device The device.
 * @param decoder The decoder (its caches hold at least `context` positions).
 * @param options Context length, samples, batch length, timestamps.
 * @returns Milliseconds per token.
 */
export async function timeTokens(
  device: GPUDevice,
  decoder: Decoder,
  options: { context: number; samples?: number; targetMs?: number; timestamps?: boolean },
): Promise<KernelTime> {
  const window = Math.min(WRAP_WINDOW, decoder.maxContext - options.context);
  if (window < 1) {
    throw new RangeError(
      `context ${options.context} leaves no room in a KV cache of ${decoder.maxContext}`,
    );
  }
  decoder.setState({
    pos: options.context,
    wrapStart: options.context,
    wrapEnd: options.context + window,
    prompt: 0,
  });
  return await timeDispatches(device, [decoder.step], {
    samples: options.samples ?? 5,
    targetMs: options.targetMs ?? 100,
    timestamps: options.timestamps ?? true,
    // A GPU left idle between syncs lowers its clocks; the untimed batch brings them back up.
    preRoll: true,
  });
}
