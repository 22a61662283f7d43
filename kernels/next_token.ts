/**
 * The end of a decoding step on the GPU: greedy argmax → next id, optional −log p of the known
 * next id, position advance (`next_token.wgsl`), with the decoder state layout and CPU reference.
 *
 * @module
 */

import source from "./next_token.wgsl" with { type: "text" };
import { bindAll, createPipeline, type Dispatch, packUniform, uniformBuffer } from "./host.ts";

/** The decoder's state buffer: four u32 words. */
export interface DecodeState {
  /** Position of the token the next step reads. */
  pos: number;
  /** Where the position wraps back to. */
  wrapStart: number;
  /** The position that wraps (a step at wrapEnd − 1 is followed by one at wrapStart). */
  wrapEnd: number;
  /** Prompt length: ids below it are given, not generated. */
  prompt: number;
}

/**
 * The state as the kernels read it.
 *
 * @param s State.
 * @returns Four u32 words.
 */
export function stateWords(s: DecodeState): Uint32Array {
  return Uint32Array.of(s.pos, s.wrapStart, s.wrapEnd, s.prompt);
}

/**
 * CPU reference of one step's end.
 *
 * @param logits Logits.
 * @param state State (advanced in place).
 * @param ids Sequence (the next id written in place unless given by the prompt).
 * @returns The argmax and, when the next id is known, −log softmax(logits)[next].
 */
export function nextTokenCpu(
  logits: Float32Array,
  state: DecodeState,
  ids: Uint32Array,
): { argmax: number; nll?: number } {
  let best = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
  let nll: number | undefined;
  if (state.pos + 1 < state.prompt) {
    let e = 0;
    for (const v of logits) e += Math.exp(v - logits[best]!);
    nll = logits[best]! + Math.log(e) - logits[ids[state.pos + 1]!]!;
  }
  let next = state.pos + 1;
  if (next >= state.wrapEnd) next = state.wrapStart;
  if (next >= state.prompt) ids[next] = best;
  state.pos = next;
  return nll === undefined ? { argmax: best } : { argmax: best, nll };
}

/**
 * Creates the step end.
 *
 * @param device The device.
 * @param options Vocabulary size, buffers, and whether to write −log p.
 * @returns The dispatch.
 */
export async function createNextToken(
  device: GPUDevice,
  options: {
    label: string;
    vocab: number;
    logits: GPUBuffer;
    state: GPUBuffer;
    ids: GPUBuffer;
    nll: GPUBuffer;
    /** Argmax per position, written with the NLL. */
    preds: GPUBuffer;
    withNll?: boolean;
    workgroupSize?: number;
  },
): Promise<Dispatch> {
  const pipeline = await createPipeline(device, {
    label: `${options.label} next_token`,
    code: source,
    constants: { WG: options.workgroupSize ?? 256, NLL: options.withNll ? 1 : 0 },
  });
  const params = uniformBuffer(
    device,
    `${options.label} next params`,
    packUniform([{ u32: options.vocab }, { u32: 0 }, { u32: 0 }, { u32: 0 }]),
  );
  return {
    pipeline,
    bindGroup: bindAll(device, pipeline, `${options.label} next`, [
      options.logits,
      options.state,
      options.ids,
      options.nll,
      params,
      options.preds,
    ]),
    workgroups: [1, 1, 1],
  };
}
