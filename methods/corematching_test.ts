import assert from "node:assert/strict";
import { runZooSlice } from "./_test_runs.ts";

Deno.test("corematching shortens the sequence of the zoo ViT and its ablations run", async () => {
  const { coreMatchingVitRelu } = await import("../suites/corematching.ts");
  const params = { alpha: 0.2, beta: 0.3, betaNeurons: 0.02, layer: 1 };
  const cells = await runZooSlice(
    coreMatchingVitRelu,
    ["corematching", "corematching-tokens", "corematching-neurons"].map((method) => ({
      method,
      params,
    })),
    { evaluation: 12, calibration: 8 },
  );
  for (const c of cells) assert.equal(c.status, "completed", `${c.method}: ${c.error}`);
  const both = cells.find((c) => c.method === "corematching")!;
  const factors = Object.values(both.layer_density ?? {});
  assert.ok(
    factors.length > 0 && factors.every((f) => f < 1),
    `layer factors ${JSON.stringify(both.layer_density)}`,
  );
  assert.ok(both.flops_reduction! > 1);
  const tokensOnly = cells.find((c) => c.method === "corematching-tokens")!;
  const neuronsOnly = cells.find((c) => c.method === "corematching-neurons")!;
  assert.ok(
    both.flops_effective! < Math.min(tokensOnly.flops_effective!, neuronsOnly.flops_effective!),
  );
});

Deno.test("corematching's shorter sequence runs on ort-webgpu with no compute node on the CPU provider", async () => {
  const { coreMatchingVitRelu } = await import("../suites/corematching.ts");
  const cells = await runZooSlice(
    coreMatchingVitRelu,
    [{ method: "corematching", params: { alpha: 0.1, beta: 0.3, betaNeurons: 0.02, layer: 0 } }],
    { evaluation: 4, calibration: 4 },
    ["ort-webgpu"],
  );
  // The backend refuses a model whose non-shape nodes ORT places on the CPU (a NonZero did).
  for (const c of cells) assert.equal(c.status, "completed", `${c.method}: ${c.error}`);
  assert.ok(cells.find((c) => c.method === "corematching")!.flops_reduction! > 1);
});
