/**
 * The ONNX graph of the `kernels` suite's peer: one MatMul(x, W) with W stored [k, n], as torch
 * exports a Linear applied to a 2-D input, so ORT-web times the same GEMV as the WGSL kernels.
 *
 * @module
 */

import { DataType, encodeModel } from "../src/onnx/model.ts";
import { floatTensor } from "../src/onnx/tensor_data.ts";

/**
 * A model computing y[1, n] = x[1, k] · W[k, n].
 *
 * @param shape Inputs `k` and outputs `n`.
 * @param wt The weight as [k, n] row-major (the transpose of PyTorch's [n, k]).
 * @returns The model's bytes.
 */
export function matMulModel(shape: { k: number; n: number }, wt: Float32Array): Uint8Array {
  const io = (name: string, width: number) => ({
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: [{ dimValue: 1 }, { dimValue: width }] },
      },
    },
  });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "gemv",
      node: [{ name: "matmul", opType: "MatMul", input: ["x", "W"], output: ["y"] }],
      initializer: [floatTensor("W", [shape.k, shape.n], wt)],
      input: [io("x", shape.k)],
      output: [io("y", shape.n)],
    },
  });
}
