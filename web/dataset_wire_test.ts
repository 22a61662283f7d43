import assert from "node:assert/strict";
import { loadDataset } from "../datasets/mod.ts";
import { decodeDataset, encodeDataset } from "./dataset_wire.ts";

for (const id of ["mnist", "english-text"] as const) {
  Deno.test(`decodeDataset() rebuilds ${id} from its wire form with the loader's hashes`, async () => {
    const d = await loadDataset(id);
    assert.ok(d.kind === "image" || d.kind === "text");
    const back = await decodeDataset(encodeDataset(d));
    assert.equal(back.kind, d.kind);
    assert.equal(back.hash, d.hash);
    assert.deepEqual(back.splitHashes, d.splitHashes);
    if (back.kind === "text" && d.kind === "text") {
      assert.deepEqual(back.vocab, d.vocab);
      assert.deepEqual(back.splits.evaluation.sections, d.splits.evaluation.sections);
    }
  });
}

Deno.test("decodeDataset() refuses cut bytes in one line naming the fix", async () => {
  const d = await loadDataset("english-text");
  const wire = encodeDataset(d as Parameters<typeof encodeDataset>[0]);
  await assert.rejects(
    () => decodeDataset(wire.subarray(0, wire.length - 1)),
    /not whole \(evaluation\.ids missing or cut short\); reload the page/,
  );
});
