/**
 * Test support for the methods' tests: runs a suite with the real runner, backends and method
 * registry in a fresh temporary run folder, and returns its cells.
 *
 * @module
 */

import { createBackend } from "../src/backends/mod.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { Dataset } from "../datasets/types.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { createProgress } from "../src/progress.ts";
import type { CellResult } from "../src/result.ts";
import { RunDir } from "../src/run_dir.ts";
import { runSuites } from "../src/runner.ts";
import type { ModelSuite, VariantSpec } from "../src/suite.ts";
import { getMethod } from "./mod.ts";

const quiet = createProgress({ quiet: true, interactive: false });

/**
 * Runs one suite quietly, with every method of the registry.
 *
 * @param suite The suite.
 * @param inputs Its model bytes (`readModel`) and, for a suite whose data is not a pinned
 *   package, its dataset.
 * @returns The run's cells.
 */
export async function runSuite(
  suite: ModelSuite,
  inputs: { readModel: (path: string) => Promise<Uint8Array>; dataset?: Dataset },
): Promise<CellResult[]> {
  const dir = await RunDir.create(await Deno.makeTempDir(), "m");
  await runSuites({
    suites: [suite],
    quick: false,
    runDir: dir,
    progress: quiet,
    backend: (id) => createBackend(id),
    method: getMethod,
    dataset: inputs.dataset
      ? () => Promise.resolve(inputs.dataset!)
      : (id, source) => loadDataset(id, source ? { source } : {}),
    readModel: inputs.readModel,
  });
  return dir.cells;
}

/**
 * Runs a zoo suite on ort-node (or the given targets) over a few evaluation samples, with the
 * given variants and a short timing schedule.
 *
 * @param base The zoo suite.
 * @param variants The variants to run.
 * @param samples Evaluation and calibration sample counts.
 * @param targets Targets (default ort-node).
 * @returns The run's cells.
 */
export function runZooSlice(
  base: ModelSuite,
  variants: VariantSpec[],
  samples: { evaluation: number; calibration: number },
  targets: ModelSuite["targets"] = ["ort-node"],
): Promise<CellResult[]> {
  const suite: ModelSuite = {
    ...base,
    targets,
    dataset: {
      ...base.dataset,
      evaluation: { split: "evaluation", samples: samples.evaluation },
      calibration: { split: "calibration", samples: samples.calibration },
    },
    variants,
    timing: { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 3, maxTimeMs: 5000 },
  };
  return runSuite(suite, { readModel: (p) => Deno.readFile(`${REPO_ROOT}${p}`) });
}
