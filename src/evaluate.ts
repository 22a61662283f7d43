/**
 * Feeding a suite's data to a model: evaluation batches, the batch-1 timing input, the metric
 * (top-1 accuracy or bits per character), agreement with the dense model, density probes and the
 * calibration captures methods use.
 *
 * @module
 */

import type { HostTensor, LoadedModel, TensorMap } from "./backend.ts";
import type { Dataset, SplitName } from "../datasets/types.ts";
import type { Task } from "./suite.ts";
import type { Captured } from "./method.ts";
import type { ModelProto } from "./onnx/model.ts";
import { Rewriter } from "./onnx/rewriter.ts";
import { evaluateTensors, finiteArgmax, tensorBatch } from "./evaluate_tensors.ts";

/** One batch of evaluation data. */
export interface Batch {
  /** Model inputs. */
  feeds: TensorMap;
  /**
   * Expected class per image, or next character per position (row-major [batch, context]); for
   * tensor datasets, the labels of the batch's samples (empty without labels).
   */
  targets: Uint8Array | Int32Array;
}

/**
 * How many samples a split offers for a task: images, or text windows of `context + 1` chars.
 *
 * @param task The task.
 * @param dataset The dataset.
 * @param split The split.
 * @returns Available samples.
 */
export function availableSamples(task: Task, dataset: Dataset, split: SplitName): number {
  if (task.kind === "tensors" || dataset.kind === "tensors") {
    if (task.kind !== "tensors" || dataset.kind !== "tensors") {
      throw new TypeError(`Task ${task.kind} does not fit dataset ${dataset.id}`);
    }
    return dataset.splits[split].count;
  }
  if (task.kind === "image-classification") {
    if (dataset.kind !== "image") {
      throw new TypeError(`Task image-classification needs an image dataset, not ${dataset.id}`);
    }
    return dataset.splits[split].count;
  }
  if (dataset.kind !== "text") {
    throw new TypeError(`Task char-lm needs a text dataset, not ${dataset.id}`);
  }
  return Math.floor((dataset.splits[split].ids.length - 1) / task.context);
}

/**
 * Yields batches covering the first `samples` samples of a split.
 *
 * @param task The task.
 * @param dataset The dataset.
 * @param options Split, sample count and batch size.
 * @returns Batches.
 */
export function* batches(
  task: Task,
  dataset: Dataset,
  options: { split: SplitName; samples: number; batch: number },
): Generator<Batch> {
  const total = Math.min(options.samples, availableSamples(task, dataset, options.split));
  for (let start = 0; start < total; start += options.batch) {
    const n = Math.min(options.batch, total - start);
    yield sampleBatch(task, dataset, options.split, start, n);
  }
}

function sampleBatch(
  task: Task,
  dataset: Dataset,
  split: SplitName,
  start: number,
  n: number,
): Batch {
  if (task.kind === "tensors" && dataset.kind === "tensors") {
    return tensorBatch(task, dataset.splits[split], start, n);
  }
  if (task.kind === "image-classification" && dataset.kind === "image") {
    const s = dataset.splits[split];
    const px = 28 * 28;
    const data = s.images.slice(start * px, (start + n) * px);
    return {
      feeds: { [task.input]: { type: "float32", data, dims: [n, ...task.inputShape] } },
      targets: s.labels.slice(start, start + n),
    };
  }
  if (task.kind === "char-lm" && dataset.kind === "text") {
    const ids = dataset.splits[split].ids;
    const c = task.context;
    const input = new BigInt64Array(n * c);
    const targets = new Uint8Array(n * c);
    for (let r = 0; r < n; r++) {
      const base = (start + r) * c;
      for (let t = 0; t < c; t++) {
        input[r * c + t] = BigInt(ids[base + t]!);
        targets[r * c + t] = ids[base + t + 1]!;
      }
    }
    return { feeds: { [task.input]: { type: "int64", data: input, dims: [n, c] } }, targets };
  }
  throw new TypeError(`Task ${task.kind} does not fit dataset ${dataset.id}`);
}

/**
 * The batch-1 input the timing uses: the first evaluation sample.
 *
 * @param task The task.
 * @param dataset The dataset.
 * @returns Feeds.
 */
export function timingFeeds(task: Task, dataset: Dataset): TensorMap {
  return sampleBatch(task, dataset, "evaluation", 0, 1).feeds;
}

/** What an evaluation pass measures. */
export interface Evaluation {
  /** Accuracy (fraction) or bits per character. */
  metric: number;
  /** Top-1 prediction per image / position (per row of the last axis), for agreement. */
  predictions: Uint16Array | Uint32Array;
  /** Samples evaluated. */
  samples: number;
  /** Mean of each probe output over the pass, weighted by batch size. */
  probes: Record<string, number>;
  /**
   * The compared output over the whole pass (tensor tasks, up to 2^26 elements), for the mean KL
   * divergence and relative error against dense.
   */
  outputs?: Float32Array;
}

/**
 * Evaluates a loaded model over the first `samples` samples of the evaluation split.
 *
 * @param model The loaded model.
 * @param task The task.
 * @param dataset The dataset.
 * @param options Samples, batch size, probe outputs to average, progress callback.
 * @returns The evaluation.
 */
export async function evaluate(
  model: LoadedModel,
  task: Task,
  dataset: Dataset,
  options: {
    samples: number;
    batch: number;
    probes?: readonly string[];
    onBatch?: (done: number) => void;
  },
): Promise<Evaluation> {
  if (task.kind === "tensors") {
    if (dataset.kind !== "tensors") {
      throw new TypeError(`Task tensors needs a tensor dataset, not ${dataset.id}`);
    }
    return await evaluateTensors(model, task, dataset, options);
  }
  const predictions: number[] = [];
  const probeSums: Record<string, number> = {};
  let lossBits = 0;
  let correct = 0;
  let count = 0;
  let samples = 0;
  for (
    const b of batches(task, dataset, {
      split: "evaluation",
      samples: options.samples,
      batch: options.batch,
    })
  ) {
    const out = await model.run(b.feeds);
    const logits = out[task.output];
    if (!logits || !(logits.data instanceof Float32Array)) {
      throw new Error(
        `Model has no float output "${task.output}" (outputs: ${Object.keys(out).join(", ")})`,
      );
    }
    const width = logits.dims[logits.dims.length - 1]!;
    const rows = logits.data.length / width;
    if (rows !== b.targets.length) {
      throw new Error(
        `Output "${task.output}" has ${rows} rows of logits for ${b.targets.length} targets`,
      );
    }
    for (let r = 0; r < rows; r++) {
      const row = logits.data.subarray(r * width, (r + 1) * width);
      const best = finiteArgmax(row, task.output);
      const max = row[best]!;
      predictions.push(best);
      const target = b.targets[r]!;
      if (best === target) correct++;
      if (task.kind === "char-lm") {
        let sum = 0;
        for (let j = 0; j < width; j++) sum += Math.exp(row[j]! - max);
        lossBits += (Math.log(sum) + max - row[target]!) / Math.LN2;
      }
      count++;
    }
    const batchSamples = task.kind === "char-lm" ? rows / task.context : rows;
    for (const p of options.probes ?? []) {
      const t = out[p];
      if (!t) throw new Error(`Probe output "${p}" missing`);
      probeSums[p] = (probeSums[p] ?? 0) + (t.data as Float32Array)[0]! * batchSamples;
    }
    samples += batchSamples;
    options.onBatch?.(samples);
  }
  if (count === 0) throw new RangeError("Cannot evaluate: no evaluation samples");
  const probes: Record<string, number> = {};
  for (const [k, v] of Object.entries(probeSums)) probes[k] = v / samples;
  return {
    metric: task.kind === "char-lm" ? lossBits / count : correct / count,
    predictions: Uint16Array.from(predictions),
    samples,
    probes,
  };
}

/**
 * Fraction of equal predictions.
 *
 * @param a Predictions.
 * @param b Predictions of the same samples.
 * @returns Agreement in [0, 1].
 */
export function agreement(a: Uint16Array | Uint32Array, b: Uint16Array | Uint32Array): number {
  const n = Math.min(a.length, b.length);
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
  return n === 0 ? 0 : same / n;
}

/**
 * Adds, for each value, a graph output holding its fraction of nonzero elements (a scalar per
 * run), so one evaluation pass measures the densities a skipping kernel would see.
 *
 * @param model The model (rewritten in place).
 * @param values Values to probe.
 * @returns Probe output name per value.
 */
export function addDensityProbes(
  model: ModelProto,
  values: readonly string[],
): Map<string, string> {
  const names = new Map<string, string>();
  values.forEach((v, i) => {
    if (names.has(v)) return;
    const rw = new Rewriter(model, `probe${i}`);
    const nonzero = rw.node("Greater", [rw.node("Abs", [v])[0]!, rw.floatConst("zero", [0])])[0]!;
    const density = rw.reduceMean(rw.toFloat(nonzero), [], false);
    rw.commitAsOutput(density);
    names.set(v, density);
  });
  return names;
}

/**
 * Runs a model on the calibration split and returns the named values, flattened to rows of their
 * last dimension.
 *
 * @param run Runs the model with extra outputs (the caller loads it on a CPU backend).
 * @param task The task.
 * @param dataset The dataset.
 * @param options Samples and batch size.
 * @returns Captured values.
 */
export async function captureCalibration(
  run: (feeds: TensorMap) => Promise<TensorMap>,
  values: readonly string[],
  task: Task,
  dataset: Dataset,
  options: { samples: number; batch: number },
): Promise<Map<string, Captured>> {
  const parts = new Map<string, Float32Array[]>();
  let width = new Map<string, number>();
  for (
    const b of batches(task, dataset, {
      split: "calibration",
      samples: options.samples,
      batch: options.batch,
    })
  ) {
    const out = await run(b.feeds);
    for (const v of values) {
      const t: HostTensor | undefined = out[v];
      if (!t || !(t.data instanceof Float32Array)) {
        throw new Error(`Calibration: value "${v}" is not a float output`);
      }
      (parts.get(v) ?? parts.set(v, []).get(v)!).push(t.data.slice());
      width = width.set(v, t.dims[t.dims.length - 1] ?? 1);
    }
  }
  const result = new Map<string, Captured>();
  for (const [v, chunks] of parts) {
    const total = chunks.reduce((s, c) => s + c.length, 0);
    const data = new Float32Array(total);
    let off = 0;
    for (const c of chunks) {
      data.set(c, off);
      off += c.length;
    }
    result.set(v, { data, width: width.get(v)! });
  }
  return result;
}
