import assert from "node:assert/strict";
import turboVbi, {
  compressedPin,
  readPinnedModel,
  STUDY_BASES,
  TURBO_VBI_METHODS,
  weightLayers,
} from "./turbo_vbi.ts";
import { turboVbiReport } from "./turbo_vbi_report.ts";
import { decodeModel } from "../src/onnx/model.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { emptyCell } from "../src/result.ts";
import { createBackend } from "../src/backends/mod.ts";
import type { CellResult } from "../src/result.ts";
import type { LayerRecord } from "./turbo_vbi_figures.ts";

const COMPRESSED = TURBO_VBI_METHODS.filter((m) => m !== "dense") as Exclude<
  typeof TURBO_VBI_METHODS[number],
  "dense"
>[];

Deno.test("every compressed model matches its pin and the shapes its training record states", async () => {
  for (const base of STUDY_BASES) {
    for (const m of COMPRESSED) {
      const { pin, record } = compressedPin(base, m);
      const bytes = await readPinnedModel(pin);
      const rec = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}${record}`));
      assert.equal(await sha256Hex(bytes), rec.onnx_sha256, `${pin.id}: the ONNX inside the .gz`);
      const layers = weightLayers(decodeModel(bytes));
      const recorded = rec.layers as LayerRecord[];
      assert.equal(layers.length, recorded.length, pin.id);
      layers.forEach((l, i) => {
        const n = recorded[i]!.sliced_shape.reduce((a, b) => a * b, 1);
        assert.equal(l.weight.length, n, `${pin.id} layer ${i}`);
      });
    }
  }
});

Deno.test("readPinnedModel() refuses a file whose sha256 differs from the pin, naming the fix", async () => {
  const base = STUDY_BASES[0]!;
  await assert.rejects(
    () => readPinnedModel({ ...base.dense, sha256: "0".repeat(64) }),
    /update suites\/_pins\.ts/,
  );
});

Deno.test("a quick turbo-vbi cell records accuracy with its interval, compression and a speedup", async () => {
  // Cast: the context's fields beyond these (a shared backend pool) are not used by this suite.
  const ctx = {
    quick: true,
    targets: ["ort-wasm" as const],
    progress: () => {},
    backend: (id: string) => createBackend(id),
  } as unknown as Parameters<typeof turboVbi.plan>[0];
  const cells = await turboVbi.plan(ctx);
  assert.equal(cells.length, STUDY_BASES.length * TURBO_VBI_METHODS.length);
  const cell = cells.find((c) => c.key === "mlp/turbo-vbi/ort-wasm")!;
  const r = await turboVbi.runCell(cell, ctx);
  assert.equal(r.eval_samples, 500);
  assert.ok(r.accuracy! > 0.5 && r.accuracy! <= 1);
  assert.ok((r.extra!.accuracy_ci_low as number) <= r.accuracy!);
  assert.ok((r.extra!.compression as number) > 1);
  const reg = r.extra!.regularity as number;
  assert.ok(reg >= 0 && reg <= 1);
  assert.ok(r.flops_reduction! > 1, "the sliced model has fewer FLOPs");
  assert.ok(r.speedup! > 0 && r.speedup_ci_low! <= r.speedup! && r.speedup! <= r.speedup_ci_high!);
});

function fake(method: string, over: Partial<CellResult>, extra: CellResult["extra"]): CellResult {
  return {
    ...emptyCell({
      key: method,
      suite: "turbo-vbi",
      model: method === "dense" ? "mlp-relu-mnist" : `mlp-relu-mnist-${method}`,
      model_sha256: "",
      dataset: "mnist",
      dataset_hash: "",
      target: "ort-wasm",
      device: "",
      method,
      params: "{}",
      sparsity_target: null,
      metric: "accuracy",
    }),
    eval_samples: 2000,
    ...over,
    extra: { base: "mlp", ...extra },
  };
}

Deno.test("the report's findings state Turbo-VBI and each baseline with their intervals", () => {
  const cells = [
    fake("dense", { accuracy: 0.98, flops_reduction: 1 }, { compression: 1 }),
    fake("turbo-vbi", {
      accuracy: 0.95,
      flops_reduction: 3,
      speedup: 2.5,
      speedup_ci_low: 2.4,
      speedup_ci_high: 2.6,
    }, {
      compression: 20,
      regularity: 0.9,
      neuron_share: 0.7,
      accuracy_ci_low: 0.94,
      accuracy_ci_high: 0.96,
      accuracy_delta: -0.03,
      accuracy_delta_ci_low: -0.04,
      accuracy_delta_ci_high: -0.02,
    }),
    fake("magnitude", { accuracy: 0.97, flops_reduction: 1.1, speedup: 1 }, {
      compression: 20,
      regularity: 0.1,
    }),
  ];
  const text = turboVbiReport.findings!(cells, {} as never).map((f) => f.text).join("\n");
  assert.match(text, /Turbo-VBI keeps 95\.00 % \[94\.0 %, 96\.0 %\]/);
  assert.match(text, /-3\.0 pp \[-4\.0, -2\.0\]/);
  assert.match(text, /2\.50x \[2\.40, 2\.60\] on ort-wasm/);
  assert.match(text, /magnitude \+ fine-tune at 20\.0x/);
  assert.equal(turboVbiReport.sections!(cells, {} as never).length, 1);
});

Deno.test("LeNet's wgsl cells are skipped with the reason: the kernels have no Conv", async () => {
  const ctx = {
    quick: true,
    targets: ["wgsl" as const],
    progress: () => {},
    backend: (id: string) => createBackend(id),
  } as unknown as Parameters<typeof turboVbi.plan>[0];
  const cell = (await turboVbi.plan(ctx)).find((c) => c.key === "lenet/turbo-vbi/wgsl")!;
  const r = await turboVbi.runCell(cell, ctx);
  assert.equal(r.status, "skipped");
  assert.match(r.error!, /not Conv layers/);
  assert.equal(r.extra!.base, "lenet");
});

Deno.test("the findings name a target whose accuracy disagrees with ort-wasm's and the cells not run", () => {
  const dense = fake("dense", { accuracy: 0.89, flops_reduction: 1 }, { compression: 1 });
  const cells = [
    dense,
    { ...dense, target: "ort-webgpu", accuracy: 0.35 },
    fake("turbo-vbi", { accuracy: 0.8, flops_reduction: 1.4, speedup: 1.1 }, { compression: 17 }),
    { ...dense, target: "wgsl", status: "skipped" as const, error: "wgsl: no Conv kernels" },
  ];
  const text = turboVbiReport.findings!(cells, {} as never).map((f) => f.text).join("\n");
  assert.match(
    text,
    /mlp-relu-mnist on ort-webgpu: accuracy 35\.00 % .* against 89\.00 % on ort-wasm/,
  );
  assert.match(text, /mlp: wgsl skipped: wgsl: no Conv kernels/);
});
