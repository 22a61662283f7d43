import assert from "node:assert/strict";
import { assertFinite, type TensorMap } from "../backend.ts";
import { createBackend } from "./mod.ts";
import { DataType, encodeModel, encodeModel as enc, type ModelProto } from "../onnx/model.ts";
import { tinyMlp } from "../_test_fixtures.ts";

const vi = (name: string, dims: number[]) => ({
  name,
  type: {
    tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
  },
});

function oneOp(opType: string, inDims: number[], outDims: number[], domain = ""): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }, ...(domain ? [{ domain, version: 1 }] : [])],
    graph: {
      name: opType,
      node: [{ name: opType, opType, domain, input: ["x"], output: ["y"] }],
      input: [vi("x", inDims)],
      output: [vi("y", outDims)],
    },
  };
}

const feeds = (dims: number[], fill = 0.5): TensorMap => ({
  x: { type: "float32", data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill), dims },
});

Deno.test("every ORT target runs the tiny MLP and agrees with ort-node", async () => {
  const model = encodeModel(tinyMlp());
  const input: TensorMap = {
    input: {
      type: "float32",
      data: new Float32Array(784).map((_, i) => (i % 7) / 7),
      dims: [1, 784],
    },
  };
  const outs: Float32Array[] = [];
  for (const id of ["ort-node", "ort-wasm", "ort-webgpu"]) {
    const b = await createBackend(id);
    const why = await b.probe();
    if (why) {
      console.warn(`skipping ${id}: ${why}`);
      continue;
    }
    const m = await b.load(model, { label: "tiny", feeds: input });
    outs.push((await m.run(input)).logits!.data as Float32Array);
    assert.ok(m.coldMs > 0);
    const s = await m.sampler(input, "tiny").sample({ now: () => performance.now() });
    assert.ok(s >= 0);
    await m.release();
  }
  for (const o of outs.slice(1)) {
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(o[i]! - outs[0]![i]!) < 1e-4);
  }
});

Deno.test("a model with an operator ORT does not have fails to load with a one-line error", async () => {
  const model = enc(oneOp("NoSuchOp", [2], [2], "com.example"));
  for (const id of ["ort-node", "ort-wasm"]) {
    const b = await createBackend(id);
    await assert.rejects(b.load(model, { label: "weird", feeds: feeds([2]) }), (e: Error) => {
      assert.match(e.message, /^Cannot load model weird: /);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("ort-webgpu refuses a model whose nodes fall back to the CPU provider", async () => {
  const b = await createBackend("ort-webgpu");
  const why = await b.probe();
  if (why) {
    console.warn(`skipping: ${why}`);
    return;
  }
  // Det has no WebGPU kernel in ORT-web 1.30: ORT would silently run it on the CPU.
  await assert.rejects(
    b.load(enc(oneOp("Det", [4, 4], [])), { label: "det", feeds: feeds([4, 4]) }),
    /Model det: ORT placed nodes on CPUExecutionProvider instead of WebGPU/,
  );
});

Deno.test("assertFinite() names the output and element holding NaN", () => {
  const out: TensorMap = { logits: { type: "float32", data: Float32Array.of(1, NaN), dims: [2] } };
  assert.throws(
    () => assertFinite(out, "m"),
    /Model m produced NaN in output "logits" at element 1/,
  );
  assert.doesNotThrow(() =>
    assertFinite({ y: { type: "float32", data: Float32Array.of(1), dims: [1] } }, "m")
  );
});

Deno.test("a model producing NaN is caught before it is timed", async () => {
  const model: ModelProto = oneOp("Log", [2], [2]);
  const b = await createBackend("ort-node");
  const m = await b.load(enc(model), { label: "log", feeds: feeds([2], -1) });
  const out = await m.run(feeds([2], -1));
  assert.throws(() => assertFinite(out, "log"), /Model log produced NaN in output "y"/);
  await m.release();
});

Deno.test("ort-node sessions keep idle pool threads from spinning, so alternated sessions do not slow each other", async () => {
  const { ortNodeSessionOptions } = await import("./ort_node.ts");
  const o = ortNodeSessionOptions(2);
  assert.equal(o.intraOpNumThreads, 2);
  assert.equal(o.extra.session.intra_op.allow_spinning, "0");
  assert.equal(o.extra.session.inter_op.allow_spinning, "0");
  // onnxruntime-node accepts the options (it rejects malformed `extra` entries).
  const b = await createBackend("ort-node");
  const input: TensorMap = {
    input: { type: "float32", data: new Float32Array(784).fill(0.5), dims: [1, 784] },
  };
  const m = await b.load(enc(tinyMlp()), { label: "spin", feeds: input });
  assert.equal((await m.run(input)).logits!.dims[1], 10);
  await m.release();
});
