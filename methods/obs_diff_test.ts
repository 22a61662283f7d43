import assert from "node:assert/strict";
import { createRng } from "../lib/prng.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { createBackend } from "../src/backends/mod.ts";
import type { Captured } from "../src/method.ts";
import { decodeModel, encodeModel, type ModelProto } from "../src/onnx/model.ts";
import { cloneModel } from "../src/onnx/rewriter.ts";
import { readWeight } from "./_weights.ts";
import {
  type DiffusionMethodContext,
  obsDiffMethod,
  rowWeights,
  timestepWeights,
  transformerBlocks,
} from "./obs_diff.ts";

Deno.test("obs-diff's timestep weights fall logarithmically from 1.2 at the first step to 0.8 at the last", () => {
  const w = timestepWeights(10, "log");
  assert.equal(w.length, 10);
  assert.ok(Math.abs(w[0]! - 1.2) < 1e-12 && Math.abs(w[9]! - 0.8) < 1e-12);
  for (let k = 0; k < 10; k++) {
    assert.ok(Math.abs(w[k]! - (0.8 + 0.4 * Math.log(10 - k) / Math.log(10))) < 1e-12);
    if (k > 0) assert.ok(w[k]! < w[k - 1]!, "decreasing");
  }
  // Logarithmic: the drops grow towards the last steps.
  assert.ok(w[8]! - w[9]! > w[0]! - w[1]!);
  assert.deepEqual([...timestepWeights(5, "uniform")], [1, 1, 1, 1, 1]);
  assert.deepEqual([...rowWeights(6, 3, Float64Array.of(3, 2, 1))], [3, 3, 2, 2, 1, 1]);
  assert.throws(() => rowWeights(7, 3, Float64Array.of(3, 2, 1)), /equal steps/);
});

const DIT = `${REPO_ROOT}models/dit-mnist.onnx`;

/** A trajectory capture over two "steps" of seeded random inputs, on ort-node. */
async function context(
  model: ModelProto,
  params: Record<string, string | number>,
  sparsity: number,
): Promise<DiffusionMethodContext> {
  const backend = await createBackend("ort-node");
  const b = 3;
  const rng = createRng(5);
  const x = Float32Array.from({ length: b * 784 }, () => rng.normal());
  const feeds = (t: number) => ({
    x_t: { type: "float32" as const, data: x, dims: [b, 1, 28, 28] },
    t: { type: "float32" as const, data: new Float32Array(b).fill(t), dims: [b] },
    class: { type: "int64" as const, data: BigInt64Array.of(1n, 4n, 7n), dims: [b] },
  });
  const captureTrajectory = async (m: ModelProto, values: string[]) => {
    const probe = cloneModel(m);
    for (const v of values) probe.graph!.output!.push({ name: v });
    const loaded = await backend.load(encodeModel(probe), { label: "probe", feeds: feeds(900) });
    const out = new Map<string, Captured>();
    for (const t of [900, 100]) {
      const got = await loaded.run(feeds(t));
      for (const v of values) {
        const c = got[v]!;
        const prev = out.get(v)?.data ?? new Float32Array(0);
        const data = new Float32Array(prev.length + c.data.length);
        data.set(prev);
        data.set(c.data as Float32Array, prev.length);
        out.set(v, { data, width: c.dims[c.dims.length - 1]! });
      }
    }
    await loaded.release();
    return { values: out, steps: 2 };
  };
  return {
    model,
    sparsity,
    params,
    seed: 0,
    capture: async (m, v) => (await captureTrajectory(m, v)).values,
    valueShape: () => undefined,
    captureTrajectory,
  };
}

async function runs(model: ModelProto): Promise<Float32Array> {
  const backend = await createBackend("ort-node");
  const feeds = {
    x_t: { type: "float32" as const, data: new Float32Array(784).fill(0.1), dims: [1, 1, 28, 28] },
    t: { type: "float32" as const, data: Float32Array.of(500), dims: [1] },
    class: { type: "int64" as const, data: BigInt64Array.of(2n), dims: [1] },
  };
  const m = await backend.load(encodeModel(model), { label: "variant", feeds });
  const out = (await m.run(feeds)).eps!;
  await m.release();
  assert.deepEqual(out.dims, [1, 1, 28, 28]);
  return out.data as Float32Array;
}

Deno.test("obs-diff prunes every block linear of dit-mnist to the asked sparsity, and 2:4 keeps 2 of every 4", async () => {
  const dense = decodeModel(await Deno.readFile(DIT));
  const blocks = transformerBlocks(dense);
  assert.equal(blocks.length, 4, "four attention + FFN blocks (the timestep MLP is no block)");
  for (const granularity of ["unstructured", "2:4"]) {
    const model = cloneModel(dense);
    const plan = await obsDiffMethod.prepare(await context(model, { granularity }, 0.5));
    assert.equal(plan.notes!.trajectory_passes, 2, "two groups, one trajectory pass each");
    for (const b of transformerBlocks(model)) {
      for (
        const l of [
          b.attention.q,
          b.attention.k,
          b.attention.v,
          b.attention.out,
          b.ffn.up,
          b.ffn.down,
        ]
      ) {
        const w = readWeight(model, l);
        const zeros = w.filter((v) => v === 0).length;
        assert.equal(zeros, w.length / 2, `${granularity} ${l.name}`);
        if (granularity === "2:4") {
          for (let r = 0; r < l.outFeatures; r++) {
            for (let j = 0; j < l.inFeatures; j += 4) {
              let z = 0;
              for (let i = j; i < j + 4; i++) if (w[r * l.inFeatures + i] === 0) z++;
              assert.ok(z >= 2, `${l.name} row ${r} group ${j}`);
            }
          }
        }
      }
    }
    assert.ok((await runs(model)).every(Number.isFinite));
  }
});

Deno.test("obs-diff slices heads and FFN neurons into smaller matrices that ORT runs", async () => {
  const dense = decodeModel(await Deno.readFile(DIT));
  const heads = cloneModel(dense);
  await obsDiffMethod.prepare(await context(heads, { granularity: "heads" }, 0.25));
  for (const b of transformerBlocks(heads)) {
    assert.equal(b.attention.q.outFeatures, 72, "3 of 4 heads of 24 kept");
    assert.equal(b.attention.out.inFeatures, 72);
  }
  assert.ok((await runs(heads)).every(Number.isFinite));
  const neurons = cloneModel(dense);
  const plan = await obsDiffMethod.prepare(
    await context(neurons, { granularity: "neurons", weighting: "uniform" }, 0.5),
  );
  for (const b of transformerBlocks(neurons)) assert.equal(b.ffn.hiddenSize, 192);
  assert.ok(Number(plan.extra!.compression_ratio) > 1);
  assert.ok((await runs(neurons)).every(Number.isFinite));
});

Deno.test("obs-diff refuses a model suite's context and a head sparsity that removes no head", async () => {
  const dense = decodeModel(await Deno.readFile(DIT));
  const ctx = await context(cloneModel(dense), { granularity: "heads" }, 0.1);
  await assert.rejects(() => obsDiffMethod.prepare(ctx), /removes 0/);
  const { captureTrajectory: _, ...plain } = ctx;
  await assert.rejects(() => obsDiffMethod.prepare(plain), /trajectory capture/);
});
