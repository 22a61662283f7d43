import assert from "node:assert/strict";
import { repoPath } from "../lib/repo_root.ts";
import { createBackend } from "../src/backends/mod.ts";
import { loadDataset } from "../datasets/mod.ts";
import { emptyCell } from "../src/result.ts";
import type { CellResult } from "../src/result.ts";
import { measureRound, readPinned } from "./ap.ts";
import { AP_MODELS, apRoundPin } from "./ap_pins.ts";
import { pairedDifference, wilsonInterval } from "./ap_stats.ts";
import { apReport, deadNeuronReport } from "./ap_report.ts";

Deno.test("every pinned round of both arms is on disk with its sha256, all in under 5 MB", async () => {
  let bytes = 0;
  for (const m of AP_MODELS) {
    const pins = [
      apRoundPin(m, "dense", 0),
      ...(["imp", "ap"] as const).flatMap((arm) =>
        Array.from({ length: m.rounds }, (_, i) => apRoundPin(m, arm, i + 1))
      ),
    ];
    assert.equal(new Set(pins.map((p) => p.sha256)).size, pins.length, `${m.id}: rounds differ`);
    for (const p of pins) bytes += (await readPinned(p.path, p.sha256)).length;
  }
  assert.ok(bytes < 5e6, `${bytes} bytes`);
});

Deno.test("readPinned() refuses a file whose sha256 is not the pinned one, in one line", async () => {
  const m = AP_MODELS[0]!;
  const pin = apRoundPin(m, "dense", 0);
  await assert.rejects(readPinned(pin.path, "0".repeat(64)), (e: Error) => {
    assert.match(e.message, /has sha256 [0-9a-f]{64}, pinned 0{64}; re-run models\/train_ap\.py/);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
  assert.throws(() => apRoundPin(m, "ap", m.rounds + 1), /has no ap round/);
});

Deno.test("measureRound() on ORT reproduces PyTorch's accuracy, weight sparsity and dead-neuron rate of each arm's last round", async () => {
  const backend = await createBackend("ort-node");
  for (const m of AP_MODELS) {
    const record = JSON.parse(await Deno.readTextFile(repoPath(`models/ap/${m.id}.train.json`)));
    const dataset = await loadDataset(m.dataset);
    for (const arm of ["imp", "ap"] as const) {
      const pin = apRoundPin(m, arm, m.rounds);
      const r = await measureRound(backend, await readPinned(pin.path, pin.sha256), {
        model: m,
        dataset,
        label: pin.path,
      });
      const want = record[arm][m.rounds - 1];
      const n = r.correct.length;
      assert.equal(n, record.eval_samples);
      // float32 sums in another order may flip an argmax tie; allow one image.
      assert.ok(
        Math.abs(r.accuracy - want.accuracy_torch) <= 1 / n + 1e-7,
        `${pin.path}: ${r.accuracy}`,
      );
      assert.ok(Math.abs(r.weightSparsity - want.weight_sparsity) < 1e-6, `${pin.path} sparsity`);
      const torchDnr = want.dnr_torch.reduce((a: number, b: number) => a + b, 0) /
        want.dnr_torch.length;
      assert.ok(Math.abs(r.dnr - torchDnr) < 1e-3, `${pin.path}: dnr ${r.dnr} vs ${torchDnr}`);
      assert.deepEqual(
        Object.keys(r.dnrLayers),
        record.pruned.length === 2 ? ["fc1", "fc2"] : ["conv1", "conv2", "conv3", "fc1"],
      );
    }
  }
});

Deno.test("wilsonInterval() matches the closed form and refuses impossible counts", () => {
  const [lo, hi] = wilsonInterval(950, 1000);
  assert.ok(Math.abs(lo - 0.93466) < 1e-4 && Math.abs(hi - 0.96185) < 1e-4, `${lo} ${hi}`);
  assert.deepEqual(wilsonInterval(0, 10).map((v) => Number(v.toFixed(4))), [0, 0.2775]);
  assert.throws(() => wilsonInterval(11, 10), /successes <= trials/);
});

function binomialTail(n: number, k: number): number {
  let c = 1n;
  let sum = 0n;
  for (let i = 0; i <= k; i++) {
    if (i > 0) c = (c * BigInt(n - i + 1)) / BigInt(i);
    sum += c;
  }
  return Number((sum * 10n ** 12n) / 2n ** BigInt(n)) / 1e12;
}

Deno.test("pairedDifference() gives the difference, a bootstrap interval around it and McNemar's exact p", () => {
  const n = 1000;
  const a = new Uint8Array(n).fill(1);
  const b = new Uint8Array(n).fill(1);
  for (let i = 0; i < 30; i++) b[i] = 0; // only a right
  for (let i = 30; i < 40; i++) a[i] = 0; // only b right
  for (let i = 40; i < 100; i++) a[i] = b[i] = 0; // both wrong
  const d = pairedDifference(a, b, { seed: 1 });
  assert.equal(d.diff, 0.02);
  assert.equal(d.onlyA, 30);
  assert.equal(d.onlyB, 10);
  // Normal approximation: sd = sqrt((0.04 − 0.02²) / 1000) ≈ 0.0063, so about ±0.0123.
  assert.ok(d.low > 0.004 && d.low < 0.011, `low ${d.low}`);
  assert.ok(d.high > 0.029 && d.high < 0.036, `high ${d.high}`);
  assert.ok(Math.abs(d.p - 2 * binomialTail(40, 10)) < 1e-9, `p ${d.p}`);
  assert.deepEqual(pairedDifference(a, b, { seed: 1 }), d, "seeded: the same interval again");
  assert.equal(pairedDifference(a, a).p, 1);
  assert.throws(() => pairedDifference(a, b.subarray(1)), /equal, non-empty/);
});

function cell(arm: string, round: number, accuracy: number, extra: CellResult["extra"] = {}) {
  return {
    ...emptyCell({
      key: `m/${arm}/r${round}`,
      suite: "ap",
      model: "cnn",
      model_sha256: "0".repeat(64),
      dataset: "fashion-mnist",
      dataset_hash: "1".repeat(64),
      target: "ort-node",
      device: "cpu",
      method: arm,
      params: "{}",
      sparsity_target: 1 - 0.8 ** round,
      metric: "accuracy",
    }),
    sparsity_realized: 1 - 0.8 ** round,
    accuracy,
    eval_samples: 10_000,
    extra: { round, arm, dnr: 0.3, ...extra },
  } satisfies CellResult;
}

Deno.test("the AP report states AP vs IMP per model with intervals, and where AP leads beyond the noise", () => {
  const cells = [
    cell("dense", 0, 0.9),
    cell("imp", 1, 0.89),
    cell("imp", 2, 0.85),
    cell("ap", 1, 0.891, {
      diff_vs_imp: 0.001,
      diff_ci_low: -0.002,
      diff_ci_high: 0.004,
      mcnemar_p: 0.6,
    }),
    cell("ap", 2, 0.88, {
      diff_vs_imp: 0.03,
      diff_ci_low: 0.02,
      diff_ci_high: 0.04,
      mcnemar_p: 1e-9,
    }),
  ];
  const text = apReport.findings!(cells, {} as never).map((f) => f.text).join("\n");
  assert.match(
    text,
    /after 2 rounds \(36 % weight sparsity\) AP reaches accuracy 0\.8800 \[0\.87\d\d, 0\.88\d\d\] and IMP 0\.8500/,
  );
  assert.match(
    text,
    /AP − IMP \+3\.00 points \(paired 95 % interval \+2\.00 to \+4\.00, McNemar p = 1e-9\)/,
  );
  assert.match(
    text,
    /ahead of IMP beyond the noise at 1 \(rounds 2\), behind at 0, within noise at 1/,
  );
  assert.match(
    text.split("\n")[0]!,
    /^AP vs IMP measured on ORT over 1 model and 2 rounds: AP is ahead beyond the noise .* at 1 \(cnn rounds 2\) and behind at 0\.$/,
  );
  const [table] = apReport.sections!(cells, {} as never);
  assert.equal(table!.title, "cnn: AP vs IMP per round");
  const body = String(table!.body).replace(/>\s+</g, "><");
  assert.match(
    body,
    /<td>2<\/td><td>36 %<\/td><td>0\.8500 \[0\.84\d\d, 0\.85\d\d\]<\/td><td>0\.8800 \[/,
  );
  assert.ok(body.includes("<td>+3.00 [+2.00, +4.00]</td><td>1e-9</td>"), body);
  const charts = apReport.charts!(cells);
  assert.deepEqual(charts.map((c) => c.id), ["ap-cnn-accuracy", "ap-cnn-diff", "ap-cnn-dnr"]);
  const ap = charts[0]!.datasets.find((d) => d.label === "AP")!;
  assert.equal(ap.data.length, 3, "round 0 starts both arms");
});

Deno.test("the dead-neuron chart draws dense once for the variants that leave its rates unchanged", () => {
  const layers = (a: number, b: number) =>
    JSON.stringify({ "/Relu_output_0": a, "/Relu_1_output_0": b });
  const of = (method: string, s: number | null, dnr: string) => ({
    ...cell(method, 0, 0.9),
    suite: "mlp",
    method,
    sparsity_target: s,
    extra: { dnr_layers: dnr },
  });
  const cells = [
    of("dense", null, layers(0.4, 0.3)),
    of("teal", 0.5, layers(0.4, 0.3)),
    of("cats", 0.5, layers(0.40001, 0.3)),
    of("magnitude", 0.5, layers(0.45, 0.31)),
  ];
  const [chart] = deadNeuronReport.charts!(cells);
  assert.ok(chart);
  assert.deepEqual(chart.datasets.map((d) => d.label), [
    "dense and 2 unchanged variants",
    "magnitude 50 %",
  ]);
  assert.deepEqual(chart.labels, ["ReLU 1 (/Relu_output_0)", "ReLU 2 (/Relu_1_output_0)"]);
  assert.match(chart.title, /2 of 3 variants leave dense's rates unchanged/);
  assert.deepEqual(deadNeuronReport.charts!(cells.map((c) => ({ ...c, suite: "ap" }))), []);
});
