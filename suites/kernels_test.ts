import assert from "node:assert/strict";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { GEMV_SWEEP, GEMV_SWEEP_CPU, gemvTuningLabel } from "../kernels/tuning.ts";
import type { CustomSuiteContext } from "../src/suite.ts";
import { KernelsRun, type Shape } from "./_kernels_run.ts";
import { type RecordedGemv, recordedSource } from "./_kernels_recorded.ts";
import suite from "./kernels.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`kernels suite tests skipped: ${(e as Error).message}`);
  return undefined;
});

// Small and odd-sized: every launch shape has partial tiles, and llvmpipe times it quickly.
const SHAPE: Shape = { id: "test-96x40", k: 96, n: 40 };

function context(): { ctx: CustomSuiteContext; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    ctx: {
      quick: true,
      targets: ["wgsl"],
      progress: (m) => lines.push(m),
      backend: () => Promise.reject(new Error("no backend in this test")),
    },
  };
}

/** An entry as the table holds them, for the adapter at hand and the test's shape. */
function entryFor(): RecordedGemv {
  const sweep = gpu!.facts.isFallbackAdapter ? GEMV_SWEEP_CPU : GEMV_SWEEP;
  return {
    adapter: gpu!.facts.description,
    k: SHAPE.k,
    n: SHAPE.n,
    dtype: "f32",
    gemv: sweep[sweep.length - 1]!,
    runs: ["20260101T000000Z-test-run"],
  };
}

Deno.test({
  name: "the dense GEMV cell builds and checks only the recorded launch shape and names its run",
  ignore: !gpu,
}, async () => {
  const entry = entryFor();
  const asked: unknown[] = [];
  const run = new KernelsRun({
    lookup: (facts, shape, options) => {
      asked.push({ description: facts.description, k: shape.k, n: shape.n, ...options });
      return entry;
    },
  });
  const { ctx, lines } = context();
  const row = await run.denseGemvCell(SHAPE, { ...ctx, precision: "f32" });
  assert.deepEqual(asked, [{
    description: gpu!.facts.description,
    k: SHAPE.k,
    n: SHAPE.n,
    dtype: "f32",
  }]);
  const built = lines.filter((l) => l.startsWith("kernels: gemv f32"));
  assert.equal(built.length, 1, built.join("\n"));
  assert.match(built[0]!, /\(1\/1, recorded \(20260101T000000Z-test-run\)\)$/);
  assert.equal(row.extra!.tuning, gemvTuningLabel(entry.gemv));
  assert.equal(row.extra!.launch_source, recordedSource(entry));
  // One candidate is timed in full directly: no screening figures.
  assert.equal(row.extra!.sweep_gb_per_s, undefined);
  assert.ok(row.time_median_ms! > 0);
});

Deno.test({
  name: "the full sweep option times every launch shape of the adapter's sweep despite a record",
  ignore: !gpu,
}, async () => {
  const run = new KernelsRun({ fullSweep: true, lookup: () => entryFor() });
  const { ctx, lines } = context();
  const row = await run.denseGemvCell(SHAPE, { ...ctx, precision: "f32" });
  const sweep = gpu!.facts.isFallbackAdapter ? GEMV_SWEEP_CPU : GEMV_SWEEP;
  const built = lines.filter((l) => l.startsWith("kernels: gemv f32"));
  assert.equal(built.length, sweep.length);
  assert.ok(built.every((l) => l.endsWith(", timed trials)")), built.join("\n"));
  assert.equal(row.extra!.launch_source, "timed trials");
  const screened = String(row.extra!.sweep_gb_per_s).split(" ").map((s) => s.split(":")[0]);
  assert.deepEqual(screened.toSorted(), sweep.map(gemvTuningLabel).toSorted());
  assert.ok(screened.includes(String(row.extra!.tuning)));
});

Deno.test({
  name: "--variant gemv-sweep alone plans only the copy ceiling, dispatch floor and dense rows",
  ignore: !gpu,
}, async () => {
  const { ctx } = context();
  const cells = await suite.plan({ ...ctx, quick: false, methods: ["gemv-sweep"] });
  const methods = new Set(cells.map((c) => c.method));
  assert.ok(methods.has("gemv"));
  for (const m of methods) assert.ok(["copy", "dispatch-floor", "gemv", "gemv-f16"].includes(m), m);
});

Deno.test({
  name: "a run without --variant (an empty variant list) plans the sparse kernels' rows too",
  ignore: !gpu,
}, async () => {
  const { ctx } = context();
  for (const methods of [undefined, []]) {
    const cells = await suite.plan({ ...ctx, quick: false, ...(methods ? { methods } : {}) });
    const planned = new Set(cells.map((c) => c.method));
    for (const m of ["gemv", "input-sparse", "input-sparse-skip"]) {
      assert.ok(planned.has(m), `${m} with methods ${JSON.stringify(methods)}`);
    }
  }
});
