import assert from "node:assert/strict";
import { createRng } from "../lib/prng.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { sha256File } from "../lib/sha256.ts";
import { createBackend } from "../src/backends/mod.ts";
import { emptyCell } from "../src/result.ts";
import type { CellResult } from "../src/result.ts";
import { ddimSample, ddimTimesteps, denoiserFeeds, startNoise } from "./_ddim.ts";
import { featureStats, fidReference, frechetDistance, symmetricEigenvalues } from "./_fid.ts";
import { MODELS } from "./_pins.ts";
import obsDiff from "./obs_diff.ts";
import { obsDiffReport, pairedFidDifference } from "./obs_diff_report.ts";

Deno.test("DDIM visits evenly spaced timesteps from 999 to 0", () => {
  assert.deepEqual(ddimTimesteps(4), [999, 666, 333, 0]);
  assert.equal(ddimTimesteps(10).length, 10);
  assert.throws(() => ddimTimesteps(1), /at least 2 steps/);
});

Deno.test("the DDIM sampler on dit-mnist is deterministic: same seed, labels and steps give the same bits", async () => {
  const bytes = await Deno.readFile(`${REPO_ROOT}${MODELS.ditMnist.path}`);
  const backend = await createBackend("ort-node");
  const labels = [0, 7];
  const noise = startNoise(2, 11);
  assert.deepEqual(noise, startNoise(2, 11));
  const m = await backend.load(bytes, { label: "dit", feeds: denoiserFeeds(noise, 999, labels) });
  const denoise = async (x: Float32Array, t: number, l: readonly number[]) =>
    (await m.run(denoiserFeeds(x, t, l))).eps!.data as Float32Array;
  const a = await ddimSample(denoise, noise, { labels, steps: 10 });
  const b = await ddimSample(denoise, noise, { labels, steps: 10 });
  await m.release();
  assert.deepEqual(a, b);
  assert.ok(a.every((v) => Number.isFinite(v) && v >= -1 && v <= 1));
  assert.notDeepEqual(a, noise);
});

Deno.test("the Fréchet distance's eigenvalues keep trace and Frobenius norm, and it grows with a mean shift", () => {
  const rng = createRng(2);
  const n = 12;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  }
  let tr = 0, fro = 0;
  for (let i = 0; i < n; i++) tr += a[i * n + i]!;
  for (const v of a) fro += v * v;
  const e = symmetricEigenvalues(Float64Array.from(a), n);
  assert.ok(Math.abs(e.reduce((s, v) => s + v, 0) - tr) < 1e-9);
  assert.ok(Math.abs(e.reduce((s, v) => s + v * v, 0) - fro) < 1e-9);
  const d = 8, rows = 4000;
  const sample = (shift: number) =>
    Float32Array.from({ length: rows * d }, () => rng.normal() + shift);
  const ref = fidReference(featureStats(sample(0), d));
  const same = frechetDistance(featureStats(sample(0), d), ref);
  const moved = frechetDistance(featureStats(sample(1), d), ref);
  assert.ok(same < 0.05, `same distribution: ${same}`);
  assert.ok(Math.abs(moved - d) < 0.5, `mean shifted by 1 in ${d} dims: ${moved}`);
});

Deno.test("the eigenvalues converge on a tridiagonal whose noise block is far below its norm", async () => {
  // Recorded from dit-mnist's samples, where the relative deflation test alone never converged.
  const { d, e } = JSON.parse(
    await Deno.readTextFile(`${REPO_ROOT}suites/testdata/fid_ql_stall.json`),
  ) as { d: number[]; e: number[] };
  const n = d.length;
  const a = new Float64Array(n * n);
  let tr = 0, fro = 0;
  for (let i = 0; i < n; i++) {
    a[i * n + i] = d[i]!;
    tr += d[i]!;
    fro += d[i]! ** 2;
    if (i + 1 < n) {
      a[(i + 1) * n + i] = a[i * n + i + 1] = e[i]!;
      fro += 2 * e[i]! ** 2;
    }
  }
  const ev = symmetricEigenvalues(a, n);
  assert.ok(Math.abs(ev.reduce((s, v) => s + v, 0) - tr) < 1e-9 * tr);
  assert.ok(Math.abs(ev.reduce((s, v) => s + v * v, 0) - fro) < 1e-9 * fro);
});

Deno.test("dit-mnist's card names the file's sha256 and size, and the suite pins the same", async () => {
  const text = await Deno.readTextFile(`${REPO_ROOT}models/dit-mnist.md`);
  const card = JSON.parse(text.match(/```json\n([\s\S]*?)\n```/)![1]!);
  assert.equal(card.sha256, await sha256File(`${REPO_ROOT}${card.file}`));
  assert.equal(card.bytes, (await Deno.stat(`${REPO_ROOT}${card.file}`)).size);
  assert.equal(card.sha256, MODELS.ditMnist.sha256);
});

Deno.test("the obs-diff suite's quick form completes and its report compares the weightings", async () => {
  const ctx = {
    quick: true,
    targets: obsDiff.targets,
    progress: () => {},
    backend: createBackend,
  };
  const cells = await obsDiff.plan(ctx);
  assert.ok(cells.length >= 3 && cells.every((c) => c.target === "ort-node"));
  const results: CellResult[] = [];
  for (const c of cells) {
    const r = await obsDiff.runCell(c, ctx);
    assert.ok(typeof r.extra?.fid === "number" && r.flops_effective! > 0, c.key);
    assert.ok(r.time_median_ms! > 0 && r.accuracy !== null, c.key);
    results.push({
      ...emptyCell({
        key: c.key,
        suite: "obs-diff",
        model: "dit-mnist",
        model_sha256: "",
        dataset: "mnist",
        dataset_hash: "",
        target: c.target,
        device: "",
        method: c.method,
        params: "{}",
        sparsity_target: null,
        metric: "class_consistency",
      }),
      ...r,
    } as CellResult);
  }
  const pruned = results.find((r) => r.extra.arm === "obs-log")!;
  assert.ok(pruned.flops_effective! < pruned.flops_dense!);
  assert.ok(Math.abs(pruned.sparsity_realized! - 0.5) < 0.01, `${pruned.sparsity_realized}`);
  // A uniform twin of the log-weighted cell, to exercise the paired comparison.
  const twin = { ...pruned, extra: { ...pruned.extra, arm: "obs-uniform" } };
  const d = pairedFidDifference(pruned, twin)!;
  assert.equal(d.estimate, 0);
  const text = obsDiffReport.findings!([...results, twin], {} as never).map((f) => f.text);
  assert.ok(text.some((t) => /paired difference/.test(t)), text.join("\n"));
});
