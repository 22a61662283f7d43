import assert from "node:assert/strict";
import { runOnce, storageBuffer, writeArray } from "./host.ts";
import { createSelect, selectCpu } from "./select.ts";
import {
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
