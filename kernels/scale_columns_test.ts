import assert from "node:assert/strict";
import { readBuffer, storageBuffer } from "./host.ts";
import { scaleColumns, scaleColumnsCpu } from "./scale_columns.ts";
import { gpu, random, relError } from "./_testing.ts";

Deno.test({
  name: "scaleColumns() multiplies each column in place as the CPU reference does (f32 and f16)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const [rows, cols] = [37, 44];
  const w = random(rows * cols, 1);
  const s = random(cols, 2);
  for (const dtype of ["f32", "f16"] as const) {
    const stored = dtype === "f16" ? Float32Array.from(new Float16Array(w)) : w;
    const buf = storageBuffer(device, "w", dtype === "f16" ? new Float16Array(w) : w);
    await scaleColumns(device, buf, {
      label: "t",
      rows,
      cols,
      dtype,
      scale: storageBuffer(device, "s", s),
    });
    const raw = await readBuffer(device, buf, rows * cols * (dtype === "f16" ? 2 : 4));
    const got = dtype === "f16" ? Float32Array.from(new Float16Array(raw)) : new Float32Array(raw);
    const want = scaleColumnsCpu(stored, s, { dtype });
    assert.ok(relError(got, want) <= (dtype === "f16" ? 1e-3 : 1e-7), dtype);
  }
});
