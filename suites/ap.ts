/**
 * `ap`: AP (activating while pruning) against plain iterative magnitude pruning (IMP), measured on
 * ORT. `models/train_ap.py` trains two small ReLU models (an MLP on MNIST, a CNN on Fashion-MNIST)
 * and exports every round of both arms to ONNX; this suite checks each file against its pin in
 * `ap_pins.ts`, then measures on ort-node, over the whole evaluation split: top-1 accuracy with
 * its Wilson 95 % interval, the weight sparsity of the pruned layers (zeros in the file), the
 * dynamic dead-neuron rate (fraction of ReLU outputs that are zero, per layer and averaged), and
 * for each AP round the paired difference against IMP's model of the same round on the same
 * images (bootstrap 95 % interval, exact McNemar p).
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import { createBackend } from "../src/backends/mod.ts";
import type { Backend } from "../src/backend.ts";
import { addDensityProbes, batches, evaluate } from "../src/evaluate.ts";
import { decodeModel, encodeModel, type ModelProto } from "../src/onnx/model.ts";
import { readFloats } from "../src/onnx/tensor_data.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { Dataset } from "../datasets/types.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { repoPath } from "../lib/repo_root.ts";
import { AP_MODELS, type ApArm, type ApModel, apRoundPin } from "./ap_pins.ts";
import { pairedDifference, wilsonInterval } from "./ap_stats.ts";

/** What one round's model measures. */
export interface RoundMeasurement {
  /** Top-1 accuracy over the evaluation split. */
  accuracy: number;
  /** Per-image correctness (1 right), in split order. */
  correct: Uint8Array;
  /** Zeros among the pruned layers' weights. */
  weightSparsity: number;
  /** Dead-neuron rate per ReLU layer (fraction of its outputs that are zero). */
  dnrLayers: Record<string, number>;
  /** Mean over the layers. */
  dnr: number;
}

/**
 * The fraction of zero weights in the named initializers (the pruned layers), read from the file.
 *
 * @param model The decoded model.
 * @param names Initializer names.
 * @returns Zeros over all their elements.
 * @throws {Error} When an initializer is missing.
 */
export function weightSparsity(model: ModelProto, names: readonly string[]): number {
  let zeros = 0;
  let total = 0;
  for (const name of names) {
    const t = model.graph?.initializer?.find((i) => i.name === name);
    if (!t) {
      throw new Error(`ap: initializer ${name} is missing; re-export with models/train_ap.py`);
    }
    const w = readFloats(t);
    for (const v of w) if (v === 0) zeros++;
    total += w.length;
  }
  return zeros / total;
}

/** Each ReLU's output with the layer it follows, named by that layer's weight ("fc1", "conv2"). */
function reluLayers(model: ModelProto): Map<string, string> {
  const nodes = model.graph?.node ?? [];
  const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  const inits = new Set((model.graph?.initializer ?? []).map((i) => i.name));
  const out = new Map<string, string>();
  nodes.filter((n) => n.opType === "Relu").forEach((n, i) => {
    const layer = producer.get(n.input?.[0] ?? "");
    // The weight reaches the layer through its float16-to-float32 Cast.
    const weight = (layer?.input ?? []).map((x) => producer.get(x)?.input?.[0] ?? x)
      .find((x) => inits.has(x) && x.endsWith(".weight"));
    out.set(n.output![0]!, weight ? weight.slice(0, -".weight".length) : `relu${i + 1}`);
  });
  return out;
}

/**
 * Measures one round's model on a backend: accuracy, correctness per image, weight sparsity and
 * dead-neuron rates, in one pass over the evaluation split.
 *
 * @param backend A CPU target.
 * @param bytes The ONNX file.
 * @param options The model's wiring and data, and how many evaluation images (default all).
 * @returns The measurement.
 */
export async function measureRound(
  backend: Backend,
  bytes: Uint8Array,
  options: { model: ApModel; dataset: Dataset; label: string; samples?: number },
): Promise<RoundMeasurement> {
  const { model, dataset } = options;
  const decoded = decodeModel(bytes, { source: options.label });
  const sparsity = weightSparsity(decoded, model.pruned);
  const relus = reluLayers(decoded);
  const probes = addDensityProbes(decoded, [...relus.keys()]);
  const task = {
    kind: "image-classification" as const,
    input: model.input,
    inputShape: model.inputShape,
    output: "logits",
  };
  if (dataset.kind !== "image") throw new TypeError(`ap: ${dataset.id} is not an image dataset`);
  const samples = options.samples ?? dataset.splits.evaluation.count;
  const first = batches(task, dataset, { split: "evaluation", samples: 1, batch: 1 }).next();
  const loaded = await backend.load(encodeModel(decoded), {
    label: options.label,
    feeds: first.done ? {} : first.value.feeds,
  });
  try {
    const ev = await evaluate(loaded, task, dataset, {
      samples,
      batch: 250,
      probes: [...probes.values()],
    });
    const labels = dataset.splits.evaluation.labels;
    const correct = new Uint8Array(ev.samples);
    for (let i = 0; i < ev.samples; i++) correct[i] = ev.predictions[i] === labels[i] ? 1 : 0;
    const dnrLayers = Object.fromEntries(
      [...relus].map(([value, layer]) => [layer, 1 - ev.probes[probes.get(value)!]!]),
    );
    const rates = Object.values(dnrLayers);
    return {
      accuracy: ev.metric,
      correct,
      weightSparsity: sparsity,
      dnrLayers,
      dnr: rates.reduce((a, b) => a + b, 0) / rates.length,
    };
  } finally {
    await loaded.release();
  }
}

/**
 * Reads a round's file and checks it against its pin.
 *
 * @param path Repository-relative path.
 * @param sha256 The pinned hash.
 * @returns The bytes.
 * @throws {Error} One line naming the file and the fix.
 */
export async function readPinned(path: string, sha256: string): Promise<Uint8Array> {
  const fix = "re-run models/train_ap.py and update suites/ap_pins.ts";
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(repoPath(path));
  } catch {
    throw new Error(`ap: ${path} is missing; ${fix}`);
  }
  const got = await sha256Hex(bytes);
  if (got !== sha256) throw new Error(`ap: ${path} has sha256 ${got}, pinned ${sha256}; ${fix}`);
  return bytes;
}

function parseKey(key: string): { model: ApModel; arm: ApArm; round: number } {
  const [id, arm, r] = key.split("/");
  const model = AP_MODELS.find((m) => m.id === id);
  if (!model || (arm !== "dense" && arm !== "imp" && arm !== "ap") || !/^r\d+$/.test(r ?? "")) {
    throw new Error(`ap: unknown cell ${key}`);
  }
  return { model, arm, round: Number(r!.slice(1)) };
}

const SEED = 0;
let backendPromise: Promise<Backend> | undefined;
const datasets = new Map<string, Promise<Dataset>>();
/** Measurements of this process, so an AP round pairs with IMP's without evaluating it twice. */
const measured = new Map<string, RoundMeasurement>();

async function measureKey(key: string): Promise<RoundMeasurement> {
  const hit = measured.get(key);
  if (hit) return hit;
  const { model, arm, round } = parseKey(key);
  const pin = apRoundPin(model, arm, round);
  const bytes = await readPinned(pin.path, pin.sha256);
  backendPromise ??= createBackend("ort-node");
  if (!datasets.has(model.dataset)) datasets.set(model.dataset, loadDataset(model.dataset));
  const m = await measureRound(await backendPromise, bytes, {
    model,
    dataset: await datasets.get(model.dataset)!,
    label: pin.path,
  });
  measured.set(key, m);
  return m;
}

const round4 = (v: number) => Number(v.toFixed(4));

export default defineSuite({
  kind: "custom",
  id: "ap",
  title:
    "AP vs iterative magnitude pruning, measured on ORT: accuracy and dead-neuron rate per round",
  description:
    "Every round of AP and IMP on a ReLU MLP (MNIST) and a ReLU CNN (Fashion-MNIST), exported by models/train_ap.py and pinned in suites/ap_pins.ts; accuracy with its Wilson interval, weight sparsity and the dynamic dead-neuron rate on ort-node, and AP minus IMP per round on the same images.",
  targets: ["ort-node"],
  inDefault: false,
  seed: SEED,
  files: ["models/train_ap.py", "suites/ap_pins.ts"],
  plan(): Promise<CustomCell[]> {
    return Promise.resolve(AP_MODELS.flatMap((m) => [
      { key: `${m.id}/dense/r0`, target: "ort-node", method: "dense", label: `${m.id} dense` },
      ...(["imp", "ap"] as const).flatMap((arm) =>
        Array.from({ length: m.rounds }, (_, i) => ({
          key: `${m.id}/${arm}/r${i + 1}`,
          target: "ort-node",
          method: arm,
          label: `${m.id} ${arm} round ${i + 1}`,
        }))
      ),
    ]));
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    const { model, arm, round } = parseKey(cell.key);
    ctx.progress(`ap: measuring ${cell.label}`);
    const m = await measureKey(cell.key);
    const dense = await measureKey(`${model.id}/dense/r0`);
    const dataset = await datasets.get(model.dataset)!;
    const pin = apRoundPin(model, arm, round);
    const n = m.correct.length;
    const right = m.correct.reduce((a, b) => a + b, 0);
    const [low, high] = wilsonInterval(right, n);
    const extra: CellResult["extra"] = {
      round,
      arm,
      dnr: Number(m.dnr.toFixed(5)),
      dnr_layers: JSON.stringify(
        Object.fromEntries(Object.entries(m.dnrLayers).map(([k, v]) => [k, round4(v)])),
      ),
      accuracy_ci_low: Number(low.toFixed(5)),
      accuracy_ci_high: Number(high.toFixed(5)),
    };
    if (arm === "ap") {
      const imp = await measureKey(`${model.id}/imp/r${round}`);
      const d = pairedDifference(m.correct, imp.correct, { seed: SEED + round });
      Object.assign(extra, {
        imp_accuracy: Number(imp.accuracy.toFixed(5)),
        diff_vs_imp: Number(d.diff.toFixed(5)),
        diff_ci_low: Number(d.low.toFixed(5)),
        diff_ci_high: Number(d.high.toFixed(5)),
        only_ap_right: d.onlyA,
        only_imp_right: d.onlyB,
        mcnemar_p: Number(d.p.toPrecision(3)),
        imp_dnr: Number(imp.dnr.toFixed(5)),
      });
    }
    return {
      model: model.id,
      model_sha256: pin.sha256,
      dataset: model.dataset,
      dataset_hash: dataset.hash,
      device: (await (await backendPromise!).identity()).device,
      params: JSON.stringify({ rate: model.rate, ap_rate: arm === "ap" ? model.apRate : 0 }),
      metric: "accuracy",
      sparsity_target: round === 0 ? 0 : Number((1 - (1 - model.rate) ** round).toFixed(4)),
      sparsity_realized: Number(m.weightSparsity.toFixed(5)),
      accuracy: m.accuracy,
      accuracy_dense: dense.accuracy,
      eval_samples: n,
      notes: `${pin.path}: ${model.architecture}; pruned ${model.pruned.join(", ")}`,
      extra,
    };
  },
});
