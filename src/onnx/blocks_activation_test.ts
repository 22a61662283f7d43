import assert from "node:assert/strict";
import { analyzeGraph } from "./blocks.ts";
import type { GraphProto } from "./model.ts";
import { floatTensor } from "./tensor_data.ts";

function ffn(act: { op: string; withX?: boolean }[]): GraphProto {
  const nodes = [{ opType: "MatMul", name: "up", input: ["x", "w1"], output: ["h0"] }];
  let cur = "h0";
  act.forEach(({ op, withX }, i) => {
    nodes.push({
      opType: op,
      name: `a${i}`,
      input: withX ? [cur, "h0"] : [cur],
      output: [`a${i}`],
    });
    cur = `a${i}`;
  });
  nodes.push({ opType: "MatMul", name: "down", input: [cur, "w2"], output: ["y"] });
  return {
    name: "g",
    node: nodes,
    initializer: [
      floatTensor("w1", [4, 8], new Float32Array(32)),
      floatTensor("w2", [8, 4], new Float32Array(32)),
    ],
    input: [{ name: "x" }],
    output: [{ name: "y" }],
  };
}

Deno.test("analyzeGraph() names HardSwish, x·HardSigmoid(x), Tanh and x·Sigmoid(x) FFN activations", () => {
  const kind = (g: GraphProto) => analyzeGraph(g).ffn.map((b) => b.activation);
  assert.deepEqual(kind(ffn([{ op: "HardSwish" }])), ["hardswish"]);
  assert.deepEqual(kind(ffn([{ op: "HardSigmoid" }, { op: "Mul", withX: true }])), ["hardswish"]);
  assert.deepEqual(kind(ffn([{ op: "Tanh" }])), ["tanh"]);
  assert.deepEqual(kind(ffn([{ op: "Sigmoid" }, { op: "Mul", withX: true }])), ["silu"]);
});
