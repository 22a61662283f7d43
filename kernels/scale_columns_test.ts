import assert from "node:assert/strict";
import { readBuffer, storageBuffer } from "./host.ts";
import { scaleColumns, scaleColumnsCpu } from "./scale_columns.ts";
import { gpu, random, relError } from "./_testing.ts";

Deno.test({
  name:
    "scaleColumns() multiplies each column in place as the CPU reference does (f32 and f16 in one call)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const [rows, cols] = [37, 44];
  const w = random(rows * cols, 1);
  const s = random(cols, 2);
  const dtypes = ["f32", "f16"] as const;
  const stored = dtypes.map((d) => d === "f16" ? Float32Array.from(new Float16Array(w)) : w);
  const bufs = dtypes.map((d) =>
    storageBuffer(device, `w ${d}`, d === "f16" ? new Float16Array(w) : w)
  );
  // Both precisions in one call: two pipelines, one submission.
  await scaleColumns(
    device,
    dtypes.map((dtype, i) => ({
      label: `t ${dtype}`,
      weight: bufs[i]!,
      rows,
      cols,
      dtype,
      scale: storageBuffer(device, "s", s),
    })),
  );
  for (const [i, dtype] of dtypes.entries()) {
    const raw = await readBuffer(device, bufs[i]!, rows * cols * (dtype === "f16" ? 2 : 4));
    const got = dtype === "f16" ? Float32Array.from(new Float16Array(raw)) : new Float32Array(raw);
    const want = scaleColumnsCpu(stored[i]!, s, { dtype });
    assert.ok(relError(got, want) <= (dtype === "f16" ? 1e-3 : 1e-7), dtype);
  }
});
