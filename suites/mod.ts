/**
 * The registry of suites: every suite file under `suites/`, by id.
 *
 * @module
 */

import type { Suite } from "../src/suite.ts";
import mlpMnist from "./mlp_mnist.ts";
import kernels from "./kernels.ts";
import lazyNeuron from "./lazy_neuron.ts";
import sdr from "./sdr.ts";
import decode from "./decode.ts";
import ap from "./ap.ts";
import { coreMatchingVitGelu, coreMatchingVitRelu } from "./corematching.ts";
import { pruningLm, pruningMlp, pruningVitGelu, pruningVitRelu } from "./pruning.ts";
import {
  activationSparsityLm,
  activationSparsityLmSwiglu,
  activationSparsityVit,
  activationSparsityVitRelu,
} from "./activation_sparsity.ts";
import ocrRec from "./ocr_rec.ts";
import ocrDet from "./ocr_det.ts";
import turboVbi from "./turbo_vbi.ts";
import recsae from "./recsae.ts";
import { sparkDecode, sparkK25, sparkK8, sparkLmDecode, sparkTwin } from "./spark.ts";
import obsDiff from "./obs_diff.ts";
import { USER_SUITES } from "./user/mod.ts";

/** A suite and the file that defines it (hashed into run.json). */
export interface RegisteredSuite {
  /** The suite. */
  suite: Suite;
  /** Its file, relative to the repository root. */
  file: string;
}

/** Every suite, in the order the default run executes them. */
export const SUITES: readonly RegisteredSuite[] = [
  { suite: mlpMnist, file: "suites/mlp_mnist.ts" },
  { suite: kernels, file: "suites/kernels.ts" },
  { suite: lazyNeuron, file: "suites/lazy_neuron.ts" },
  { suite: sdr, file: "suites/sdr.ts" },
  { suite: coreMatchingVitRelu, file: "suites/corematching.ts" },
  { suite: coreMatchingVitGelu, file: "suites/corematching.ts" },
  { suite: pruningMlp, file: "suites/pruning.ts" },
  { suite: pruningVitRelu, file: "suites/pruning.ts" },
  { suite: pruningVitGelu, file: "suites/pruning.ts" },
  { suite: pruningLm, file: "suites/pruning.ts" },
  { suite: ap, file: "suites/ap.ts" },
  { suite: activationSparsityVit, file: "suites/activation_sparsity.ts" },
  { suite: activationSparsityLm, file: "suites/activation_sparsity.ts" },
  { suite: activationSparsityVitRelu, file: "suites/activation_sparsity.ts" },
  { suite: activationSparsityLmSwiglu, file: "suites/activation_sparsity.ts" },
  { suite: decode, file: "suites/decode.ts" },
  { suite: ocrRec, file: "suites/ocr_rec.ts" },
  { suite: ocrDet, file: "suites/ocr_det.ts" },
  { suite: turboVbi, file: "suites/turbo_vbi.ts" },
  { suite: recsae, file: "suites/recsae.ts" },
  { suite: sparkTwin, file: "suites/spark.ts" },
  { suite: sparkK8, file: "suites/spark.ts" },
  { suite: sparkK25, file: "suites/spark.ts" },
  { suite: sparkDecode, file: "suites/spark.ts" },
  { suite: sparkLmDecode, file: "suites/spark.ts" },
  { suite: obsDiff, file: "suites/obs_diff.ts" },
  ...USER_SUITES,
];

/**
 * Looks up suites by id.
 *
 * @param ids Suite ids; empty selects the embedded default.
 * @returns The suites.
 * @throws {RangeError} For an unknown id, listing the valid ones.
 */
export function selectSuites(ids: readonly string[]): RegisteredSuite[] {
  if (ids.length === 0) return SUITES.filter((s) => s.suite.inDefault);
  return ids.map((id) => {
    const found = SUITES.find((s) => s.suite.id === id);
    if (!found) {
      throw new RangeError(
        `Unknown suite "${id}" (valid: ${SUITES.map((s) => s.suite.id).join(", ")})`,
      );
    }
    return found;
  });
}
