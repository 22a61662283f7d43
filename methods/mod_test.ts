import assert from "node:assert/strict";
import { tinySuite } from "../src/_test_fixtures.ts";
import type { MethodContext } from "../src/method.ts";
import type { VariantSpec } from "../src/suite.ts";
import { getMethod, METHODS } from "./mod.ts";
import { runSuite } from "./_test_runs.ts";

async function runTiny(
  variants: VariantSpec[],
  targets: ("ort-node" | "ort-wasm" | "ort-webgpu" | "wgsl")[] = ["ort-node"],
) {
  // Pixels without exact zeros, so calibrated thresholds alone decide the sparsity.
  const { suite, modelBytes, dataset } = await tinySuite({ variants, targets }, {
    zeroFraction: 0,
  });
  return runSuite(suite, { readModel: () => Promise.resolve(modelBytes), dataset });
}

Deno.test("every activation and pruning method produces a model that ORT runs, with its figures", async () => {
  const variants: VariantSpec[] = [
    { method: "relu" },
    { method: "topk", sparsity: [0.5] },
    { method: "stat-topk", sparsity: [0.5] },
    { method: "stat-topk", params: { form: "soft" }, sparsity: [0.5] },
    { method: "teal", sparsity: [0.5] },
    { method: "wina", sparsity: [0.5] },
    { method: "wina", params: { select: "threshold" }, sparsity: [0.5] },
    { method: "cats", sparsity: [0.5] },
    { method: "deja-vu", params: { epochs: 2 }, sparsity: [0.5] },
    { method: "r-sparse", sparsity: [0.5] },
    { method: "magnitude", sparsity: [0.5] },
    { method: "magnitude", params: { scope: "global" }, sparsity: [0.5] },
    { method: "wanda", sparsity: [0.5] },
    { method: "sparsegpt", sparsity: [0.5] },
    { method: "sparsegpt-nm", params: { n: 2, m: 4 } },
    { method: "sparsegpt-structured", sparsity: [0.5] },
  ];
  const cells = await runTiny(variants);
  for (const c of cells) {
    assert.equal(c.status, "completed", `${c.method} ${c.params}: ${c.error}`);
    assert.ok(c.accuracy !== null && c.flops_effective !== null && c.speedup !== null, c.method);
  }
  const by = (m: string, p = "{}") => cells.find((c) => c.method === m && c.params === p)!;
  // Calibrated methods land within 2 points of the target on the evaluation split.
  for (const [m, p] of [["teal", "{}"], ["wina", '{"select":"threshold"}']] as [string, string][]) {
    assert.ok(
      Math.abs(by(m, p).sparsity_realized! - 0.5) <= 0.02,
      `${m}: realised ${by(m, p).sparsity_realized}`,
    );
  }
  assert.ok(Math.abs(by("wina").sparsity_realized! - 0.5) <= 0.01, "top-k keeps exactly half");
  assert.ok(Number(by("sparsegpt").extra.compression_ratio) > 1.5);
  assert.ok(by("sparsegpt-structured").flops_effective! < by("dense").flops_dense!);
  assert.ok(typeof by("relu").extra.dnr === "number", "ReLU models report a dead-neuron rate");
  // CoreMatching and head pruning need attention, which the tiny MLP lacks: the zoo tests
  // below exercise them.
  const needAttention = (id: string) => id.startsWith("corematching") || id.endsWith("-heads");
  // spark needs a model trained with Spark's FFN: methods/spark_ffn_test.ts runs it on one.
  for (const id of METHODS.keys()) {
    if (needAttention(id) || id === "spark") continue;
    assert.ok(cells.some((c) => c.method === id), `method ${id} is not exercised`);
  }
});

Deno.test("every activation method and the pruned variants run on every ORT target and on the wgsl kernels", async () => {
  const cells = await runTiny(
    [
      { method: "relu" },
      { method: "topk", sparsity: [0.5] },
      { method: "stat-topk", sparsity: [0.5] },
      { method: "teal", sparsity: [0.5] },
      { method: "wina", sparsity: [0.5] },
      { method: "cats", sparsity: [0.5] },
      { method: "sparsegpt-structured", sparsity: [0.5] },
    ],
    ["ort-wasm", "ort-node", "ort-webgpu", "wgsl"],
  );
  assert.equal(cells.length, 8 * 4);
  for (const c of cells) assert.equal(c.status, "completed", `${c.target} ${c.method}: ${c.error}`);
});

/** A context whose model and calibration are never reached: refusals come before any work. */
function untouchable(sparsity: number | null, params: MethodContext["params"]): MethodContext {
  return {
    model: {},
    sparsity,
    params,
    seed: 0,
    capture: () => Promise.reject(new Error("checked input must be refused before calibration")),
    valueShape: () => undefined,
  };
}

async function refusal(id: string, sparsity: number | null, params = {}): Promise<string> {
  try {
    await getMethod(id).prepare(untouchable(sparsity, params));
  } catch (e) {
    assert.ok(e instanceof RangeError, `${id}: ${e}`);
    assert.ok(!e.message.includes("\n"), `${id}: one line, got ${e.message}`);
    return e.message;
  }
  throw new Error(`${id} accepted sparsity ${sparsity} with ${JSON.stringify(params)}`);
}

Deno.test("every method declares its paper, what it skips, its calibration and each parameter", () => {
  for (const m of METHODS.values()) {
    assert.ok(m.paper.length > 0 && m.skips.length > 0, m.id);
    assert.ok(["none", "inputs", "thresholds"].includes(m.calibration), m.id);
    assert.equal(m.calibrated, m.calibration === "thresholds", m.id);
    for (const [key, p] of Object.entries(m.params)) assert.ok(p.doc.length > 0, `${m.id} ${key}`);
  }
});

Deno.test("every method refuses a sparsity outside [0, 1), or any sparsity when it takes none, naming the fix", async () => {
  for (const m of METHODS.values()) {
    if (m.needsSparsity) {
      for (const s of [1, 1.5, -0.1, NaN]) {
        const msg = await refusal(m.id, s);
        assert.match(msg, /is outside \[0, 1\); set it to the fraction to drop/, `${m.id} ${s}`);
        assert.ok(msg.startsWith(m.id), msg);
      }
    } else {
      assert.match(await refusal(m.id, 0.5), /takes no target sparsity.*drop "sparsity"/, m.id);
    }
  }
});

Deno.test("every method refuses an unknown parameter, listing the valid ones", async () => {
  for (const m of METHODS.values()) {
    const msg = await refusal(m.id, m.needsSparsity ? 0.5 : null, { sparsitty: 0.5 });
    const names = Object.keys(m.params);
    assert.match(
      msg,
      names.length
        ? new RegExp(`^${m.id}: unknown parameter "sparsitty" \\(valid: ${names.join(", ")}\\)`)
        : new RegExp(`^${m.id} takes no parameters; remove "sparsitty"`),
    );
  }
});

Deno.test("methods refuse parameter values of the wrong type or range, saying what is allowed", async () => {
  const cases: [string, number | null, Record<string, number | string | boolean>, RegExp][] = [
    ["sparsegpt-nm", null, { n: 4, m: 4 }, /n must be below m .* got 4:4; e\.g\. n 2, m 4/],
    ["sparsegpt-nm", null, { n: 4, m: 2 }, /n must be below m .* got 4:2/],
    ["sparsegpt-nm", null, { m: 1 }, /m must be an integer ≥ 2, got 1; set m/],
    ["sparsegpt-nm", null, { n: 0 }, /n must be an integer ≥ 1, got 0/],
    ["sparsegpt-nm", null, { n: 1.5 }, /n must be an integer ≥ 1, got 1\.5/],
    ["sparsegpt-nm", null, { n: "2" }, /n must be an integer ≥ 1, got "2"/],
    ["magnitude", 0.5, { scope: "all" }, /scope must be "layer" or "global", got "all"/],
    ["wina", 0.5, { select: "top-k" }, /select must be "topk" or "threshold", got "top-k"/],
    ["stat-topk", 0.5, { form: true }, /form must be "hard" or "soft", got true/],
    ["corematching", null, { alpha: 0 }, /alpha must be a number > 0 and ≤ 1, got 0/],
    ["corematching-tokens", null, { beta: 1.5 }, /beta must be a number > 0 and ≤ 1/],
    ["corematching-neurons", null, { layer: -1 }, /layer must be an integer ≥ 0, got -1/],
  ];
  for (const [id, s, params, message] of cases) {
    assert.match(await refusal(id, s, params), message, `${id} ${JSON.stringify(params)}`);
  }
});

Deno.test("a variant with a bad parameter becomes an errored cell naming it, and the others complete", async () => {
  const cells = await runTiny([
    { method: "magnitude", params: { scope: "everywhere" }, sparsity: [0.5] },
    { method: "magnitude", sparsity: [0.5] },
  ]);
  const bad = cells.find((c) => c.params.includes("everywhere"))!;
  assert.equal(bad.status, "errored");
  assert.match(bad.error, /scope must be "layer" or "global", got "everywhere"/);
  for (const c of cells.filter((c) => c !== bad)) assert.equal(c.status, "completed", c.method);
});
