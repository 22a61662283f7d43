import assert from "node:assert/strict";
import { createGemv } from "./gemv.ts";
import { createDispatchSampler, timeDispatches } from "./gpu_timing.ts";
import { gpu } from "./_testing.ts";

Deno.test({
  name: "timeDispatches() reports a positive median, its sorted samples and the method used",
  ignore: !gpu,
}, async () => {
  const { device, hasTimestamps } = gpu!;
  const g = await createGemv(device, {
    label: "timed",
    rows: 64,
    cols: 64,
    weight: new Float32Array(4096),
  });
  const t = await timeDispatches(device, [[g.dispatch]], {
    samples: 3,
    targetMs: 5,
    timestamps: true,
  });
  assert.ok(t.ms > 0 && Number.isFinite(t.ms));
  assert.equal(t.samplesMs.length, 3);
  assert.deepEqual(t.samplesMs, [...t.samplesMs].sort((a, b) => a - b));
  assert.equal(t.ms, t.samplesMs[1]);
  assert.equal(t.source, hasTimestamps ? "timestamps" : "wall-slope");
});

Deno.test({
  name: "a dispatch sampler without timestamps times on the clock it is given",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const g = await createGemv(device, {
    label: "clocked",
    rows: 16,
    cols: 16,
    weight: new Float32Array(256),
  });
  const sampler = await createDispatchSampler(device, [[g.dispatch]], { targetMs: 5 });
  // A clock that advances 1 ms per reading: both batches read 1 ms, so the slope is 0.
  let now = 0;
  const s = await sampler.sample(() => (now += 1));
  assert.equal(s.source, "wall-slope");
  assert.equal(s.ms, 0);
});
