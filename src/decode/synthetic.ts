/**
 * Speed-only models at named real shapes, with seeded weights generated on the GPU: their
 * outputs mean nothing, their bytes and dispatches are those of the real model.
 *
 * @module
 */

import type { DecoderSpec } from "./spec.ts";

const LLAMA = {
  maxPositions: 4096,
  norm: "rms",
  eps: 1e-5,
  positions: { kind: "rope", base: 10000 },
  ffn: "gated",
  act: "silu",
  vocab: 32000,
} as const;

/** The named shapes. */
export const SHAPES: Readonly<Record<string, DecoderSpec>> = {
  "llama-7b": {
    id: "llama-7b",
    layers: 32,
    d: 4096,
    heads: 32,
    kvHeads: 32,
    headDim: 128,
    ff: 11008,
    ...LLAMA,
  },
  "llama-13b": {
    id: "llama-13b",
    layers: 40,
    d: 5120,
    heads: 40,
    kvHeads: 40,
    headDim: 128,
    ff: 13824,
    ...LLAMA,
  },
  // LLaMA-7B's width with 2 of its 32 layers: the decode step the ORT-web peer runs at 7B width
  // (`models/export_llama_slice.py` writes the same architecture as ONNX).
  "llama-7b-2l": {
    id: "llama-7b-2l",
    layers: 2,
    d: 4096,
    heads: 32,
    kvHeads: 32,
    headDim: 128,
    ff: 11008,
    ...LLAMA,
  },
  // A small LLaMA-architecture shape with grouped-query attention, for tests on CPU adapters.
  "llama-tiny": {
    id: "llama-tiny",
    layers: 2,
    d: 128,
    heads: 4,
    kvHeads: 2,
    headDim: 32,
    ff: 352,
    ...LLAMA,
    vocab: 256,
    maxPositions: 256,
  },
};

/**
 * The shape of a name.
 *
 * @param name Shape name.
 * @returns The architecture.
 * @throws {RangeError} For an unknown name, listing the known ones.
 */
export function shapeByName(name: string): DecoderSpec {
  const s = SHAPES[name];
  if (!s) {
    throw new RangeError(`Unknown shape "${name}" (known: ${Object.keys(SHAPES).join(", ")})`);
  }
  return s;
}
