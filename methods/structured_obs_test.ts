import assert from "node:assert/strict";
import { runZooSlice } from "./_test_runs.ts";

Deno.test("structured head pruning slices q, k, v and out in exported transformers of both reshape styles", async () => {
  const { pruningVitGelu, pruningLm } = await import("../suites/pruning.ts");
  for (const base of [pruningVitGelu, pruningLm]) {
    const cells = await runZooSlice(
      base,
      [{ method: "sparsegpt-structured-heads", sparsity: [0.25] }],
      { evaluation: base.task.kind === "char-lm" ? 8 : 20, calibration: 4 },
    );
    const c = cells.find((x) => x.method === "sparsegpt-structured-heads")!;
    assert.equal(c.status, "completed", `${base.id}: ${c.error}`);
    assert.equal(c.extra.heads_kept, 3);
    assert.ok(c.flops_effective! < c.flops_dense!);
  }
});
