/**
 * The registry of sparsity methods, by id.
 *
 * What each method needs is declared once, on the method (`DescribedMethod`, built by
 * `defineMethod` in `_method_spec.ts`): `paper`, `skips` (the work the sparse model skips),
 * `needsSparsity`, `calibration` (`none`, `inputs` or `thresholds`) and `params` (each parameter's
 * type, range, default and meaning). Every method's `prepare` checks its input against that
 * declaration before any work, and refuses a sparsity outside [0, 1) (or one given to a method
 * that takes none), an unknown parameter, or a value of the wrong type or range, with one line
 * naming the fix. Each method's JSDoc says the same in words.
 *
 * @module
 */

import type { DescribedMethod } from "./_method_spec.ts";
import { catsMethod } from "./cats.ts";
import { dejaVuMethod } from "./deja_vu.ts";
import {
  coreMatchingMethod,
  coreMatchingNeuronsMethod,
  coreMatchingTokensMethod,
} from "./corematching.ts";
import { magnitudeMethod } from "./magnitude.ts";
import { reluMethod } from "./relu.ts";
import { rSparseMethod } from "./r_sparse.ts";
import { sparkMethod } from "./spark_ffn.ts";
import { sparseGptMethod, sparseGptNmMethod } from "./sparsegpt.ts";
import { sparseGptStructuredHeadsMethod, sparseGptStructuredMethod } from "./structured_obs.ts";
import { statTopkMethod } from "./stat_topk.ts";
import { tealMethod } from "./teal.ts";
import { topkMethod } from "./topk.ts";
import { wandaMethod } from "./wanda.ts";
import { winaMethod } from "./wina.ts";

export type {
  CalibrationUse,
  ChoiceParam,
  DescribedMethod,
  NumberParam,
  ParamSpec,
} from "./_method_spec.ts";

/** Every method, by id. */
export const METHODS: ReadonlyMap<string, DescribedMethod> = new Map(
  [
    reluMethod,
    topkMethod,
    statTopkMethod,
    tealMethod,
    winaMethod,
    catsMethod,
    dejaVuMethod,
    rSparseMethod,
    sparkMethod,
    coreMatchingMethod,
    coreMatchingTokensMethod,
    coreMatchingNeuronsMethod,
    magnitudeMethod,
    wandaMethod,
    sparseGptMethod,
    sparseGptNmMethod,
    sparseGptStructuredMethod,
    sparseGptStructuredHeadsMethod,
  ].map((m) => [m.id, m]),
);

/**
 * Looks up a method.
 *
 * @param id Method id.
 * @returns The method.
 * @throws {RangeError} For an unknown id, listing the valid ones.
 */
export function getMethod(id: string): DescribedMethod {
  const m = METHODS.get(id);
  if (!m) throw new RangeError(`Unknown method "${id}" (valid: ${[...METHODS.keys()].join(", ")})`);
  return m;
}
