import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { encodeModel, type ModelProto } from "./model.ts";
import { Rewriter } from "./rewriter.ts";

function identityModel(opset: number): ModelProto {
  const io = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 6 }] } } },
  });
  return {
    irVersion: 7,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: "g",
      node: [{ opType: "Identity", name: "id", input: ["x"], output: ["h"] }],
      input: [io("x")],
      output: [io("h")],
    },
  };
}

Deno.test("Rewriter writes TopK, Slice and GreaterOrEqual in the form opset 9 takes, computing the same mask", async () => {
  const x = new Float32Array([0.5, -2, 3, 1, 0.25, 2]);
  const masks: number[][] = [];
  for (const opset of [9, 13]) {
    const model = identityModel(opset);
    const rw = new Rewriter(model, "t");
    const [top] = rw.node("TopK", ["h", rw.intConst("k", [3])], {
      attrs: { axis: -1, largest: 1, sorted: 1 },
      intAttrs: ["axis", "largest", "sorted"],
      outputs: 2,
    });
    const [kth] = rw.node("Slice", [
      top!,
      rw.intConst("s", [2]),
      rw.intConst("e", [3]),
      rw.intConst("a", [1]),
    ]);
    const [keep] = rw.node("GreaterOrEqual", ["h", kth!]);
    const [mask] = rw.node("Cast", [keep!], { attrs: { to: 1 }, intAttrs: ["to"] });
    rw.commitAsOutput(mask!);
    const ops = model.graph!.node!.map((n) => n.opType);
    if (opset === 9) {
      assert.ok(!ops.includes("GreaterOrEqual"), "opset 9 has no GreaterOrEqual");
      assert.equal(model.graph!.node!.find((n) => n.opType === "TopK")!.input!.length, 1);
    }
    const s = await ort.InferenceSession.create(encodeModel(model));
    const out = await s.run({ x: new ort.Tensor("float32", x, [1, 6]) });
    masks.push([...(out[mask!]!.data as Float32Array)]);
    await s.release();
  }
  assert.deepEqual(masks[0], [0, 0, 1, 1, 0, 1]);
  assert.deepEqual(masks[1], masks[0]);
});
