import assert from "node:assert/strict";
import { acquireGpu } from "../kernels/gpu_device.ts";
import type { CustomSuiteContext } from "../src/suite.ts";
import { emptyCell } from "../src/result.ts";
import type { CellResult } from "../src/result.ts";
import suite from "./decode.ts";
import { decodeReport } from "./decode_report.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`decode suite plan tests skipped: ${(e as Error).message}`);
  return undefined;
});

function context(extra: Partial<CustomSuiteContext> = {}): CustomSuiteContext {
  return {
    quick: true,
    targets: ["wgsl", "ort-webgpu"],
    progress: () => {},
    backend: () => Promise.reject(new Error("no backend in this test")),
    ...extra,
  };
}

Deno.test({
  name: "decode plan() keeps the dense rows and only the --variant and --sparsity named",
  ignore: !gpu,
  fn: async () => {
    if (suite.kind !== "custom") throw new Error("decode is a custom suite");
    const all = await suite.plan(context());
    assert.ok(all.some((c) => c.method === "teal") && all.some((c) => c.method === "wina"));
    const teal = await suite.plan(context({ methods: ["teal"] }));
    assert.deepEqual([...new Set(teal.map((c) => c.method))].sort(), ["dense", "teal"]);
    assert.ok(teal.some((c) => c.key.startsWith("peer/ort-webgpu/") && c.method === "teal"));
    const dense = await suite.plan(context({ methods: ["dense"] }));
    assert.deepEqual(dense, all.filter((c) => c.method === "dense"));
    // No cell runs at 0.3: only the dense rows are left.
    assert.deepEqual(await suite.plan(context({ sparsities: [0.3] })), dense);
    assert.deepEqual(await suite.plan(context({ methods: [], sparsities: [] })), all);
  },
});

function row(target: string, shape: string, ms: number): CellResult {
  return {
    ...emptyCell({
      key: `${target}/${shape}`,
      suite: "decode",
      model: shape,
      model_sha256: "0".repeat(64),
      dataset: "",
      dataset_hash: "",
      target,
      device: "gpu",
      method: "dense",
      params: "{}",
      sparsity_target: null,
      metric: "",
    }),
    status: "completed",
    extra: { shape, context: 512, ms_per_token: ms, dtype: "f16" },
  };
}

Deno.test("the decode report sets the engine's dense decode beside ORT's on the same decode step", () => {
  const cells = [
    row("wgsl", "llama-7b-2l", 0.5),
    row("ort-webgpu", "llama-7b-2l", 20),
    row("ort-webgpu", "lm-char", 3),
  ];
  const text = decodeReport.findings!(cells, { id: "r", run: {}, cells })
    .map((f) => f.text).join("\n");
  assert.match(
    text,
    /llama-7b-2l decode step at context 512: the engine's dense 0\.500 ms\/token against ort-webgpu's 20\.0 ms \(40\.0x faster\)/,
  );
  assert.doesNotMatch(text, /lm-char decode step/, "no engine row for lm-char: nothing to compare");
  const slower = [row("wgsl", "lm-char", 4), { ...row("ort-node", "lm-char", 0.5), key: "n" }];
  const cpu = decodeReport.findings!(slower, { id: "r", run: {}, cells: slower })
    .map((f) => f.text).join("\n");
  assert.match(cpu, /against ort-node's 0\.500 ms \(8\.0x slower\)/);
});
