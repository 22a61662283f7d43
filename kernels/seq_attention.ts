/**
 * Self-attention over a whole token sequence (encoders, batch 1): host for `seq_attention.wgsl`
 * and the CPU reference. q, k and v are packed in one [T, 3·D] buffer (D = heads · head_dim).
 *
 * @module
 */

import seqAttentionSource from "./seq_attention.wgsl" with { type: "text" };
import { bindAll, createPipeline, type Dispatch, packUniform, uniformBuffer } from "./host.ts";

/** The longest sequence the kernel takes (its grid's x dimension, 64 invocations a workgroup). */
export const SEQ_ATTENTION_MAX_TOKENS = 65535 * 8;

/** Shape of one attention. */
export interface SeqAttentionShape {
  /** Tokens T. */
  tokens: number;
  /** Heads. */
  heads: number;
  /** Head size. */
  headDim: number;
  /** Factor on q·k (1/√head_dim in a standard transformer). */
  scale: number;
}

/**
 * CPU reference: out[i, h] = softmax_j(q_i,h · k_j,h · scale) · v_h (in double precision).
 *
 * @param qkv [T, 3·D]: q, k, v of each token side by side, heads side by side within each.
 * @param shape The shape.
 * @returns out [T, D].
 */
export function seqAttentionCpu(qkv: Float32Array, shape: SeqAttentionShape): Float32Array {
  const { tokens: t, heads, headDim: dh, scale } = shape;
  const d = heads * dh;
  const out = new Float32Array(t * d);
  const p = new Float64Array(t);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < t; i++) {
      let mx = -Infinity;
      for (let j = 0; j < t; j++) {
        let dot = 0;
        for (let c = 0; c < dh; c++) {
          dot += qkv[i * 3 * d + h * dh + c]! * qkv[j * 3 * d + d + h * dh + c]!;
        }
        p[j] = dot * scale;
        mx = Math.max(mx, p[j]!);
      }
      let sum = 0;
      for (let j = 0; j < t; j++) sum += p[j] = Math.exp(p[j]! - mx);
      for (let c = 0; c < dh; c++) {
        let acc = 0;
        for (let j = 0; j < t; j++) acc += p[j]! * qkv[j * 3 * d + 2 * d + h * dh + c]!;
        out[i * d + h * dh + c] = acc / sum;
      }
    }
  }
  return out;
}

/** A dispatch whose token count can change between runs (after token pruning). */
export interface TokenDispatch extends Dispatch {
  /** Sets the tokens of the next runs (at most those it was created for): uniform and grid. */
  setTokens(tokens: number): void;
}

/**
 * Creates a sequence attention reading `qkv` and writing `out`.
 *
 * @param device The device.
 * @param options Label, shape, and the two buffers ([T, 3·D] and [T, D] floats at least).
 * @returns The dispatch (per query token and head, one invocation per 8 head dimensions).
 * @throws {RangeError} When the sequence is longer than {@linkcode SEQ_ATTENTION_MAX_TOKENS}.
 */
export async function createSeqAttention(
  device: GPUDevice,
  options: SeqAttentionShape & { label: string; qkv: GPUBuffer; out: GPUBuffer },
): Promise<TokenDispatch> {
  if (options.tokens > SEQ_ATTENTION_MAX_TOKENS) {
    throw new RangeError(
      `${options.label}: ${options.tokens} tokens exceed the sequence attention's ${SEQ_ATTENTION_MAX_TOKENS}; shorten the sequence`,
    );
  }
  const pipeline = await createPipeline(device, {
    label: `${options.label} seq-attention`,
    code: seqAttentionSource,
  });
  const words = (tokens: number) =>
    packUniform([{ u32: tokens }, { u32: options.heads }, { u32: options.headDim }, {
      f32: options.scale,
    }]);
  const dims = uniformBuffer(device, `${options.label} attention dims`, words(options.tokens));
  const made = options.tokens;
  const grid = (tokens: number) => Math.ceil((tokens * Math.ceil(options.headDim / 8)) / 64);
  const dispatch: TokenDispatch = {
    pipeline,
    bindGroup: bindAll(device, pipeline, `${options.label} attention`, [
      options.qkv,
      options.out,
      dims,
    ]),
    workgroups: [grid(options.tokens), options.heads, 1],
    setTokens(tokens) {
      if (!(tokens >= 1 && tokens <= made)) {
        throw new RangeError(`${options.label}: ${tokens} tokens (want 1 to ${made})`);
      }
      device.queue.writeBuffer(dims, 0, words(tokens));
      dispatch.workgroups[0] = grid(tokens);
    },
  };
  return dispatch;
}
