import assert from "node:assert/strict";
import { runOnce, storageBuffer, writeArray } from "./host.ts";
import { createGemv } from "./gemv.ts";
import { createSelect, selectCpu } from "./select.ts";
import { createGatherGemv, gatherGemvCpu } from "./gather_gemv.ts";
import { gpu, poison, random, relError } from "./_testing.ts";

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

Deno.test({
  name: "gathered gemv reads weights uploaded earlier as it reads its own (gated)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const rows = 96, cols = 64;
  const x = random(cols, 11);
  const w = random(rows * cols, 12);
  const gate = random(rows * cols, 13);
  const h = random(rows, 14);
  const rule = { kind: "magnitude" as const, threshold: 0.8 };
  const sel = await createSelect(device, { label: "gg buffers", n: rows, rule });
  writeArray(device, sel.x, h);
  const xBuf = storageBuffer(device, "gg buffers x", x);
  const want = selectCpu(h, rule);
  for (const rowPerThread of [false, true]) {
    const gg = await createGatherGemv(device, {
      label: "gg buffers",
      rowPerThread,
      rows,
      cols,
      weight: new Float32Array(0),
      weightBuffer: storageBuffer(device, "gg buffers W", w),
      gateWeightBuffer: storageBuffer(device, "gg buffers Wg", gate),
      act: "silu",
      x: xBuf,
      idx: sel.idx,
      count: sel.count,
    });
    poison(gg.y, rows * 4);
    await runOnce(device, [sel.dispatch, gg.dispatch]);
    const ref = gatherGemvCpu(w, x, want.idx, { cols, act: "silu", gate });
    assert.ok(
      relError(await gg.read(want.idx.length), ref) <= 1e-5,
      `rowPerThread=${rowPerThread}`,
    );
  }
});
