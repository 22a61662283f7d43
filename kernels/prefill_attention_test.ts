import assert from "node:assert/strict";
import { acquireGpu } from "./gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { readBuffer, runOnce, storageBuffer } from "./host.ts";
import { relativeError } from "./relative_error.ts";
import { stateWords } from "./next_token.ts";
import { createPrefillAttention, prefillAttentionCpu } from "./prefill_attention.ts";

const gpu = await acquireGpu().catch(() => undefined);

Deno.test({
  name:
    "prefill_attention matches its reference: causal over the cache, grouped-query heads, a head size not a multiple of 8, f32 and f16 caches",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const rng = createRng(11);
  for (
    const [heads, kvHeads, headDim, pos, rows, f16] of [
      [4, 2, 16, 3, 5, 0],
      [2, 2, 12, 0, 7, 0],
      [4, 2, 16, 3, 5, 1],
      [2, 2, 12, 2, 7, 1],
    ]
  ) {
    const kvDtype = f16 ? "f16" as const : "f32" as const;
    const shape = { rows: rows!, heads: heads!, kvHeads: kvHeads!, headDim: headDim!, scale: 0.3 };
    const positions = pos! + rows!;
    const kvd = kvHeads! * headDim!;
    const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const q = rand(rows! * heads! * headDim!);
    // An f16 cache holds its values rounded; the reference reads the same rounded values.
    const stored = (x: Float32Array) => (f16 ? x.map((y) => Math.f16round(y)) : x);
    const k = stored(rand(positions * kvd));
    const v = stored(rand(positions * kvd));
    const cache = (x: Float32Array, name: string) =>
      storageBuffer(device, name, f16 ? new Float16Array(x) : x);
    const state = storageBuffer(
      device,
      "state",
      stateWords({ pos: pos!, wrapStart: 0, wrapEnd: 64, prompt: 0 }),
    );
    const attn = await createPrefillAttention(device, {
      label: "test",
      ...shape,
      q: storageBuffer(device, "q", q),
      kcache: cache(k, "k"),
      vcache: cache(v, "v"),
      state,
      kvDtype,
    });
    await runOnce(device, [attn.dispatch]);
    const got = new Float32Array(await readBuffer(device, attn.out, q.length * 4));
    const e = relativeError(got, prefillAttentionCpu(q, k, v, { ...shape, pos: pos! }));
    assert.ok(e <= 1e-5, `${kvDtype} heads ${heads}/${kvHeads} hd ${headDim}: relative error ${e}`);
  }
});
