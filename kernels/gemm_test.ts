import assert from "node:assert/strict";
import { runOnce, storageBuffer, writeArray } from "./host.ts";
import { createSelect } from "./select.ts";
import { createGemm, gemmCpu } from "./gemm.ts";
import { roundToHalf } from "./gemv.ts";
import { gpu, poison, random, relError } from "./_testing.ts";

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

Deno.test(
  { name: "gemm applies its activation and writes into the buffers it is given", ignore: !gpu },
  async () => {
    const { device } = gpu!;
    const [m, n, k] = [19, 40, 24];
    const x = random(m * k, 8);
    const w = random(n * k, 9);
    const bias = random(n, 10);
    for (const act of ["relu", "gelu"] as const) {
      const xb = storageBuffer(device, "given X", x);
      const yb = storageBuffer(device, "given Y", m * n * 4);
      poison(yb, m * n * 4);
      const g = await createGemm(device, {
        label: act,
        m,
        n,
        k,
        weight: w,
        bias,
        act,
        x: xb,
        y: yb,
      });
      assert.equal(g.y, yb);
      await runOnce(device, [g.dispatch]);
      assert.ok(relError(await g.read(m), gemmCpu(x, w, { m, n, k, bias, act })) <= 1e-5, act);
    }
  },
);

Deno.test(
  {
    name:
      "gemm over f16 weights matches the reference with the weights rounded to f16, dense, gathered and with an activation, uploaded here or given as packed halves",
    ignore: !gpu,
  },
  async () => {
    const { device } = gpu!;
    // An odd k puts rows across the halves of a word: every element's half is found by index.
    for (const [m, n, k] of [[37, 66, 17], [12, 40, 64]] as [number, number, number][]) {
      const x = random(m * k, 11 + k);
      const w = random(n * k, 12 + k);
      const bias = random(n, 13 + k);
      const half = roundToHalf(w);
      const dense = await createGemm(device, {
        label: "gemm f16",
        m,
        n,
        k,
        weight: w,
        dtype: "f16",
        bias,
      });
      writeArray(device, dense.x, x);
      poison(dense.y, m * n * 4);
      await runOnce(device, [dense.dispatch]);
      const e = relError(await dense.read(m), gemmCpu(x, half, { m, n, k, bias }));
      assert.ok(e <= 1e-5, `f16 ${m}x${n}x${k}: relative error ${e.toExponential(2)}`);

      // The decoder's row buffers: a Float16Array's bytes, gathered rows and a fused activation.
      const weightBuffer = storageBuffer(device, "f16 W", new Float16Array(w));
      const keep = Uint32Array.from({ length: Math.ceil(m / 2) }, (_, i) => (i * 2 + 1) % m);
      const sel = await createSelect(device, {
        label: "rows",
        n: m,
        rule: { kind: "value", threshold: 0 },
      });
      const marks = new Float32Array(m).fill(-1);
      for (const r of keep) marks[r] = 1;
      writeArray(device, sel.x, marks);
      const gathered = await createGemm(device, {
        label: "gemm f16 gather",
        m,
        n,
        k,
        weightBuffer,
        dtype: "f16",
        bias,
        act: "gelu",
        gather: { rows: sel.idx, count: sel.count },
      });
      writeArray(device, gathered.x, x);
      poison(gathered.y, m * n * 4);
      await runOnce(device, [sel.dispatch, gathered.dispatch]);
      const sorted = Uint32Array.from([...keep].sort((a, b) => a - b));
      const g = relError(
        await gathered.read(sorted.length),
        gemmCpu(x, half, { m, n, k, bias, rows: sorted, act: "gelu" }),
      );
      assert.ok(g <= 1e-5, `f16 gathered ${m}x${n}x${k}: relative error ${g.toExponential(2)}`);
      weightBuffer.destroy();
    }
  },
);
