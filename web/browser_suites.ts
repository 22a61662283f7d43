/**
 * The suites a browser page runs: every suite of the embedded default, in the order `bench` runs
 * them, and the browser form of each. A page cannot load onnxruntime-node's native addon, so where
 * a suite names `ort-node` (to measure accuracy, to calibrate, or, in a quick form, to time), its
 * browser form uses ORT-web's wasm build, the CPU runtime a page has. The page records each such
 * substitution in the run, so nobody reads a browser figure as an ort-node one.
 *
 * @module
 */

import mlpMnist from "../suites/mlp_mnist.ts";
import kernels from "../suites/kernels.ts";
import lazyNeuron from "../suites/lazy_neuron.ts";
import sdr from "../suites/sdr.ts";
import { coreMatchingVitRelu } from "../suites/corematching.ts";
import { activationSparsityLm, activationSparsityVit } from "../suites/activation_sparsity.ts";
import type { TargetId } from "../src/backend.ts";
import type { ModelSuite, Suite } from "../src/suite.ts";

/** Suites a page can run, in the embedded default's order. */
export const BROWSER_SUITES: readonly Suite[] = [
  mlpMnist,
  kernels,
  lazyNeuron,
  sdr,
  coreMatchingVitRelu,
  activationSparsityVit,
  activationSparsityLm,
];

/** The runtime a page cannot load, and the one it runs in its place. */
const NATIVE: TargetId = "ort-node";
const IN_PAGE: TargetId = "ort-wasm";

/** One place where a suite's browser form runs another target than the suite names. */
export interface Substitution {
  /** Suite id. */
  suite: string;
  /** What the target does there. */
  role: "accuracy" | "calibration" | "timing";
  /** The target the suite names. */
  from: TargetId;
  /** The target the page runs instead. */
  to: TargetId;
}

function swapTargets(targets: readonly TargetId[]): TargetId[] {
  return [...new Set(targets.map((t) => t === NATIVE ? IN_PAGE : t))];
}

/**
 * The browser form of a suite: `ort-node` replaced by `ort-wasm` for accuracy, calibration and
 * the quick form's timing targets; everything else (pins, variants, sizes, timing policies) as
 * the suite defines it. Custom suites are unchanged: they reach runtimes through the run's
 * backend factory.
 *
 * @example Usage
 * ```ts
 * import { browserForm } from "./browser_suites.ts";
 * import lazyNeuron from "../suites/lazy_neuron.ts";
 * const { suite, substitutions } = browserForm(lazyNeuron);
 * console.log(suite.kind === "model" && suite.accuracyTarget); // "ort-wasm"
 * console.log(substitutions.map((s) => s.role)); // ["accuracy", "calibration", "timing"]
 * ```
 *
 * @param suite A suite.
 * @returns Its browser form and what was substituted.
 */
export function browserForm(suite: Suite): { suite: Suite; substitutions: Substitution[] } {
  if (suite.kind !== "model") return { suite, substitutions: [] };
  const subs: Substitution[] = [];
  const note = (role: Substitution["role"]) =>
    subs.push({ suite: suite.id, role, from: NATIVE, to: IN_PAGE });
  const accuracy = suite.accuracyTarget ?? IN_PAGE;
  if (accuracy === NATIVE) note("accuracy");
  // The runner calibrates on ort-node unless told otherwise (the page tells it ort-wasm), for
  // the methods that calibrate.
  if (suite.variants.length > 0) note("calibration");
  const form: ModelSuite = { ...suite, accuracyTarget: accuracy === NATIVE ? IN_PAGE : accuracy };
  if (suite.quick?.targets) {
    if (suite.quick.targets.includes(NATIVE)) note("timing");
    form.quick = { ...suite.quick, targets: swapTargets(suite.quick.targets) };
  }
  return { suite: form, substitutions: subs };
}
