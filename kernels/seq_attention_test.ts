import assert from "node:assert/strict";
import { readBuffer, runOnce, storageBuffer } from "./host.ts";
import { createSeqAttention, seqAttentionCpu } from "./seq_attention.ts";
import { gpu, poison, random, relError } from "./_testing.ts";

Deno.test(
  {
    name: "seq attention matches the reference over whole sequences, heads and lengths varied",
    ignore: !gpu,
  },
  async () => {
    const { device } = gpu!;
    // A ViT's shape, a pruned one (fewer tokens and heads), and odd sizes.
    const shapes = [[197, 4, 32], [61, 2, 32], [7, 3, 5], [1, 1, 16]];
    for (const [tokens, heads, headDim] of shapes as [number, number, number][]) {
      const d = heads * headDim;
      const qkv = random(tokens * 3 * d, tokens + heads);
      const shape = { tokens, heads, headDim, scale: 1 / Math.sqrt(headDim) };
      const out = storageBuffer(device, "attention out", tokens * d * 4);
      poison(out, tokens * d * 4);
      const dispatch = await createSeqAttention(device, {
        label: "attention",
        ...shape,
        qkv: storageBuffer(device, "qkv", qkv),
        out,
      });
      await runOnce(device, [dispatch]);
      const got = new Float32Array(await readBuffer(device, out, tokens * d * 4));
      const err = relError(got, seqAttentionCpu(qkv, shape));
      assert.ok(err <= 1e-5, `T ${tokens}, ${heads} heads of ${headDim}: ${err}`);
    }
  },
);

Deno.test("seqAttentionCpu() puts a one-token sequence's value through unchanged", () => {
  const qkv = Float32Array.from([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    [...seqAttentionCpu(qkv, { tokens: 1, heads: 1, headDim: 2, scale: 1 })],
    [5, 6],
  );
});
