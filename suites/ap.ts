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

/** `models/ap_rounds.json`, checked. */
interface ApRounds {
  imp: Round[];
  ap: Round[];
  seed: number;
  rate: number;
  ap_rate: number;
  eval_samples: number;
}

const FILE = "models/ap_rounds.json";
const FIX = "regenerate it with `python3 models/train_ap.py` (see its --help)";

/**
 * Parses and checks the rounds file: every figure a fraction where it must be one, rounds
 * numbered from 0, so a damaged or hand-edited file is refused rather than reported.
 *
 * @param text The file's text.
 * @returns The rounds.
 * @throws {Error} One line naming the file, the field and the fix.
 */
export function parseApRounds(text: string): ApRounds {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${FILE} is not valid JSON (${(e as Error).message}); ${FIX}`);
  }
  const bad = (what: string) => new Error(`${FILE}: ${what}; ${FIX}`);
  if (!v || typeof v !== "object" || Array.isArray(v)) throw bad("not a JSON object");
  const o = v as Record<string, unknown>;
  const fraction = (x: unknown) => typeof x === "number" && x >= 0 && x <= 1;
  for (const f of ["rate", "ap_rate"]) if (!fraction(o[f])) throw bad(`"${f}" is not in [0, 1]`);
  if (!Number.isInteger(o.seed)) throw bad(`"seed" is not an integer`);
  if (!Number.isInteger(o.eval_samples) || (o.eval_samples as number) <= 0) {
    throw bad(`"eval_samples" is not a positive integer`);
  }
  for (const arm of ["imp", "ap"]) {
    const rounds = o[arm];
    if (!Array.isArray(rounds) || rounds.length === 0) {
      throw bad(`"${arm}" is not a list of rounds`);
    }
    rounds.forEach((r: Record<string, unknown>, i) => {
      const at = `${arm}[${i}]`;
      if (!r || typeof r !== "object") throw bad(`${at} is not an object`);
      if (r.round !== i) throw bad(`${at}.round is ${JSON.stringify(r.round)}, expected ${i}`);
      for (const f of ["weight_sparsity", "accuracy", "dnr"]) {
        if (!fraction(r[f])) throw bad(`${at}.${f} is ${JSON.stringify(r[f])}, not in [0, 1]`);
      }
      const layers = r.dnr_layers;
      if (!Array.isArray(layers) || layers.length !== 2 || !layers.every(fraction)) {
        throw bad(`${at}.dnr_layers is not two fractions (fc1, fc2)`);
      }
    });
  }
  return o as unknown as ApRounds;
}

async function record(): Promise<ApRounds> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${REPO_ROOT}${FILE}`);
  } catch {
    throw new Error(`${FILE} is missing: ${FIX}`);
  }
  return parseApRounds(text);
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
  files: [FILE, "models/train_ap.py"],
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
