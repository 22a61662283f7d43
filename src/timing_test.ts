import assert from "node:assert/strict";
import { measureInterleaved, type Sampler, timingWarnings } from "./timing.ts";

function fakeClock() {
  let t = 0;
  return { clock: { now: () => t }, advance: (ms: number) => (t += ms) };
}

Deno.test("measureInterleaved() alternates the order each round and discards warm-up", async () => {
  const { clock, advance } = fakeClock();
  const order: string[] = [];
  const subject = (label: string, ms: number): Sampler => ({
    label,
    sample: () => {
      order.push(label);
      advance(ms);
      return Promise.resolve(ms);
    },
  });
  const r = await measureInterleaved([subject("A", 2), subject("B", 1)], {
    warmupRuns: 1,
    minRuns: 4,
    minTimeMs: 0,
    maxRuns: 100,
    maxTimeMs: 1e9,
  }, { clock });
  assert.deepEqual(order, ["A", "B", "A", "B", "B", "A", "A", "B", "B", "A"]);
  assert.deepEqual(r.samples, [[2, 2, 2, 2], [1, 1, 1, 1]]);
  assert.equal(r.elapsedMs, 15);
});

Deno.test("measureInterleaved() keeps going until both minimum runs and minimum time are met", async () => {
  const { clock, advance } = fakeClock();
  const s: Sampler = { label: "A", sample: () => Promise.resolve((advance(10), 10)) };
  const r = await measureInterleaved([s], {
    warmupRuns: 0,
    minRuns: 3,
    minTimeMs: 100,
    maxRuns: 1000,
    maxTimeMs: 1e9,
  }, {
    clock,
  });
  assert.equal(r.samples[0]!.length, 10);
});

Deno.test("measureInterleaved() stops at maxTimeMs and timingWarnings() says so with a remedy", async () => {
  const { clock, advance } = fakeClock();
  const s: Sampler = { label: "A", sample: () => Promise.resolve((advance(50), 50)) };
  const policy = { warmupRuns: 0, minRuns: 100, minTimeMs: 0, maxRuns: 1000, maxTimeMs: 200 };
  const r = await measureInterleaved([s], policy, { clock });
  assert.equal(r.samples[0]!.length, 4);
  const w = timingWarnings(r.samples[0]!, policy);
  assert.equal(w[0]!.code, "few-runs");
  assert.match(w[0]!.message, /raise the suite's maxTimeMs/);
});

Deno.test("timingWarnings() flags a wide spread and many outliers", () => {
  const policy = { warmupRuns: 0, minRuns: 5, minTimeMs: 0, maxRuns: 100, maxTimeMs: 1e9 };
  const wide = timingWarnings([1, 2, 3, 4, 5, 6], policy);
  assert.ok(wide.some((w) => w.code === "wide-spread" && /close other programs/.test(w.message)));
  const spiky = timingWarnings([
    ...Array.from({ length: 20 }, (_, i) => 1 + (i % 5) * 0.01),
    9,
    9,
    9,
  ], policy);
  assert.ok(spiky.some((w) => w.code === "many-outliers"));
  assert.deepEqual(timingWarnings([1, 1, 1, 1, 1], policy), []);
});
