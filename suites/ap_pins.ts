/**
 * The pins of the `ap` suite: every round's ONNX file of both arms, by sha256, with the wiring
 * and the pruning schedule `models/train_ap.py` used. Update them (and the card,
 * models/ap-rounds.md) whenever the script is re-run.
 *
 * @module
 */

import type { DatasetId } from "../datasets/types.ts";
import type { ModelPin } from "../src/suite.ts";

/** An arm of the study; round 0, the dense model both arms start from, is `dense`. */
export type ApArm = "dense" | "imp" | "ap";

/** One model of the study and its rounds. */
export interface ApModel {
  /** Model id, also the prefix of its files under models/ap/. */
  id: string;
  /** Dataset (its evaluation split is measured whole). */
  dataset: DatasetId;
  /** Architecture in words. */
  architecture: string;
  /** Graph input name. */
  input: string;
  /** Input shape without the batch dimension. */
  inputShape: number[];
  /** Initializers pruned (the weight sparsity is measured over them). */
  pruned: string[];
  /** Fraction of the remaining weights each round prunes, in both arms. */
  rate: number;
  /** Of that, the share AP's rule picks (negative weights that moved least). */
  apRate: number;
  /** Rounds per arm. */
  rounds: number;
  /** sha256 of round 0. */
  dense: string;
  /** sha256 of IMP's rounds 1.. */
  imp: string[];
  /** sha256 of AP's rounds 1.. */
  ap: string[];
}

/** The study's models. */
export const AP_MODELS: readonly ApModel[] = [
  {
    id: "ap-mlp-mnist",
    dataset: "mnist",
    architecture: "784-100-100-10 MLP, ReLU",
    input: "input",
    inputShape: [784],
    pruned: ["fc1.weight", "fc2.weight"],
    rate: 0.2,
    apRate: 0.02,
    rounds: 8,
    dense: "ac6a7c884e9d721a576f34bc99de786265f1a36de18712c04eb65d77dd07d289",
    imp: [
      "1153e3872f6d8fa098dfa0f7343257345566837bee3238a6577d0c7cbc11ec00",
      "c2ceb2b9cb06987d37de4938f8c88ff668039f82b18a875ed1c9a5c6e23840d1",
      "5b2c5307b952728e831f6aa72e0b41c91e12ff978b6e1b17b0153652795105c6",
      "8a8bf735f86b06a2ea3f292376fbddf360bb071dc6b082c1ad9a3d182307a009",
      "d597847447009d8268cdef412974dc262261ae237ad51fe61fcd3444e628d025",
      "b97adfef0254e3779cc36262d81ec46e948b31c35de92276bba5dbddd013d34d",
      "d7cb3115080d8027da00527371ef42257aaa533dbdbf3adb6d903640bacd356a",
      "daaec32eac7456005a5f0609aa04d245ebca501622dbf6505b64ff152b3f5833",
    ],
    ap: [
      "f855e2bfd2916401c87a118bf670b924a91cad85290d6a9245ded605d3481cfc",
      "8720f52325fb67ec01f4eabed893ba177b8d97bd9d273c05828e9e03d56a8c7b",
      "d3ee44e33aa4e16443c9a54185bc17ab7c0debe463bf200d77629972cc503dea",
      "a0476b0a7ea9ec45f8081b1ba3aad0e1179a965f2ab0855b59f4b968991fe220",
      "ab1d36108cb212f3e02a17477258ecbe3c3d32e155453040ed0308dc7e7f70af",
      "1ffd2f3fb5ac7b98005e9c52ad9b78e3111ea536400dbfa32fbbeca8665fcd24",
      "e0ca2f4fb6090a52d7954251920d7a9f4d6c5dd6d074daa4396fb1b1c7307afc",
      "e60c4fde6551a4aeddc0fb0d140c21c12faf299d8bb4dc44ee38ccb408cae1ae",
    ],
  },
  {
    id: "ap-cnn-fmnist",
    dataset: "fashion-mnist",
    architecture: "conv3x3(16)-pool-conv3x3(32)-pool-conv3x3(32)-pool-fc(64)-fc(10), ReLU",
    input: "pixels",
    inputShape: [1, 28, 28],
    pruned: ["conv2.weight", "conv3.weight", "fc1.weight"],
    rate: 0.2,
    apRate: 0.02,
    rounds: 10,
    dense: "682e6593e524e0c535679a22d7f2a1b374d3a1384efe855951c9d787aa705d87",
    imp: [
      "1fd1df9893114958fdce1d5795100283b61e1420d1add0bb224ff9226c886215",
      "a32f746ab93a338ec200c6b621c7df413ddb37c48e332c7988f6c0dd346648d8",
      "1cf363fbfc43ed6f552a4dcbb46763e4371cf13e730cf805ea4f2651f2403e6f",
      "e74f9cfdd1a8a057c189411a49313095b708e5882e3d9dc8649c5576b620a19a",
      "7afa25041873223df2b4fbe9a5273ba49484b4bb00aab764eaeef8dc910deeeb",
      "49a1c95ea9dae8e6b70fe918e3216f7a9fda8ba7b4640a8860491cbb923c87c1",
      "fff471cd34b1e9f4bfcff69d7c77b81443b145f27ee91984d5c59d8d91b6d184",
      "0edfcdec0af28d27b28e648e4c431da3e7ba5df00a5fbe4d05e4ea361d909aa3",
      "13007b734794223f00a5c72d2a5b75ae49944c387dce03ce52f87b092397e11e",
      "1f59004f85a658b30a2f63624bb8a9682ddecefc4b8bb8374daadf7e291f9557",
    ],
    ap: [
      "d584074081066de095b3ef87cecf1131e8413d65782be539c4867d28803370fe",
      "8762138e61eef0a3a6d784a97b1e7d4ab2fdcd567cba29e3812178d85aac8c04",
      "67aa84721784b453663e57b751f6fdac5a2ce355dd5b11e368ce2a8159eaf213",
      "be144ddc2f17159dfbec93db832f7876a24f065d0ba7407cb343e3f78c4b231f",
      "e539b7c1bf7d3066f9debaef6795d0a3ab3fd3e8a49411d4ee30a35a25c45ee5",
      "bf05ac41e9ffc8b7215e5beb1d1ddfe1de102cc18f39cea87f43099a93ea1c53",
      "70ab76723bfb514e10dc1eb7c08bbe03b15e9b361e98f1bcd8cc9d12bc196155",
      "14ff326511912c3dff4e2e608acb5d243e0551b04618823b8d08ac996efaf27d",
      "fe31cec9f7379191537a814898c2baee0acf3d03a7f5dd6ee649124d3a5e3a08",
      "d9d5ed22d346d10f53ade1cb2508db61b90325728451854797e68e9d1ade7e56",
    ],
  },
];

/**
 * The pin of one round's file.
 *
 * @param model The model.
 * @param arm The arm (`dense` for round 0).
 * @param round The round (0 for dense).
 * @returns Its id, path and sha256.
 * @throws {RangeError} For a round the model does not have.
 */
export function apRoundPin(model: ApModel, arm: ApArm, round: number): ModelPin {
  if (arm === "dense" || round === 0) {
    return { id: model.id, path: `models/ap/${model.id}-r0.onnx`, sha256: model.dense };
  }
  const sha256 = model[arm][round - 1];
  if (sha256 === undefined) {
    throw new RangeError(
      `ap: ${model.id} has no ${arm} round ${round} (rounds 1..${model.rounds})`,
    );
  }
  return {
    id: `${model.id}-${arm}-r${round}`,
    path: `models/ap/${model.id}-${arm}-r${round}.onnx`,
    sha256,
  };
}
