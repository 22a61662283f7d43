/**
 * `ap`: AP (activating-while-pruning) against plain iterative magnitude pruning on mlp-relu-mnist,
 * per round: weight sparsity, accuracy and the dead-neuron rate, both arms on the same seed. The
 * rounds need training, so they are measured by `models/train_ap.py` (PyTorch), which writes
 * `models/ap_rounds.json`; this suite records that file's rounds as cells (its sha256 in run.json),
 * so the report draws the curves beside every other result.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";

interface Round {
  round: number;
  weight_sparsity: number;
  accuracy: number;
  dnr: number;
  dnr_layers: number[];
}

async function record(): Promise<
  { imp: Round[]; ap: Round[]; seed: number; rate: number; ap_rate: number; eval_samples: number }
> {
  try {
    return JSON.parse(await Deno.readTextFile(`${REPO_ROOT}models/ap_rounds.json`));
  } catch {
    throw new Error(
      "models/ap_rounds.json is missing: run `python3 models/train_ap.py` (see its --help)",
    );
  }
}

export default defineSuite({
  kind: "custom",
  id: "ap",
  title:
    "AP vs iterative magnitude pruning on mlp-relu-mnist: accuracy and dead-neuron rate per round",
  description:
    "Rounds measured by models/train_ap.py (PyTorch, both arms on one seed), recorded from models/ap_rounds.json.",
  targets: ["ort-node"],
  inDefault: false,
  seed: 0,
  files: ["models/ap_rounds.json", "models/train_ap.py"],
  async plan(): Promise<CustomCell[]> {
    const r = await record();
    return (["imp", "ap"] as const).flatMap((arm) =>
      r[arm].map((x) => ({
        key: `${arm}/${x.round}`,
        target: "pytorch",
        method: arm,
        label: `${arm} round ${x.round}`,
      }))
    );
  },
  async runCell(cell): Promise<Partial<CellResult>> {
    const r = await record();
    const [arm, round] = cell.key.split("/") as ["imp" | "ap", string];
    const x = r[arm].find((q) => q.round === Number(round))!;
    const dense = r[arm][0]!;
    return {
      model: "mlp-relu-mnist",
      metric: "accuracy",
      sparsity_target: x.weight_sparsity,
      sparsity_realized: x.weight_sparsity,
      accuracy: x.accuracy,
      accuracy_dense: dense.accuracy,
      eval_samples: r.eval_samples,
      notes: JSON.stringify({
        source: "models/train_ap.py",
        rate: r.rate,
        ap_rate: r.ap_rate,
        seed: r.seed,
      }),
      extra: {
        round: x.round,
        dnr: Number(x.dnr.toFixed(5)),
        dnr_layers: JSON.stringify({
          fc1: Number(x.dnr_layers[0]!.toFixed(4)),
          fc2: Number(x.dnr_layers[1]!.toFixed(4)),
        }),
      },
    };
  },
});
