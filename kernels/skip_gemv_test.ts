import assert from "node:assert/strict";
import { acquireGpu } from "./gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { readBuffer, runOnce, storageBuffer } from "./host.ts";
import { relativeError } from "./relative_error.ts";
import { createSkipGemv, skipGemvCpu } from "./skip_gemv.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`skip_gemv tests skipped: ${(e as Error).message}`);
  return undefined;
});

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

Deno.test({
  name: "skip_gemv's eight-rows-per-step form equals its reference, with tails, f32 and f16",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  // k = 300 over 3 splits and 4 row groups: each split has full eight-row steps and a tail.
  const [k, n] = [300, 256];
  const x = random(k, 5);
  const threshold = 0.7;
  for (const dtype of ["f32", "f16"] as const) {
    for (const residual of [false, true]) {
      const wt = random(k * n, 6);
      const stored = dtype === "f16" ? Float32Array.from(new Float16Array(wt)) : wt;
      const stream = storageBuffer(device, "stream", n * 4);
      const g = await createSkipGemv(device, {
        label: "deep",
        k,
        n,
        dtype,
        weightT: storageBuffer(device, "wt", dtype === "f16" ? new Float16Array(wt) : wt),
        x: storageBuffer(device, "x", x),
        rule: { kind: "magnitude" },
        thresholds: storageBuffer(device, "t", new Float32Array([threshold])),
        slot: 0,
        workgroupSize: 64,
        lanes: 16,
        splits: 3,
        compact: false,
        stage: false,
        deep: true,
        ...(residual
          ? { residual: { into: stream, bias: storageBuffer(device, "b", n * 4) } }
          : {}),
      });
      await runOnce(device, [g.dispatch]);
      let y: Float32Array;
      if (residual) {
        y = new Float32Array(await readBuffer(device, stream, n * 4));
      } else {
        const parts = new Float32Array(await readBuffer(device, g.partials, g.splits * n * 4));
        y = new Float32Array(n);
        for (let s = 0; s < g.splits; s++) for (let c = 0; c < n; c++) y[c]! += parts[s * n + c]!;
      }
      const ref = skipGemvCpu(stored, x, { n, rule: { kind: "magnitude" }, threshold });
      assert.ok(ref.kept > 0 && ref.kept < k);
      const e = relativeError(y, ref.y);
      assert.ok(e <= 1e-5, `${dtype} residual=${residual}: relative error ${e.toExponential(2)}`);
    }
  }
});

Deno.test({
  name:
    "skip_gemv's scan form equals its reference, with runs of rows per thread, empty splits and every rule",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  // k = 301 with WG 64: one split gives each thread a run of 5 rows (a 4-row step and a tail);
  // 7 splits of 43 rows leave some threads without rows; 76 splits of 4 rows leave the last
  // split empty (75 · 4 ≥ 301 - 4).
  const [k, n] = [301, 128];
  const eps = 1e-5;
  const x = random(k, 21);
  const gain = Float32Array.from(random(k, 22), (v) => 1 + 0.3 * v);
  const scale = Float32Array.from(random(k, 23), (v) => Math.abs(v) + 0.1);
  // Pipelines are slow to build on a software adapter: each case is one, dtype, output and the
  // fused norm alternating between them.
  const cases = [
    { splits: 1, rule: { kind: "magnitude" as const }, threshold: 0.7 },
    { splits: 7, rule: { kind: "magnitude" as const, scale }, threshold: 0.5 },
    { splits: 76, rule: { kind: "value" as const }, threshold: 0.2 },
    // Every row kept, then none.
    { splits: 7, rule: { kind: "magnitude" as const }, threshold: -1 },
    { splits: 7, rule: { kind: "magnitude" as const }, threshold: 1e9 },
  ];
  const wt = random(k * n, 24);
  for (const [i, c] of cases.entries()) {
    const dtype = i % 2 === 1 ? "f16" : "f32";
    const stored = dtype === "f16" ? Float32Array.from(new Float16Array(wt)) : wt;
    const weightT = storageBuffer(device, "wt", dtype === "f16" ? new Float16Array(wt) : wt);
    const norm = i % 2 === 1;
    const residual = i >= 1 && i !== 3;
    const stream = storageBuffer(device, "stream", n * 4);
    const counts = storageBuffer(device, "counts", 4);
    const g = await createSkipGemv(device, {
      label: "scan",
      k,
      n,
      dtype,
      weightT,
      x: storageBuffer(device, "x", x),
      rule: c.rule,
      thresholds: storageBuffer(device, "t", new Float32Array([c.threshold])),
      slot: 0,
      counts,
      workgroupSize: 64,
      lanes: 16,
      splits: c.splits,
      scan: true,
      ...(norm ? { normIn: { eps, gain: storageBuffer(device, "g", gain) } } : {}),
      ...(residual ? { residual: { into: stream, bias: storageBuffer(device, "b", n * 4) } } : {}),
    });
    await runOnce(device, [g.dispatch]);
    let y: Float32Array;
    if (residual) {
      y = new Float32Array(await readBuffer(device, stream, n * 4));
    } else {
      const parts = new Float32Array(await readBuffer(device, g.partials, g.splits * n * 4));
      y = new Float32Array(n);
      for (let s = 0; s < g.splits; s++) {
        for (let col = 0; col < n; col++) y[col]! += parts[s * n + col]!;
      }
    }
    const ref = skipGemvCpu(stored, x, {
      n,
      rule: c.rule,
      threshold: c.threshold,
      ...(norm ? { normIn: { eps, gain } } : {}),
    });
    const what = `${dtype} splits=${c.splits} t=${c.threshold} residual=${residual}`;
    const kept = new Uint32Array(await readBuffer(device, counts, 4))[0]!;
    assert.equal(kept, ref.kept, `${what}: rows kept`);
    if (ref.kept === 0) {
      assert.ok(y.every((v) => v === 0), `${what}: no row kept, nothing summed`);
    } else {
      const e = relativeError(y, ref.y);
      assert.ok(e <= 1e-5, `${what}: relative error ${e.toExponential(2)}`);
    }
  }
});

Deno.test({
  name:
    "a fused RMSNorm reads 1/rms from the per-tile sums of squares the residual GEMV before it left",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const [k1, d, n2] = [96, 320, 128];
  const eps = 1e-5;
  const h = random(k1, 11);
  const stream0 = random(d, 12);
  const bias = random(d, 13);
  const gain = Float32Array.from(random(d, 14), (v) => 1 + 0.3 * v);
  for (const dtype of ["f32", "f16"] as const) {
    const w1 = random(k1 * d, 15);
    const w2 = random(d * n2, 16);
    const half = (w: Float32Array) => dtype === "f16" ? Float32Array.from(new Float16Array(w)) : w;
    const upload = (w: Float32Array) =>
      storageBuffer(device, "w", dtype === "f16" ? new Float16Array(w) : w);
    const stream = storageBuffer(device, "stream", stream0);
    const thresholds = storageBuffer(device, "t", new Float32Array([0.5, 0.6]));
    const tuning = { workgroupSize: 64, lanes: 8, splits: 3, compact: false, stage: false };
    const writer = await createSkipGemv(device, {
      label: "writer",
      k: k1,
      n: d,
      dtype,
      weightT: upload(w1),
      x: storageBuffer(device, "h", h),
      rule: { kind: "magnitude" },
      thresholds,
      slot: 0,
      ...tuning,
      residual: { into: stream, bias: storageBuffer(device, "b", bias) },
    });
    assert.ok(writer.sumsq && writer.sumsq.tiles > 1, "the writer leaves several tiles' sums");
    const reader = await createSkipGemv(device, {
      label: "reader",
      k: d,
      n: n2,
      dtype,
      weightT: upload(w2),
      x: stream,
      rule: { kind: "magnitude" },
      thresholds,
      slot: 1,
      ...tuning,
      normIn: { eps, gain: storageBuffer(device, "g", gain), sumsq: writer.sumsq },
    });
    await runOnce(device, [writer.dispatch, reader.dispatch]);
    const first = skipGemvCpu(half(w1), h, { n: d, rule: { kind: "magnitude" }, threshold: 0.5 });
    const updated = Float32Array.from(stream0, (s, c) => s + first.y[c]! + bias[c]!);
    const got = new Float32Array(await readBuffer(device, stream, d * 4));
    assert.ok(relativeError(got, updated) <= 1e-5, `${dtype}: the stream`);
    const sums = new Float32Array(
      await readBuffer(device, writer.sumsq.buffer, writer.sumsq.tiles * 4),
    );
    const total = sums.reduce((a, b) => a + b, 0);
    const want = updated.reduce((a, v) => a + v * v, 0);
    assert.ok(Math.abs(total - want) <= 1e-4 * want, `${dtype}: Σx² ${total} vs ${want}`);
    const ref = skipGemvCpu(half(w2), updated, {
      n: n2,
      rule: { kind: "magnitude" },
      threshold: 0.6,
      normIn: { eps, gain },
    });
    const parts = new Float32Array(
      await readBuffer(device, reader.partials, reader.splits * n2 * 4),
    );
    const y = new Float32Array(n2);
    for (let s = 0; s < reader.splits; s++) {
      for (let c = 0; c < n2; c++) y[c]! += parts[s * n2 + c]!;
    }
    assert.ok(ref.kept > 0 && ref.kept < d);
    const e = relativeError(y, ref.y);
    assert.ok(e <= 1e-5, `${dtype}: the reader's relative error ${e.toExponential(2)}`);
  }
});
