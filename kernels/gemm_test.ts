import assert from "node:assert/strict";
import { runOnce, storageBuffer, writeArray } from "./host.ts";
import { createSelect } from "./select.ts";
import { createGemm, gemmCpu } from "./gemm.ts";
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
