/**
 * Attention-head surgery on an exported transformer: finding how many heads of which size each
 * block splits q, k and v into (from the Reshapes that split and merge them), slicing whole heads
 * out of the q/k/v/out projections, and rewriting the Reshape targets to the new head count.
 *
 * @module
 */

import type { AttentionBlock, Linear } from "../src/onnx/blocks.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import type { ModelProto } from "../src/onnx/model.ts";
import { IntEdits, type TargetDim, targetDims } from "./_reshape_targets.ts";
import { sliceLinear } from "./_weights.ts";

/** An attention block whose four projections are all linears. */
export type FullAttention = AttentionBlock & {
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
};

/** The heads every block has and the Reshape target entries that spell them out. */
export interface HeadLayout {
  /** Heads per block. */
  heads: number;
  /** Head size. */
  headDim: number;
  /** The `heads` entry of every q/k/v split ([batch, tokens, heads, head_dim]). */
  splits: TargetDim[];
  /** The `heads · head_dim` entry of every merge ([batch, tokens, heads · head_dim]). */
  merges: TargetDim[];
}

/**
 * The attention blocks that head surgery can act on (q, k, v and out all found).
 *
 * @param attention The model's attention blocks.
 * @returns Those blocks.
 */
export function fullAttention(attention: readonly AttentionBlock[]): FullAttention[] {
  return attention.filter((a): a is FullAttention => !!(a.q && a.k && a.v && a.out));
}

/**
 * Reads the head layout from the Reshape that splits each projection into heads and the one that
 * merges them after attention; every block must have the same heads and head size.
 *
 * @param model The model.
 * @param blocks Its full attention blocks (at least one).
 * @returns The layout.
 * @throws {Error} Naming the reshape or projection that does not fit.
 */
export function headLayout(model: ModelProto, blocks: readonly FullAttention[]): HeadLayout {
  const idx = new GraphIndex(model.graph!);
  const splitOf = (l: Linear) => {
    const r = idx.soleConsumer(l.output);
    const dims = r?.opType === "Reshape" ? targetDims(idx, r) : undefined;
    return dims?.length === 4 && dims[2] && dims[3] ? { heads: dims[2], dh: dims[3] } : undefined;
  };
  const first = splitOf(blocks[0]!.q);
  if (!first) {
    throw new Error(
      "sparsegpt-structured-heads: cannot find the [batch, tokens, heads, head_dim] reshape of q",
    );
  }
  const heads = first.heads.value;
  const headDim = first.dh.value;
  const layout: HeadLayout = { heads, headDim, splits: [], merges: [] };
  for (const a of blocks) {
    for (const l of [a.q, a.k, a.v]) {
      const sp = splitOf(l);
      if (!sp || sp.heads.value !== heads || sp.dh.value !== headDim) {
        throw new Error(
          `sparsegpt-structured-heads: ${l.name} does not split into ${heads} heads of ${headDim}`,
        );
      }
      layout.splits.push(sp.heads);
    }
    const merge = (idx.consumers.get(a.context.output![0]!) ?? [])
      .flatMap((t) => (t.opType === "Transpose" ? idx.consumers.get(t.output![0]!) ?? [] : []))
      .find((n) => n.opType === "Reshape");
    const width = (merge ? targetDims(idx, merge) : undefined)?.[2];
    if (!width || width.value !== heads * headDim) {
      throw new Error("sparsegpt-structured-heads: cannot find the reshape that merges the heads");
    }
    layout.merges.push(width);
  }
  return layout;
}

/**
 * The input columns of the out projection (and output rows of q, k, v) that belong to heads.
 *
 * @param layout The head layout.
 * @param heads Head indices.
 * @returns Their columns, in the order given.
 */
export function headColumns(layout: HeadLayout, heads: readonly number[]): number[] {
  const dh = layout.headDim;
  return heads.flatMap((hd) => Array.from({ length: dh }, (_, i) => hd * dh + i));
}

/**
 * Keeps only the given head columns of a block: output rows of q, k and v, input columns of out.
 *
 * @param model The model (rewritten in place).
 * @param block The block.
 * @param keep Columns to keep, ascending.
 */
export function sliceHeads(model: ModelProto, block: FullAttention, keep: number[]): void {
  for (const l of [block.out, block.q, block.k, block.v]) {
    sliceLinear(model, new GraphIndex(model.graph!), l, keep, l === block.out ? "in" : "out");
  }
}

/**
 * Rewrites every split and merge Reshape target to `kept` heads (every block keeps the same
 * number, so a target shared by several Reshapes changes once, consistently).
 *
 * @param model The model (rewritten in place).
 * @param layout Its head layout, read before any slicing.
 * @param kept Heads left per block.
 */
export function setHeadCount(model: ModelProto, layout: HeadLayout, kept: number): void {
  const edits = new IntEdits();
  for (const d of layout.splits) edits.set(d.tensor, d.index, kept);
  for (const d of layout.merges) edits.set(d.tensor, d.index, kept * layout.headDim);
  edits.apply(new GraphIndex(model.graph!));
}
