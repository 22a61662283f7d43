import assert from "node:assert/strict";
import { readBuffer, runOnce, storageBuffer } from "./host.ts";
import { createGemv, gemvCpu, rmsScaleCpu, roundToHalf } from "./gemv.ts";
import { GEMV_SWEEP, type GemvTuning, gemvTuningLabel } from "./tuning.ts";
import { scaleColumnsCpu } from "./scale_columns.ts";
import { gpu, poison, random, relError } from "./_testing.ts";

const SHAPES: [number, number][] = [[64, 128], [37, 101], [512, 128], [129, 515]];

Deno.test({
  name: "gemv matches the CPU reference (f32, odd and even sizes, fused activations)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const [rows, cols] of SHAPES) {
    for (const act of ["none", "relu", "gelu", "silu"] as const) {
      const w = random(rows * cols, rows + cols);
      const x = random(cols, 11);
      const bias = random(rows, 12);
      const k = await createGemv(device, {
        label: `t${rows}x${cols}`,
        rows,
        cols,
        weight: w,
        bias,
        act,
      });
      k.writeInput(x);
      poison(k.y, rows * 4);
      await runOnce(device, [k.dispatch]);
      const err = relError(await k.read(), gemvCpu(w, x, { rows, cols, bias, act }));
      assert.ok(err <= 1e-5, `${rows}x${cols} ${act}: relative error ${err}`);
    }
  }
});

Deno.test({
  name: "gemv matches the CPU reference with every value of every tuning override",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  // Each value of TX, RPT, UNROLL and STAGGER at least once (the whole 48-shape sweep takes
  // minutes of pipeline compilation on llvmpipe; the kernels suite checks every shape it times).
  const pick = (tx: number, rpt: number, unroll: number, stagger: boolean) =>
    GEMV_SWEEP.find((t) =>
      t.threadsPerRow === tx && t.rowsPerThread === rpt && t.unroll === unroll &&
      t.stagger === stagger
    )!;
  const tunings: GemvTuning[] = [
    pick(32, 4, 4, true),
    pick(256, 2, 2, true),
    pick(64, 1, 4, false),
    pick(128, 4, 2, false),
    ...[2, 4].map((rpt) => ({
      threadsPerRow: 1,
      rowsPerWorkgroup: 64 * rpt,
      rowsPerThread: rpt,
      unroll: 4,
    })),
  ];
  // 1030 columns: enough vec4 columns (258) for the stagger to rotate, and a padded tail.
  for (const [rows, cols] of [[129, 1030], [37, 101]] as const) {
    const w = random(rows * cols, 21);
    const x = random(cols, 22);
    const want = gemvCpu(w, x, { rows, cols });
    for (const tuning of tunings) {
      const k = await createGemv(device, { label: "sweep", rows, cols, weight: w, ...tuning });
      k.writeInput(x);
      poison(k.y, rows * 4);
      await runOnce(device, [k.dispatch]);
      const err = relError(await k.read(), want);
      assert.ok(err <= 1e-5, `${rows}x${cols} ${gemvTuningLabel(tuning)}: relative error ${err}`);
    }
  }
});

Deno.test({
  name: "gemv with f16 weights matches the reference within 1e-2",
  ignore: !gpu || !gpu.hasF16,
}, async () => {
  const { device } = gpu!;
  for (const [rows, cols] of SHAPES) {
    const w = random(rows * cols, 3);
    const x = random(cols, 4);
    const k = await createGemv(device, { label: "f16", rows, cols, weight: w, precision: "f16" });
    k.writeInput(x);
    poison(k.y, rows * 4);
    await runOnce(device, [k.dispatch]);
    assert.ok(relError(await k.read(), gemvCpu(w, x, { rows, cols })) <= 1e-2);
    assert.ok(relError(await k.read(), gemvCpu(roundToHalf(w), x, { rows, cols })) <= 1e-5);
  }
});

Deno.test({
  name:
    "a residual gemv adds into the stream, and a normIn gemv over norm-folded weights equals RMSNorm then gemv (both launch forms, run twice)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const [d, ff] = [260, 96];
  const eps = 1e-5;
  const tunings: Partial<GemvTuning>[] = [
    { threadsPerRow: 64, rowsPerWorkgroup: 4 },
    { threadsPerRow: 1, rowsPerWorkgroup: 64, rowsPerThread: 4 },
  ];
  for (const tuning of tunings) {
    const wo = random(d * ff, 21);
    const wu = random(ff * d, 22);
    const h = random(ff, 23);
    const stream0 = random(d, 24);
    const gamma = random(d, 25);
    const bias = random(d, 26);
    const stream = storageBuffer(device, "stream", stream0);
    const o = await createGemv(device, {
      label: "o",
      rows: d,
      cols: ff,
      weight: wo,
      bias,
      residual: { into: stream },
      ...tuning,
    });
    const folded = scaleColumnsCpu(wu, gamma, { dtype: "f32" });
    const up = await createGemv(device, {
      label: "up",
      rows: ff,
      cols: d,
      weight: folded,
      input: stream,
      normIn: { eps },
      ...tuning,
    });
    o.writeInput(h);
    let expected = stream0;
    for (let run = 0; run < 2; run++) {
      await runOnce(device, [o.dispatch, up.dispatch]);
      const add = gemvCpu(wo, h, { rows: d, cols: ff, bias });
      expected = expected.map((v, i) => v + add[i]!);
      const label = `${gemvTuningLabel(tuning as GemvTuning)} run ${run}`;
      const got = new Float32Array(await readBuffer(device, stream, d * 4));
      assert.ok(relError(got, expected) <= 1e-5, `${label}: residual stream`);
      const rstd = rmsScaleCpu(expected, eps);
      const normed = expected.map((v, i) => v * gamma[i]! * rstd);
      const err = relError(await up.read(), gemvCpu(wu, normed, { rows: ff, cols: d }));
      assert.ok(err <= 1e-5, `${label}: normIn output, relative error ${err}`);
    }
  }
});
