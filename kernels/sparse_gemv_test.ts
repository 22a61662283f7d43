import assert from "node:assert/strict";
import { readBuffer, runOnce, storageBuffer, writeArray } from "./host.ts";
import { roundToHalf } from "./gemv.ts";
import { type ActiveSparseTuning, activeSparseTuningLabel } from "./tuning.ts";
import { createSelect, selectCpu } from "./select.ts";
import {
  activeWeightBuffer,
  createActiveSparseGemv,
  createMaskedSparseGemv,
  createSparseGemv,
  sparseGemvCpu,
  transpose,
} from "./sparse_gemv.ts";
import { gpu, poison, random, relError } from "./_testing.ts";

Deno.test(
  { name: "sparse gemv over the selected rows matches the reference", ignore: !gpu },
  async () => {
    const { device } = gpu!;
    for (const [k, n] of [[512, 128], [101, 37], [640, 192], [2048, 515]] as [number, number][]) {
      const x = random(k, k + n);
      const w = random(n * k, 9); // [n, k] as stored by a MatMul's Gemm, transposed below
      const wt = transpose(w, n, k);
      const bias = random(n, 10);
      const sel = await createSelect(device, {
        label: "sg",
        n: k,
        rule: { kind: "magnitude", threshold: 0.8 },
      });
      writeArray(device, sel.x, x);
      for (const splits of [1, 7, undefined]) {
        const sg = await createSparseGemv(device, {
          label: "sg",
          k,
          n,
          weightT: wt,
          bias,
          idx: sel.idx,
          vals: sel.vals,
          count: sel.count,
          ...(splits ? { splits } : {}),
        });
        poison(sg.y, n * 4);
        await runOnce(device, [sel.dispatch, ...sg.dispatches]);
        const want = sparseGemvCpu(wt, selectCpu(x, { kind: "magnitude", threshold: 0.8 }), {
          n,
          bias,
        });
        const err = relError(await sg.read(), want);
        assert.ok(err <= 1e-5, `${k}x${n} splits ${splits}: ${err}`);
      }
    }
  },
);

Deno.test({
  name:
    "masked sparse gemv (no separate compaction pass) matches the reference for magnitude and value rules",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const [k, n] of [[512, 128], [101, 37], [2051, 515]] as [number, number][]) {
    const x = random(k, k);
    const w = random(n * k, 8);
    const wt = transpose(w, n, k);
    const bias = random(n, 2);
    const xBuf = storageBuffer(device, "x", x);
    for (
      const rule of [{ kind: "magnitude" as const, threshold: 0.6 }, {
        kind: "value" as const,
        threshold: 0,
      }, { kind: "magnitude" as const, threshold: 0.9, scale: random(k, 4).map(Math.abs) }]
    ) {
      for (
        const [splits, unroll, compact, columnsPerThread] of [
          [1, 1, true],
          [5, 2, false],
          [undefined, 4, true],
          [3, undefined, false],
          [undefined, 4, false],
          [3, 2, false, 2],
          [undefined, 1, false, 4],
        ] as const
      ) {
        const sg = await createMaskedSparseGemv(device, {
          label: "masked",
          k,
          n,
          weightT: wt,
          bias,
          x: xBuf,
          rule,
          act: "relu",
          ...(splits ? { splits } : {}),
          ...(unroll ? { unroll } : {}),
          compact,
          ...(columnsPerThread ? { columnsPerThread } : {}),
        });
        poison(sg.y, n * 4);
        await runOnce(device, sg.dispatches);
        const want = sparseGemvCpu(wt, selectCpu(x, rule), { n, bias, act: "relu" });
        assert.ok(
          relError(await sg.read(), want) <= 1e-5,
          `${k}x${n} ${rule.kind} splits ${splits} unroll ${unroll} compact ${compact} cpt ${columnsPerThread}`,
        );
      }
    }
  }
});

const ACTIVE_TUNINGS: ActiveSparseTuning[] = [
  { workgroupSize: 64, lanes: 64, unroll: 1, splits: 1, reduce: "fused" },
  { workgroupSize: 64, lanes: 16, unroll: 2, splits: 3, reduce: "fused" },
  { workgroupSize: 128, lanes: 8, unroll: 4, splits: 7, reduce: "fused" },
  { workgroupSize: 256, lanes: 64, unroll: 8, splits: 5, reduce: "fused" },
  { workgroupSize: 128, lanes: 32, unroll: 8, splits: 4, reduce: "pass" },
];

Deno.test({
  name:
    "active sparse gemv compacting x itself matches the reference (f32 and f16, every rule, every tuning form)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  // Every tuning form, the rules taken in turn (each pipeline takes seconds to compile on
  // llvmpipe).
  for (const [k, n] of [[1030, 261]] as [number, number][]) {
    const x = random(k, k + 1);
    const wt = transpose(random(n * k, 8), n, k);
    const bias = random(n, 2);
    const xBuf = storageBuffer(device, "x", x);
    const rules = [
      { kind: "magnitude" as const, threshold: 0.6 },
      { kind: "value" as const, threshold: 0 },
      { kind: "magnitude" as const, threshold: 0.9, scale: random(k, 4).map(Math.abs) },
      { kind: "magnitude" as const, threshold: -1 },
    ];
    for (const precision of ["f32", "f16"] as const) {
      const w = precision === "f16" ? roundToHalf(wt) : wt;
      const weightBuffer = activeWeightBuffer(device, "wt", { k, n, weightT: wt, precision });
      for (const [t, tuning] of ACTIVE_TUNINGS.entries()) {
        // f16 differs only in the loader and the second half of each chunk: two forms suffice.
        if (precision === "f16" && t !== 3 && t !== 4) continue;
        const r = (t + (precision === "f16" ? 1 : 0)) % rules.length;
        const rule = rules[r]!;
        const sg = await createActiveSparseGemv(device, {
          label: "active",
          k,
          n,
          precision,
          weightBuffer,
          bias,
          act: r % 2 === 0 ? "relu" : "gelu",
          input: { kind: "threshold", x: xBuf, rule },
          tuning,
        });
        poison(sg.y, sg.cols * 4);
        await runOnce(device, sg.dispatches);
        const want = sparseGemvCpu(w, selectCpu(x, rule), {
          n,
          bias,
          act: r % 2 === 0 ? "relu" : "gelu",
        });
        const err = relError(await sg.read(), want);
        assert.ok(
          err <= 1e-5,
          `${k}x${n} ${precision} ${rule.kind} #${r} ${activeSparseTuningLabel(tuning)}: ${err}`,
        );
      }
    }
  }
});

Deno.test({
  name: "active sparse gemv reads a select list on the GPU, activating its values first",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const [k, n] of [[640, 192], [101, 37]] as [number, number][]) {
    const x = random(k, 31);
    const wt = transpose(random(n * k, 32), n, k);
    const rules = [{ kind: "topk" as const, k: 40 }, { kind: "stat-topk" as const, z: 0.3 }];
    for (const [t, tuning] of ACTIVE_TUNINGS.entries()) {
      const rule = rules[t % rules.length]!;
      const sel = await createSelect(device, { label: "list", n: k, rule });
      writeArray(device, sel.x, x);
      const sg = await createActiveSparseGemv(device, {
        label: "active list",
        k,
        n,
        weightT: wt,
        input: { kind: "list", idx: sel.idx, vals: sel.vals, count: sel.count, valsAct: "silu" },
        tuning,
      });
      poison(sg.y, sg.cols * 4);
      await runOnce(device, [sel.dispatch, ...sg.dispatches]);
      const want = sparseGemvCpu(wt, selectCpu(x, rule), { n, actOnVals: "silu" });
      const err = relError(await sg.read(), want);
      assert.ok(err <= 1e-5, `${k}x${n} ${rule.kind} ${activeSparseTuningLabel(tuning)}: ${err}`);
    }
  }
});

Deno.test({
  name:
    "active sparse gemv gives bitwise the same output run after run (counters reset) and leaves partials that add up",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const [k, n] = [1030, 260];
  const x = random(k, 41);
  const wt = transpose(random(n * k, 42), n, k);
  const xBuf = storageBuffer(device, "x", x);
  const rule = { kind: "magnitude" as const, threshold: 0.3 };
  const want = sparseGemvCpu(wt, selectCpu(x, rule), { n });
  const tuning = { workgroupSize: 64, lanes: 16, unroll: 4, splits: 6, reduce: "fused" as const };
  const sg = await createActiveSparseGemv(device, {
    label: "repeat",
    k,
    n,
    weightT: wt,
    input: { kind: "threshold", x: xBuf, rule },
    tuning,
  });
  await runOnce(device, sg.dispatches);
  const first = await sg.read();
  assert.ok(relError(first, want) <= 1e-5);
  await runOnce(device, [...sg.dispatches, ...sg.dispatches, ...sg.dispatches]);
  assert.deepEqual([...await sg.read()], [...first]);

  const p = await createActiveSparseGemv(device, {
    label: "partials",
    k,
    n,
    weightT: wt,
    input: { kind: "threshold", x: xBuf, rule },
    tuning,
    output: "partials",
  });
  await runOnce(device, p.dispatches);
  const parts = new Float32Array(
    await readBuffer(device, p.partials, p.partialsOffset + p.splits * p.cols * 4),
  ).subarray(p.partialsOffset / 4);
  const sum = new Float32Array(n);
  for (let s = 0; s < p.splits; s++) {
    for (let c = 0; c < n; c++) sum[c]! += parts[s * p.cols + c]!;
  }
  assert.ok(relError(sum, want) <= 1e-5);
});

Deno.test({
  name: "active sparse gemv refuses a tuning it cannot take with a one-line error",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  await assert.rejects(
    () =>
      createActiveSparseGemv(device, {
        label: "bad",
        k: 8,
        n: 8,
        weightT: new Float32Array(64),
        input: {
          kind: "threshold",
          x: storageBuffer(device, "x", 32),
          rule: { kind: "value", threshold: 0 },
        },
        tuning: { workgroupSize: 96, lanes: 8, unroll: 3, splits: 1, reduce: "fused" },
      }),
    (e: Error) =>
      e instanceof RangeError && /bad: .*power-of-two/.test(e.message) && !e.message.includes("\n"),
  );
});
