import assert from "node:assert/strict";
import { gatedCpu } from "./ffn.ts";
import { runOnce } from "./host.ts";
import {
  channelScoresCpu,
  createRSparseFfn,
  type RSparseFfn,
  rSparseFfnCpu,
  type RSparseLinear,
} from "./r_sparse_ffn.ts";
import { transpose } from "./sparse_gemv.ts";
import { defaultTuning } from "./tuning.ts";
import { gpu, random, relError } from "./_testing.ts";

const d = 48, h = 160;
const gate = random(h * d, 51), up = random(h * d, 52), down = random(d * h, 53);

function linear(weight: Float32Array, rank: number, inFeatures: number, outFeatures: number) {
  return (threshold: number, seed: number): RSparseLinear => ({
    weight,
    rank,
    a: random(inFeatures * rank, seed).map((v) => v / Math.sqrt(inFeatures)),
    b: random(rank * outFeatures, seed + 1).map((v) => v / Math.sqrt(rank)),
    threshold,
  });
}

/** The median score of each linear on one input: about half the channels kept. */
function halfKept(x: Float32Array): RSparseFfn {
  const median = (s: Float32Array) => Float32Array.from(s).sort()[s.length >> 1]!;
  const gateOf = linear(gate, 8, d, h), upOf = linear(up, 8, d, h);
  const downOf = linear(down, 16, h, d);
  const tg = median(channelScoresCpu(gate, x, { rows: h, cols: d }));
  const tu = median(channelScoresCpu(up, x, { rows: h, cols: d }));
  const f: RSparseFfn = {
    d,
    h,
    act: "silu",
    gate: gateOf(tg, 60),
    up: upOf(tu, 62),
    down: downOf(0, 64),
  };
  const hidden = rSparseFfnCpu(f, x).hidden;
  f.down.threshold = median(channelScoresCpu(down, hidden, { rows: d, cols: h }));
  return f;
}

Deno.test("R-Sparse's FFN with every channel kept is the dense gated FFN on the CPU", () => {
  const x = random(d, 54);
  const f = halfKept(x);
  for (const l of [f.gate, f.up, f.down]) l.threshold = -1;
  const { y, kept } = rSparseFfnCpu(f, x);
  assert.deepEqual(kept, [d, d, h]);
  const dense = gatedCpu({ d, h, gate, up, down, act: "silu" }, x);
  assert.ok(relError(y, dense) < 1e-5);
});

Deno.test("R-Sparse's FFN with every channel dropped and an exact factor is the dense FFN", () => {
  // A = I, B = W (x·W layout): the low-rank path alone reproduces each linear.
  const exact = (weight: Float32Array, rows: number, cols: number): RSparseLinear => {
    const a = new Float32Array(cols * cols);
    for (let j = 0; j < cols; j++) a[j * cols + j] = 1;
    return { weight, rank: cols, a, b: transpose(weight, rows, cols), threshold: Infinity };
  };
  const f: RSparseFfn = {
    d,
    h,
    act: "silu",
    gate: exact(gate, h, d),
    up: exact(up, h, d),
    down: exact(down, d, h),
  };
  const x = random(d, 55);
  const { y, kept } = rSparseFfnCpu(f, x);
  assert.deepEqual(kept, [0, 0, 0]);
  assert.ok(relError(y, gatedCpu({ d, h, gate, up, down, act: "silu" }, x)) < 1e-5);
});

Deno.test("R-Sparse's FFN differs from dense once channels go through a random low-rank path", () => {
  const x = random(d, 56);
  const f = halfKept(x);
  const { y, kept } = rSparseFfnCpu(f, x);
  assert.ok(kept.every((k, i) => k > 0 && k < [d, d, h][i]!), `kept ${kept}`);
  assert.ok(relError(y, gatedCpu({ d, h, gate, up, down, act: "silu" }, x)) > 1e-3);
});

Deno.test({
  name: "R-Sparse's FFN plan matches its CPU reference on the device, masked and selected",
  ignore: !gpu,
}, async () => {
  const { device, facts } = gpu!;
  const base = defaultTuning(facts);
  const f = halfKept(random(d, 57));
  for (const tuning of [{ ...base, masked: true }, { ...base, masked: false }]) {
    const p = await createRSparseFfn(device, `r-sparse masked=${tuning.masked}`, f, tuning);
    // Fresh inputs against the fixed (calibrated) thresholds, as a decode step sees them.
    for (const seed of [70, 71, 72]) {
      const x = random(d, seed);
      p.writeInput(x);
      await runOnce(device, p.dispatches);
      const want = rSparseFfnCpu(f, x);
      assert.ok(want.kept.every((k, i) => k > 0 && k < [d, d, h][i]!), `kept ${want.kept}`);
      const err = relError(await p.read(), want.y);
      assert.ok(err < 1e-4, `masked=${tuning.masked} seed ${seed}: relative error ${err}`);
    }
  }
});

Deno.test({
  name: "R-Sparse's FFN plan refuses a rank the GEMVs cannot read",
  ignore: !gpu,
}, async () => {
  const { device, facts } = gpu!;
  const x = random(d, 58);
  const f = halfKept(x);
  f.gate = { ...f.gate, rank: 6, a: f.gate.a.subarray(0, d * 6), b: f.gate.b.subarray(0, 6 * h) };
  await assert.rejects(
    () => createRSparseFfn(device, "r-sparse rank 6", f, defaultTuning(facts)),
    /multiple of 4/,
  );
});
