/**
 * The suites of users' models (written by `deno task suite new`); regenerated with each new one.
 *
 * @module
 */

import type { Suite } from "../../src/suite.ts";
import s_gpt2_random from "./gpt2_random.ts";

/** The suites, with their files. */
export const USER_SUITES: readonly { suite: Suite; file: string }[] = [
  { suite: s_gpt2_random, file: "suites/user/gpt2_random.ts" },
];
