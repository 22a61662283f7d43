import assert from "node:assert/strict";
import { unmatchedFilterWarnings } from "./plan.ts";
import { tinySuite } from "./_test_fixtures.ts";

Deno.test("unmatchedFilterWarnings() names values that match nothing and what exists instead", async () => {
  const suite = (await tinySuite()).suite;
  const w = unmatchedFilterWarnings(suite, false, {
    methods: ["nope"],
    sparsities: [0.99],
    targets: ["ort-webgpu"],
  });
  assert.equal(w.length, 3, w.join("\n"));
  assert.match(w[0]!, /no variant "nope" \(it has: /);
  assert.match(w[1]!, /no sparsity 0\.99/);
  assert.match(w[2]!, /does not run on target ort-webgpu/);
  assert.deepEqual(unmatchedFilterWarnings(suite, false, {}), []);
});
