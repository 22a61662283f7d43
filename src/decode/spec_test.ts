import assert from "node:assert/strict";
import { linearShapes, stepBytes } from "./spec.ts";
import { shapeByName } from "./synthetic.ts";

Deno.test("stepBytes() counts the head, every projection at its density and the KV cache", () => {
  const spec = shapeByName("llama-7b");
  // LLaMA-7B in f16 with an f16 cache at 512 positions: 13.483 GB, as the H200 profiles print.
  const dense = stepBytes(spec, 512, { weightBytes: 2, kvBytes: 2 });
  assert.equal((dense / 1e9).toFixed(3), "13.483");
  const { block } = linearShapes(spec);
  const halfDown = stepBytes(spec, 512, {
    weightBytes: 2,
    kvBytes: 2,
    density: (_, p) => (p === "down" ? 0.5 : 1),
  });
  assert.equal(dense - halfDown, 0.5 * block.down.k * block.down.n * 2 * spec.layers);
  const noCache = stepBytes(spec, 0, { weightBytes: 2, kvBytes: 2 });
  assert.equal(dense - noCache, 2 * 512 * spec.kvHeads * spec.headDim * 2 * spec.layers);
});
