/**
 * Measuring a model's quality once per variant, on the suite's deterministic accuracy target:
 * the task metric over the evaluation samples, the densities the method's probes report, and the
 * dead-neuron rate (AP's DNR: the fraction of ReLU outputs that are zero) of every model with
 * ReLUs, dense and variants alike.
 *
 * @module
 */

import type { Backend, TensorMap } from "../backend.ts";
import type { Dataset } from "../../datasets/types.ts";
import { addDensityProbes, evaluate, type Evaluation } from "../evaluate.ts";
import { encodeModel, type ModelProto } from "../onnx/model.ts";
import { cloneModel } from "../onnx/rewriter.ts";
import type { ModelSuite } from "../suite.ts";
import { passesGateFor } from "../metric.ts";

/** A model's measured quality. */
export interface Quality {
  /** Metric, predictions and probe values. */
  evaluation: Evaluation;
  /** Densities of the probed values, value name to fraction active. */
  densities: Map<string, number>;
  /** Dead-neuron rate over the ReLU outputs, or null for a model without ReLUs. */
  dnr: number | null;
  /** Per-ReLU dead-neuron rates as compact JSON, or null. */
  dnrLayers: string | null;
}

/** What the evaluator needs about the suite. */
export interface EvaluatorOptions {
  /** The suite. */
  suite: ModelSuite;
  /** Its dataset. */
  dataset: Dataset;
  /** The timed input (the first run of a session). */
  feeds: TensorMap;
  /** Evaluation samples. */
  samples: number;
  /** Progress line. */
  status: (message: string) => void;
}

/**
 * Creates the quality measurement of a suite on its accuracy backend.
 *
 * @param backend The accuracy target.
 * @param options The suite, data and sizes.
 * @returns A function measuring one model; `probed` names the values whose density to measure.
 */
export function createEvaluator(
  backend: Backend,
  options: EvaluatorOptions,
): (model: ModelProto, label: string, probed: readonly string[]) => Promise<Quality> {
  const { suite, dataset, feeds, samples } = options;
  const batch = suite.evalBatch ??
    (suite.task.kind === "char-lm" ? 8 : suite.task.kind === "tensors" ? 1 : 100);
  return async (model, label, probed) => {
    const copy = cloneModel(model);
    const relus = (copy.graph!.node ?? []).filter((n) => n.opType === "Relu").map((n) =>
      n.output![0]!
    );
    // One probe per value: a ReLU output the method also sparsifies shares its probe.
    const probes = addDensityProbes(copy, [...probed, ...relus]);
    const densityProbes = new Map(probed.map((v) => [v, probes.get(v)!]));
    const dnrProbes = new Map(relus.map((v) => [v, probes.get(v)!]));
    const loaded = await backend.load(encodeModel(copy), { label, feeds });
    let evaluation: Evaluation;
    try {
      evaluation = await evaluate(loaded, suite.task, dataset, {
        samples,
        batch,
        probes: [...new Set(probes.values())],
        onBatch: (n) => options.status(`${suite.id}: evaluating ${label} (${n}/${samples})`),
      });
    } finally {
      await loaded.release();
    }
    const densities = new Map(
      [...densityProbes].map(([value, probe]) => [value, evaluation.probes[probe]!]),
    );
    return { evaluation, densities, ...deadNeuronRate(evaluation, dnrProbes) };
  };
}

function deadNeuronRate(
  ev: Evaluation,
  probes: Map<string, string>,
): { dnr: number | null; dnrLayers: string | null } {
  if (probes.size === 0) return { dnr: null, dnrLayers: null };
  const d = [...probes.values()].map((p) => ev.probes[p]!);
  return {
    dnr: 1 - d.reduce((a, b) => a + b, 0) / d.length,
    dnrLayers: JSON.stringify(
      Object.fromEntries([...probes].map(([v, p]) => [v, Number((1 - ev.probes[p]!).toFixed(4))])),
    ),
  };
}

/**
 * Whether a variant's metric passes the suite's quality gate against dense.
 *
 * @param suite The suite (metric direction and gate, default 0.99: MLPerf's rule; for
 *   `agreement` the metric is the top-1 agreement with dense, whose own is 1).
 * @param metric The variant's metric.
 * @param denseMetric The dense model's.
 * @returns True when it passes.
 */
export function passesGate(suite: ModelSuite, metric: number, denseMetric: number): boolean {
  return passesGateFor(suite.metric, { value: metric, dense: denseMetric }, suite.qualityGate);
}
