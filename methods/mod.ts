/**
 * The registry of sparsity methods, by id.
 *
 * @module
 */

import type { SparsityMethod } from "../src/method.ts";
import { catsMethod } from "./cats.ts";
import {
  coreMatchingMethod,
  coreMatchingNeuronsMethod,
  coreMatchingTokensMethod,
} from "./corematching.ts";
import { magnitudeMethod } from "./magnitude.ts";
import { reluMethod } from "./relu.ts";
import { sparseGptMethod, sparseGptNmMethod } from "./sparsegpt.ts";
import { sparseGptStructuredHeadsMethod, sparseGptStructuredMethod } from "./structured_obs.ts";
import { statTopkMethod } from "./stat_topk.ts";
import { tealMethod } from "./teal.ts";
import { topkMethod } from "./topk.ts";
import { wandaMethod } from "./wanda.ts";
import { winaMethod } from "./wina.ts";

/** Every method, by id. */
export const METHODS: ReadonlyMap<string, SparsityMethod> = new Map(
  [
    reluMethod,
    topkMethod,
    statTopkMethod,
    tealMethod,
    winaMethod,
    catsMethod,
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
export function getMethod(id: string): SparsityMethod {
  const m = METHODS.get(id);
  if (!m) throw new RangeError(`Unknown method "${id}" (valid: ${[...METHODS.keys()].join(", ")})`);
  return m;
}
