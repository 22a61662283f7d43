/**
 * What a ViT encoder's forward pass is, independent of where it came from: patch embedding,
 * class token and positional embedding, pre-LayerNorm blocks of multi-head self-attention and an
 * MLP, the final norm and the classifier on the class token. Pruned models are specs too: fewer
 * heads in a block, fewer FFN neurons, and a gather of kept tokens after one block.
 *
 * @module
 */

/** A linear layer y = x·Wᵀ + b. */
export interface VitLinear {
  /** Weight [outFeatures, inFeatures], row-major. */
  weight: Float32Array;
  /** Bias [outFeatures]. */
  bias?: Float32Array;
  /** Output features. */
  outFeatures: number;
  /** Input features. */
  inFeatures: number;
}

/** A LayerNorm over the last axis. */
export interface VitNorm {
  /** Scale [width]. */
  weight: Float32Array;
  /** Shift [width]. */
  bias: Float32Array;
  /** Epsilon. */
  eps: number;
}

/** One pre-LayerNorm encoder block: x += proj(attn(norm1(x))); x += down(act(up(norm2(x)))). */
export interface VitBlock {
  /** Norm before attention. */
  norm1: VitNorm;
  /** q, k and v stacked: rows [0, D) are q, [D, 2D) k, [2D, 3D) v (D = heads · headDim). */
  qkv: VitLinear;
  /** Heads (after any head pruning). */
  heads: number;
  /** Head size. */
  headDim: number;
  /** Factor on q·k (1/√headDim unless the exporter folded it elsewhere). */
  scale: number;
  /** Output projection, D → width. */
  proj: VitLinear;
  /** Norm before the MLP. */
  norm2: VitNorm;
  /** MLP up projection (any number of neurons kept). */
  up: VitLinear;
  /** MLP down projection. */
  down: VitLinear;
  /** MLP activation. */
  act: "relu" | "gelu";
}

/** A ViT classifier, batch 1. */
export interface VitSpec {
  /** Input image: channels, height, width. */
  image: { channels: number; height: number; width: number };
  /** Patch side (stride = side, no padding). */
  patchSize: number;
  /** Patch embedding: [width, channels · patch²] (channel, row, column order) and bias. */
  patch: VitLinear;
  /** Class token [width]. */
  cls: Float32Array;
  /** Positional embedding [tokens, width] (class token first). */
  pos: Float32Array;
  /** Tokens: patches + 1. */
  tokens: number;
  /** Residual width. */
  width: number;
  /** Blocks in order. */
  blocks: VitBlock[];
  /** Final norm (applied to the class token). */
  norm: VitNorm;
  /** Classifier head. */
  head: VitLinear;
  /**
   * Token pruning: after this block only some tokens go on (chosen per input; the class token
   * stays first). `indices` names the graph value holding them, when imported from ONNX.
   */
  gatherAfter?: { block: number; indices?: string };
}

/**
 * The patches of an image as GEMM rows, with two indicator columns that fold the class token and
 * the patch bias into the patch GEMM: row 0 = [0…0, 1, 0] (the class token), row t ≥ 1 = [patch
 * t − 1, 0, 1]; the matching weight is [patch weight | cls | patch bias] ({@linkcode patchWeight}).
 *
 * @param spec The model.
 * @param pixels One image, [channels, height, width].
 * @returns Rows [tokens, channels · patch² + 2].
 */
export function patchRows(spec: VitSpec, pixels: Float32Array): Float32Array {
  const { channels, height, width } = spec.image;
  const p = spec.patchSize;
  const k = channels * p * p;
  const across = Math.floor(width / p);
  const rows = new Float32Array(spec.tokens * (k + 2));
  rows[k] = 1;
  for (let t = 1; t < spec.tokens; t++) {
    const py = Math.floor((t - 1) / across);
    const px = (t - 1) % across;
    const o = t * (k + 2);
    let c = 0;
    for (let ch = 0; ch < channels; ch++) {
      for (let ky = 0; ky < p; ky++) {
        for (let kx = 0; kx < p; kx++) {
          rows[o + c++] = pixels[(ch * height + py * p + ky) * width + px * p + kx]!;
        }
      }
    }
    rows[o + k + 1] = 1;
  }
  return rows;
}

/**
 * The patch GEMM's weight for {@linkcode patchRows}: [width, k + 2] = [patch weight | cls | bias].
 *
 * @param spec The model.
 * @returns The weight, row-major.
 */
export function patchWeight(spec: VitSpec): Float32Array {
  const k = spec.patch.inFeatures;
  const w = new Float32Array(spec.width * (k + 2));
  for (let o = 0; o < spec.width; o++) {
    w.set(spec.patch.weight.subarray(o * k, (o + 1) * k), o * (k + 2));
    w[o * (k + 2) + k] = spec.cls[o]!;
    w[o * (k + 2) + k + 1] = spec.patch.bias?.[o] ?? 0;
  }
  return w;
}
