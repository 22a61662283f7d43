/**
 * Accuracy of a decoder, computed by the engine itself token by token: bits per character over
 * teacher-forced windows of text, and each position's greedy prediction (for the agreement of a
 * sparse decoder with the dense one). All windows are submitted back to back, each followed by
 * a GPU copy of its figures, and read back once.
 *
 * @module
 */

import { readBuffer, storageBuffer } from "../../kernels/host.ts";
import type { Decoder } from "./engine.ts";

/** What {@linkcode evaluateWindows} measures. */
export interface WindowEvaluation {
  /** Mean −log₂ p(next char) over every predicted position. */
  bpc: number;
  /** Greedy prediction at every predicted position, windows concatenated. */
  predictions: Uint32Array;
  /** Positions predicted. */
  positions: number;
}

/**
 * Runs teacher-forced windows (each `ids` of length ≤ the decoder's context + 1; positions
 * 0..len−2 predict ids 1..len−1). The decoder must have been built `withNll`.
 *
 * @param device The device.
 * @param decoder The decoder.
 * @param windows Token windows.
 * @returns bpc and predictions.
 */
export async function evaluateWindows(
  device: GPUDevice,
  decoder: Decoder,
  windows: readonly Uint32Array[],
): Promise<WindowEvaluation> {
  const per = windows.map((w) => w.length - 1);
  const total = per.reduce((a, b) => a + b, 0);
  const nllAll = storageBuffer(device, "eval nll", total * 4);
  const predAll = storageBuffer(device, "eval preds", total * 4);
  let off = 0;
  for (const w of windows) {
    const steps = w.length - 1;
    decoder.writeIds(w);
    decoder.setState({ pos: 0, wrapStart: 0, wrapEnd: decoder.maxContext, prompt: w.length });
    const encoder = device.createCommandEncoder({ label: "eval window" });
    decoder.encode(encoder, steps);
    encoder.copyBufferToBuffer(decoder.nll, 0, nllAll, off * 4, steps * 4);
    encoder.copyBufferToBuffer(decoder.preds, 0, predAll, off * 4, steps * 4);
    device.queue.submit([encoder.finish()]);
    off += steps;
  }
  const nll = new Float32Array(await readBuffer(device, nllAll, total * 4));
  const predictions = new Uint32Array(await readBuffer(device, predAll, total * 4));
  nllAll.destroy();
  predAll.destroy();
  let sum = 0;
  for (const v of nll) sum += v;
  return { bpc: sum / total / Math.LN2, predictions, positions: total };
}

/**
 * Fraction of positions where two decoders predict the same id.
 *
 * @param a Predictions.
 * @param b Predictions.
 * @returns Agreement in [0, 1].
 */
export function agreementOf(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / Math.max(1, a.length);
}
