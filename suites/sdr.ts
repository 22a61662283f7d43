/**
 * `sdr`: sparse distributed representations (Ahmad & Hawkins 2016). The exact false-match
 * probability along the paper's scaling laws (against n at fixed a, against n at fixed sparsity,
 * against θ, against a, and union capacity against m), Monte-Carlo estimates on the GPU with 99 %
 * Wilson intervals wherever the rate is large enough to estimate, and the dense (bit-set) against
 * sparse (index-list) overlap kernels: time, operations per overlap (n against a) and bytes.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import type { CustomCell } from "../src/suite.ts";
import { falseMatchExact, falseMatchLog, type SdrParams } from "../src/sdr_probability.ts";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { runOnce } from "../kernels/host.ts";
import { timeDispatches } from "../kernels/gpu_timing.ts";
import { createSdrOverlap, randomCells } from "../kernels/sdr_overlap.ts";

interface Point extends SdrParams {
  sweep: string;
  x: number;
}

const N_LIST = [256, 512, 1024, 2048, 4096, 8192, 16384, 65536, 262144, 1048576];

function sweeps(quick: boolean): Point[] {
  const pick = <T>(xs: T[], every: number) => (quick ? xs.filter((_, i) => i % every === 0) : xs);
  const pts: Point[] = [];
  for (const n of pick(N_LIST, 3)) {
    pts.push({ sweep: "n (a=40)", x: n, n, a: 40, s: 24, theta: 12 });
  }
  for (const n of pick(N_LIST.filter((n) => n <= 262144), 3)) {
    pts.push({ sweep: "n (2 % active)", x: n, n, a: Math.round(0.02 * n), s: 24, theta: 12 });
  }
  for (const theta of pick([1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24], 2)) {
    pts.push({ sweep: "theta", x: theta, n: 2048, a: 40, s: 24, theta });
  }
  for (const a of pick([10, 20, 40, 80, 160, 320, 640], 2)) {
    pts.push({ sweep: "a", x: a, n: 2048, a, s: 24, theta: 12 });
  }
  for (const m of pick([1, 2, 4, 6, 8, 10, 12, 16, 20], 2)) {
    pts.push({ sweep: "union m", x: m, n: 2048, a: 40, s: 20, theta: 10, m });
  }
  return pts;
}

function keyOf(p: Point): string {
  return `${p.sweep}/${p.x}`;
}

function describe(p: SdrParams): Record<string, number> {
  return { n: p.n, a: p.a, s: p.s, theta: p.theta, m: p.m ?? 1 };
}

/**
 * Wilson score interval for k successes in t trials, at 99 % (z = 2.576): with a score of points
 * compared, a 95 % interval would miss the truth about once by chance alone.
 */
function wilson(k: number, t: number, z = 2.5758293): { low: number; high: number } {
  const p = k / t;
  const d = 1 + (z * z) / t;
  const c = (p + (z * z) / (2 * t)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / t + (z * z) / (4 * t * t))) / d;
  return { low: Math.max(0, c - h), high: Math.min(1, c + h) };
}

async function monteCarlo(p: Point, trials: number, seed: number): Promise<Partial<CellResult>> {
  const { device } = await acquireGpu();
  const s = p.s * (p.m ?? 1);
  const batch = Math.min(trials, 32768);
  const k = await createSdrOverlap(device, {
    n: p.n,
    a: p.a,
    numSdr: batch,
    numSeg: batch,
    theta: p.theta,
    sparse: false,
    paired: true,
  });
  const rng = createRng(seed);
  let matches = 0;
  const t0 = performance.now();
  for (let done = 0; done < trials; done += batch) {
    // Independent trials: a fresh random SDR and a fresh random segment for every pair.
    const sdrs = Array.from({ length: batch }, () => randomCells(p.n, p.a, rng));
    const segs = Array.from({ length: batch }, () => randomCells(p.n, s, rng));
    k.upload(sdrs, segs);
    await runOnce(device, [k.dispatch]);
    matches += (await k.readMatches()).reduce((x, y) => x + y, 0);
  }
  const theory = falseMatchExact(p).value;
  const ci = wilson(matches, trials);
  return {
    time_median_ms: performance.now() - t0,
    extra: {
      ...describe(p),
      sweep: p.sweep,
      x: p.x,
      p_theory: theory,
      p_mc: matches / trials,
      ci_low: ci.low,
      ci_high: ci.high,
      trials,
      matches,
      theory_in_ci: theory >= ci.low && theory <= ci.high ? "yes" : "no",
    },
  };
}

async function overlapPerf(sparse: boolean, quick: boolean): Promise<Partial<CellResult>> {
  const { device } = await acquireGpu();
  const n = 2048;
  const a = 40;
  const numSdr = quick ? 2048 : 16384;
  const numSeg = 64;
  const rng = createRng(9);
  const k = await createSdrOverlap(device, {
    n,
    a,
    numSdr,
    numSeg,
    theta: 12,
    sparse,
    paired: false,
  });
  k.upload(
    Array.from({ length: numSdr }, () => randomCells(n, a, rng)),
    Array.from({ length: numSeg }, () => randomCells(n, 24, rng)),
  );
  const t = await timeDispatches(device, [[k.dispatch]], { samples: quick ? 3 : 5 });
  const overlaps = numSdr * numSeg;
  return {
    time_median_ms: t.ms,
    samples_ms: t.samplesMs,
    flops_dense: overlaps * n,
    flops_effective: overlaps * k.opsPerOverlap,
    flops_reduction: n / k.opsPerOverlap,
    extra: {
      n,
      a,
      overlaps,
      ops_per_overlap: k.opsPerOverlap,
      bytes_moved: k.bytesPerRun,
      gb_per_s: Number((k.bytesPerRun / (t.ms * 1e6)).toFixed(2)),
      overlaps_per_us: Number((overlaps / (t.ms * 1000)).toFixed(1)),
    },
  };
}

const state: { denseMs?: number } = {};

export default defineSuite({
  kind: "custom",
  id: "sdr",
  title:
    "Sparse distributed representations: exact false-match probability vs Monte-Carlo on WebGPU",
  description:
    "Ahmad & Hawkins 2016: exact P(false match) along the scaling laws, GPU Monte-Carlo with 99 % Wilson intervals where estimable, dense bit-set vs sparse index-list overlap kernels.",
  targets: ["wgsl"],
  inDefault: true,
  seed: 11,
  files: ["src/sdr_probability.ts", "kernels/sdr_overlap.wgsl"],
  plan(ctx): Promise<CustomCell[]> {
    const cells: CustomCell[] = [];
    const pts = sweeps(ctx.quick);
    for (const p of pts) {
      cells.push({
        key: `theory/${keyOf(p)}`,
        target: "cpu",
        method: "theory",
        label: `theory ${keyOf(p)}`,
      });
    }
    if (ctx.targets.includes("wgsl")) {
      const estimable = pts.filter((p) => {
        const v = falseMatchExact(p).value;
        return v >= 3e-4 && v <= 0.95 && p.n <= 65536;
      });
      for (const p of ctx.quick ? estimable.slice(0, 3) : estimable) {
        cells.push({
          key: `mc/${keyOf(p)}`,
          target: "wgsl",
          method: "monte-carlo",
          label: `Monte-Carlo ${keyOf(p)}`,
        });
      }
      cells.push({
        key: "perf/dense",
        target: "wgsl",
        method: "overlap-dense",
        label: "overlap kernel, dense bit sets",
      });
      cells.push({
        key: "perf/sparse",
        target: "wgsl",
        method: "overlap-sparse",
        label: "overlap kernel, sparse index lists",
      });
    }
    return Promise.resolve(cells);
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    const [kind, ...rest] = cell.key.split("/");
    const pKey = rest.join("/");
    if (kind === "perf") {
      const sparse = pKey === "sparse";
      const r = await overlapPerf(sparse, ctx.quick);
      if (!sparse) state.denseMs = r.time_median_ms!;
      const dense = state.denseMs ?? ctx.finished?.find((c) =>
        c.key.endsWith("|perf/dense")
      )?.time_median_ms ?? null;
      return {
        ...r,
        speedup: dense !== null && dense !== undefined ? dense / r.time_median_ms! : null,
      };
    }
    const p = sweeps(ctx.quick).find((q) => keyOf(q) === pKey);
    if (!p) throw new Error(`Unknown SDR point ${pKey}`);
    if (kind === "theory") {
      const t0 = performance.now();
      const exact = falseMatchExact(p);
      const ms = performance.now() - t0;
      return {
        time_median_ms: ms,
        extra: {
          ...describe(p),
          sweep: p.sweep,
          x: p.x,
          p_theory: exact.value,
          p_theory_text: exact.text,
          log10_p: Number(exact.log10.toFixed(6)),
          log10_p_logspace: Number(falseMatchLog(p).toFixed(6)),
        },
      };
    }
    ctx.progress(`sdr: Monte-Carlo ${pKey}`);
    return await monteCarlo(p, ctx.quick ? 1 << 14 : 1 << 18, 1000 + Math.round(p.x));
  },
});
