import assert from "node:assert/strict";
import { selectSuites } from "../suites/mod.ts";
import { BROWSER_SUITES, browserForm } from "./browser_suites.ts";

Deno.test("BROWSER_SUITES are the embedded default's suites, in its order", () => {
  assert.deepEqual(
    BROWSER_SUITES.map((s) => s.id),
    selectSuites([]).map((s) => s.suite.id),
  );
});

Deno.test("browserForm() runs ort-wasm where a suite names ort-node and says so", () => {
  for (const s of BROWSER_SUITES) {
    const { suite, substitutions } = browserForm(s);
    assert.equal(suite.id, s.id);
    if (suite.kind !== "model" || s.kind !== "model") {
      assert.equal(suite, s);
      assert.deepEqual(substitutions, []);
      continue;
    }
    assert.equal(suite.model, s.model, "pins are the suite's own");
    assert.equal(suite.dataset, s.dataset);
    assert.notEqual(suite.accuracyTarget, "ort-node");
    assert.ok(!suite.quick?.targets?.includes("ort-node"), `${s.id} still times ort-node`);
    assert.equal(
      substitutions.some((x) => x.role === "accuracy"),
      s.accuracyTarget === "ort-node",
    );
    assert.equal(
      substitutions.some((x) => x.role === "timing"),
      s.quick?.targets?.includes("ort-node") === true,
    );
    for (const x of substitutions) assert.deepEqual([x.from, x.to], ["ort-node", "ort-wasm"]);
  }
});
