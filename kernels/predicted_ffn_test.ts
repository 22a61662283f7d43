import assert from "node:assert/strict";
import { runOnce } from "./host.ts";
import { gatedCpu } from "./ffn.ts";
import { createPredictedFfn, type PredictedFfn, predictedFfnCpu } from "./predicted_ffn.ts";
import { defaultTuning } from "./tuning.ts";
import { gpu, random, relError } from "./_testing.ts";

function ffn(predictor: PredictedFfn["predictor"], rule: PredictedFfn["rule"]): PredictedFfn {
  const d = 48, h = 160;
  return {
    d,
    h,
    gate: random(h * d, 31),
    up: random(h * d, 32),
    down: random(d * h, 33),
    predictor,
    rule,
  };
}

const slice = (r: number, gate: Float32Array, d: number, h: number) => {
  const weight = new Float32Array(h * r);
  for (let i = 0; i < h; i++) weight.set(gate.subarray(i * d, i * d + r), i * r);
  return { kind: "slice" as const, r, weight };
};

Deno.test("a predictor that keeps every neuron reproduces the dense gated FFN on the CPU", () => {
  const f = ffn({ kind: "slice", r: 0, weight: new Float32Array(0) }, { kind: "topk", k: 160 });
  f.predictor = slice(16, f.gate, f.d, f.h);
  const x = random(f.d, 34);
  const { y, idx } = predictedFfnCpu(f, x);
  assert.equal(idx.length, f.h);
  const dense = gatedCpu({ d: f.d, h: f.h, gate: f.gate, up: f.up, down: f.down, act: "silu" }, x);
  assert.ok(relError(y, dense) < 1e-5);
});

Deno.test({
  name: "Spark's and Deja Vu's predicted FFNs match their CPU references on the device",
  ignore: !gpu,
}, async () => {
  const { device, facts } = gpu!;
  const base = ffn({ kind: "slice", r: 0, weight: new Float32Array(0) }, { kind: "topk", k: 1 });
  const cases: PredictedFfn[] = [
    // Spark at 8 %: z = Φ⁻¹(0.92).
    {
      ...base,
      predictor: slice(24, base.gate, base.d, base.h),
      rule: { kind: "stat-topk", z: 1.405 },
    },
    {
      ...base,
      predictor: {
        kind: "mlp",
        p: 16,
        w1: random(16 * base.d, 35),
        b1: random(16, 36),
        w2: random(base.h * 16, 37),
        b2: random(base.h, 38),
      },
      rule: { kind: "topk", k: 13, signed: true },
    },
  ];
  for (const tuning of [undefined, defaultTuning(facts)]) {
    for (const [i, f] of cases.entries()) {
      const p = await createPredictedFfn(device, `predicted ${i}`, f, tuning);
      for (const seed of [40, 41]) {
        const x = random(f.d, seed + i);
        p.writeInput(x);
        await runOnce(device, p.dispatches);
        const want = predictedFfnCpu(f, x);
        assert.equal(await p.readCount(), want.idx.length, `${f.predictor.kind} count`);
        assert.ok(want.idx.length > 0 && want.idx.length < f.h);
        const err = relError(await p.read(), want.y);
        assert.ok(err < 1e-4, `${f.predictor.kind}: relative error ${err}`);
      }
    }
  }
});
