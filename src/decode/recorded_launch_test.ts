import assert from "node:assert/strict";
import { RECORDED_LAUNCHES, recordedLaunch } from "./recorded_launch.ts";
import { shapeByName } from "./synthetic.ts";

const h200 = { description: "NVIDIA H200", isFallbackAdapter: false };

Deno.test("recordedLaunch() finds the H200's entry for a LLaMA shape and precision, and no other", () => {
  const seven = recordedLaunch(h200, shapeByName("llama-7b"), { dtype: "f16" });
  assert.ok(seven);
  assert.equal(seven.d, 4096);
  assert.equal(recordedLaunch(h200, shapeByName("llama-7b"), { dtype: "f32" }), undefined);
  assert.equal(
    recordedLaunch({ ...h200, description: "AMD Radeon" }, shapeByName("llama-7b"), {
      dtype: "f16",
    }),
    undefined,
  );
  // A software adapter always tunes its own (its defaults differ in kind, not just in size).
  assert.equal(
    recordedLaunch({ ...h200, isFallbackAdapter: true }, shapeByName("llama-7b"), {
      dtype: "f16",
    }),
    undefined,
  );
});

Deno.test("every recorded launch names the runs it came from and a valid sparse GEMV form", () => {
  for (const r of RECORDED_LAUNCHES) {
    assert.match(r.source, /\d{8}T\d{6}Z-/);
    const skips = r.skip
      ? [r.skip.main, r.skip.residual, ...Object.values(r.skip.perProjection ?? {})]
      : [];
    for (const t of skips) {
      assert.ok(t!.lanes! >= 1 && (t!.lanes! & (t!.lanes! - 1)) === 0, `lanes ${t!.lanes}`);
      assert.ok(t!.splits! >= 1);
    }
  }
});
