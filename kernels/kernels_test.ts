import assert from "node:assert/strict";
import { acquireGpu } from "./gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { runOnce, storageBuffer, writeArray } from "./host.ts";
import { relativeError } from "./relative_error.ts";
import { createGemv, gemvCpu, roundToHalf } from "./gemv.ts";
import { GEMV_SWEEP, type GemvTuning, gemvTuningLabel } from "./tuning.ts";
import { createSelect, selectCpu, type SelectRule } from "./select.ts";
import { createSparseGemv, sparseGemvCpu, transpose } from "./sparse_gemv.ts";
import { createGatherGemv, gatherGemvCpu } from "./gather_gemv.ts";
import { createGemm, gemmCpu } from "./gemm.ts";
import { measureCopyCeiling } from "./copy.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`kernel tests skipped: ${(e as Error).message}`);
  return undefined;
});

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  // Never zero: a kernel that ignores an input must not pass by luck.
  return Float32Array.from({ length: n }, () => {
    const v = rng.normal();
    return Math.abs(v) < 1e-3 ? 0.5 : v;
  });
}

function relError(out: Float32Array, ref: Float32Array): number {
  for (let i = 0; i < out.length; i++) {
    assert.ok(Number.isFinite(out[i]!), `element ${i} is ${out[i]} (unwritten or broken)`);
  }
  return relativeError(out, ref);
}

function poison(buffer: GPUBuffer, bytes: number): void {
  writeArray(gpu!.device, buffer, new Float32Array(bytes / 4).fill(NaN));
}

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

const RULES = (n: number, x: Float32Array): SelectRule[] => [
  { kind: "magnitude", threshold: 0.7 },
  { kind: "magnitude", threshold: 0.9, scale: random(n, 5).map(Math.abs) },
  { kind: "value", threshold: 0 },
  { kind: "stat-topk", z: 0.5 },
  { kind: "stat-topk", z: 0.2, soft: true },
  { kind: "topk", k: Math.max(1, Math.floor(n / 10)) },
  { kind: "topk", k: Math.floor(n / 2), signed: true },
  { kind: "topk", k: 3, scale: Float32Array.from(x, (_, i) => 1 + (i % 3)) },
];

Deno.test({
  name: "select compacts exactly what the CPU reference keeps, in index order",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const n of [101, 512, 2051]) {
    const x = random(n, n);
    // Ties for exact top-k: equal magnitudes must be broken by index.
    x[5] = 2.5;
    x[17] = -2.5;
    x[40] = 2.5;
    for (const rule of RULES(n, x)) {
      const s = await createSelect(device, { label: `sel${n}`, n, rule });
      writeArray(device, s.x, x);
      poison(s.idx, n * 4);
      poison(s.vals, n * 4);
      await runOnce(device, [s.dispatch]);
      const got = await s.read();
      const want = selectCpu(x, rule);
      assert.deepEqual([...got.idx], [...want.idx], `${rule.kind} n=${n}`);
      assert.ok(want.vals.length === 0 || relError(got.vals, want.vals) <= 1e-5);
    }
  }
});

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
  name: "gathered gemv computes only the selected neurons (plain, gated, times values)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const [rows, cols] of [[512, 128], [77, 33]] as [number, number][]) {
    const x = random(cols, 1);
    const w = random(rows * cols, 2);
    const gate = random(rows * cols, 3);
    const h = random(rows, 4);
    const sel = await createSelect(device, {
      label: "gg",
      n: rows,
      rule: { kind: "magnitude", threshold: 1 },
    });
    writeArray(device, sel.x, h);
    const xBuf = (await createGemv(device, {
      label: "xholder",
      rows: 1,
      cols,
      weight: new Float32Array(cols),
    })).x;
    const padded = new Float32Array(Math.ceil(cols / 4) * 4);
    padded.set(x);
    writeArray(device, xBuf, padded);
    const want = selectCpu(h, { kind: "magnitude", threshold: 1 });
    for (
      const [mode, rowPerThread] of [
        ["plain", false],
        ["gated", false],
        ["vals", false],
        ["plain", true],
        ["gated", true],
        ["vals", true],
      ] as const
    ) {
      const gg = await createGatherGemv(device, {
        label: `gg-${mode}${rowPerThread ? " per-thread" : ""}`,
        rowPerThread,
        rows,
        cols,
        weight: w,
        act: mode === "vals" ? "none" : "gelu",
        ...(mode === "gated" ? { gateWeight: gate } : {}),
        ...(mode === "vals" ? { mulVals: true, vals: sel.vals } : {}),
        x: xBuf,
        idx: sel.idx,
        count: sel.count,
      });
      poison(gg.y, rows * 4);
      await runOnce(device, [sel.dispatch, gg.dispatch]);
      const ref = gatherGemvCpu(w, x, want.idx, {
        cols,
        act: mode === "vals" ? "none" : "gelu",
        ...(mode === "gated" ? { gate } : {}),
        ...(mode === "vals" ? { vals: want.vals } : {}),
      });
      assert.ok(
        relError(await gg.read(want.idx.length), ref) <= 1e-5,
        `${rows}x${cols} ${mode} rowPerThread=${rowPerThread}`,
      );
    }
  }
});

Deno.test(
  { name: "gemm matches the reference, dense and over gathered rows", ignore: !gpu },
  async () => {
    const { device } = gpu!;
    for (const [m, n, k] of [[197, 128, 128], [33, 65, 17]] as [number, number, number][]) {
      const x = random(m * k, 5);
      const w = random(n * k, 6);
      const bias = random(n, 7);
      const dense = await createGemm(device, { label: "gemm", m, n, k, weight: w, bias });
      writeArray(device, dense.x, x);
      poison(dense.y, m * n * 4);
      await runOnce(device, [dense.dispatch]);
      assert.ok(relError(await dense.read(m), gemmCpu(x, w, { m, n, k, bias })) <= 1e-5);

      const keep = Uint32Array.from({ length: Math.ceil(m / 3) }, (_, i) => (i * 3 + 1) % m);
      const sel = await createSelect(device, {
        label: "rows",
        n: m,
        rule: { kind: "value", threshold: 0 },
      });
      const marks = new Float32Array(m).fill(-1);
      for (const r of keep) marks[r] = 1;
      writeArray(device, sel.x, marks);
      const gathered = await createGemm(device, {
        label: "gemm-gather",
        m,
        n,
        k,
        weight: w,
        bias,
        gather: { rows: sel.idx, count: sel.count },
      });
      writeArray(device, gathered.x, x);
      poison(gathered.y, m * n * 4);
      await runOnce(device, [sel.dispatch, gathered.dispatch]);
      const sorted = Uint32Array.from([...keep].sort((a, b) => a - b));
      assert.ok(
        relError(
          await gathered.read(sorted.length),
          gemmCpu(x, w, { m, n, k, bias, rows: sorted }),
        ) <= 1e-5,
      );
    }
  },
);

Deno.test({
  name: "storageBuffer() refuses a buffer past the binding limit with a one-line error",
  ignore: !gpu,
}, () => {
  const limit = gpu!.device.limits.maxStorageBufferBindingSize;
  assert.throws(
    () => storageBuffer(gpu!.device, "too big", limit + 16),
    (e: Error) =>
      /too big: \d+ bytes exceed .*maxStorageBufferBindingSize/.test(e.message) &&
      !e.message.includes("\n"),
  );
});

Deno.test({ name: "the copy ceiling reports a positive bandwidth", ignore: !gpu }, async () => {
  const c = await measureCopyCeiling(gpu!.device, 4 << 20);
  assert.ok(c.gbPerS > 0 && Number.isFinite(c.gbPerS));
});

Deno.test({
  name: "FFN chains and gated FFNs match their CPU references for every selection rule",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const { createChain, chainCpu, createGated, gatedCpu } = await import("./ffn.ts");
  const d = 36;
  const h = 132;
  const up = random(h * d, 21);
  const down = random(d * h, 22);
  const bUp = random(h, 23);
  const bDown = random(d, 24);
  const x = random(d, 25);
  const cases = [
    { name: "dense", up: undefined, down: undefined },
    { name: "relu zeros", up: undefined, down: { rule: { kind: "value" as const, threshold: 0 } } },
    {
      name: "teal both",
      up: { rule: { kind: "magnitude" as const, threshold: 0.5 } },
      down: { rule: { kind: "magnitude" as const, threshold: 0.3 } },
    },
    {
      name: "stat-topk soft",
      up: undefined,
      down: { rule: { kind: "stat-topk" as const, z: 0.4, soft: true }, preActivation: true },
    },
    { name: "topk", up: undefined, down: { rule: { kind: "topk" as const, k: 20, signed: true } } },
  ];
  for (const c of cases) {
    for (const act of ["relu", "gelu"] as const) {
      const layers = [
        {
          name: "up",
          rows: h,
          cols: d,
          weight: up,
          bias: bUp,
          act,
          ...(c.up ? { input: c.up } : {}),
        },
        {
          name: "down",
          rows: d,
          cols: h,
          weight: down,
          bias: bDown,
          act: "none" as const,
          ...(c.down ? { input: c.down } : {}),
        },
      ];
      const p = await createChain(device, `chain ${c.name}`, layers);
      p.writeInput(x);
      await runOnce(device, p.dispatches);
      const err = relError(await p.read(), chainCpu(layers, x));
      assert.ok(err <= 1e-5, `${c.name} ${act}: ${err}`);
    }
  }
  const gate = random(h * d, 26);
  for (
    const select of [undefined, {
      rule: { kind: "magnitude" as const, threshold: 0.2 },
      on: "activation" as const,
    }, { rule: { kind: "stat-topk" as const, z: 0.3 }, on: "pre-activation" as const }]
  ) {
    const f = { d, h, gate, up, down, act: "silu" as const, ...(select ? { select } : {}) };
    const p = await createGated(device, "gated", f);
    p.writeInput(x);
    await runOnce(device, p.dispatches);
    const err = relError(await p.read(), gatedCpu(f, x));
    assert.ok(err <= 1e-5, `gated ${select?.on ?? "dense"}: ${err}`);
  }
  // TEAL and WINA on a gated FFN: every projection skips input channels.
  const dense = gatedCpu({ d, h, gate, up, down, act: "silu" }, x);
  const norms = random(d, 27).map(Math.abs);
  for (
    const inputs of [
      {
        gate: { kind: "magnitude" as const, threshold: 0.4 },
        up: { kind: "magnitude" as const, threshold: 0.4 },
        down: { kind: "magnitude" as const, threshold: 0.05 },
      },
      {
        gate: { kind: "topk" as const, k: 11, scale: norms },
        up: { kind: "topk" as const, k: 13, scale: norms },
      },
      { down: { kind: "topk" as const, k: 40 } },
    ]
  ) {
    const f = { d, h, gate, up, down, act: "silu" as const, inputs };
    const ref = gatedCpu(f, x);
    assert.ok(relError(ref, dense) > 1e-3, `${Object.keys(inputs)}: the rule skipped nothing`);
    const p = await createGated(device, "gated inputs", f);
    p.writeInput(x);
    await runOnce(device, p.dispatches);
    const err = relError(await p.read(), ref);
    assert.ok(err <= 1e-5, `gated inputs ${Object.keys(inputs)}: ${err}`);
  }
});

Deno.test({
  name:
    "masked sparse gemv (no separate compaction pass) matches the reference for magnitude and value rules",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const { createMaskedSparseGemv } = await import("./sparse_gemv.ts");
  const { storageBuffer } = await import("./host.ts");
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

Deno.test({
  name: "SDR overlaps (dense bit sets and sparse index lists) match the CPU reference",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const { createSdrOverlap, overlapCpu, randomCells } = await import("./sdr_overlap.ts");
  const { createRng } = await import("../lib/prng.ts");
  const rng = createRng(17);
  for (
    const [n, a, s] of [[1000, 25, 30], [2048, 40, 24], [97, 9, 12]] as [number, number, number][]
  ) {
    const sdrs = Array.from({ length: 33 }, () => randomCells(n, a, rng));
    const segs = Array.from({ length: 7 }, () => randomCells(n, s, rng));
    const theta = 2;
    for (const sparse of [false, true]) {
      const k = await createSdrOverlap(device, {
        n,
        a,
        numSdr: sdrs.length,
        numSeg: segs.length,
        theta,
        sparse,
        paired: false,
        writeOverlaps: true,
      });
      k.upload(sdrs, segs);
      await runOnce(device, [k.dispatch]);
      const got = await k.readOverlaps();
      const want = sdrs.flatMap((x) => segs.map((g) => overlapCpu(x, g)));
      assert.deepEqual([...got], want, `n=${n} ${sparse ? "sparse" : "dense"}`);
      const matches = await k.readMatches();
      assert.deepEqual(
        [...matches],
        segs.map((_, j) => sdrs.filter((x) => overlapCpu(x, segs[j]!) >= theta).length),
      );
    }
  }
});
