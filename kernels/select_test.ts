import assert from "node:assert/strict";
import { runOnce, writeArray } from "./host.ts";
import { createSelect, selectCpu, type SelectRule } from "./select.ts";
import { gpu, poison, random, relError } from "./_testing.ts";

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

Deno.test({
  name: "select keeps the same list with a smaller workgroup",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const [n, wg] of [[384, 16], [101, 32]] as const) {
    const x = random(n, 7 * n);
    for (const rule of RULES(n, x)) {
      const s = await createSelect(device, {
        label: `sel${n} wg${wg}`,
        n,
        rule,
        workgroupSize: wg,
      });
      writeArray(device, s.x, x);
      poison(s.idx, n * 4);
      await runOnce(device, [s.dispatch]);
      const got = await s.read();
      assert.deepEqual([...got.idx], [...selectCpu(x, rule).idx], `${rule.kind} n=${n} wg=${wg}`);
    }
  }
});
