/**
 * Evaluating any model on a tensor dataset: batches of its named inputs, the top-1 prediction of
 * every row of the compared output's last axis (for agreement with dense), the whole output kept
 * for the mean KL divergence and relative error against dense, and the task metric when the
 * dataset has labels: top-1 accuracy, character error rate after greedy CTC decoding, or the
 * intersection over union of a thresholded map with a pixel mask.
 *
 * @module
 */

import type { LoadedModel, TensorMap } from "./backend.ts";
import type { TensorDataset, TensorSplit } from "../datasets/types.ts";
import type { Task } from "./suite.ts";

type TensorTask = Extract<Task, { kind: "tensors" }>;

/** Outputs past this many elements are not kept (KL and relative error are then not reported). */
const KEEP_LIMIT = 2 ** 26;

/**
 * One batch of a tensor split: every task input sliced to samples `[start, start + n)`.
 *
 * @param task The task.
 * @param split The split.
 * @param start First sample.
 * @param n Samples.
 * @returns Feeds and the samples' labels (flattened; empty without labels).
 */
export function tensorBatch(
  task: TensorTask,
  split: TensorSplit,
  start: number,
  n: number,
): { feeds: TensorMap; targets: Int32Array } {
  const feeds: TensorMap = {};
  for (const name of task.inputs) {
    const t = split.inputs[name];
    if (!t) {
      throw new Error(
        `Dataset has no tensor for input "${name}" (it has: ${
          Object.keys(split.inputs).join(", ")
        })`,
      );
    }
    const rows = t.dims[0]!;
    const per = t.data.length / rows;
    // Random inputs carry the model's own batch dimension per sample; it stays 1 per sample.
    const dims = [n * (rows / split.count), ...t.dims.slice(1)];
    const from = start * (rows / split.count) * per;
    feeds[name] = {
      type: t.type,
      dims,
      data: t.data.slice(from, from + (rows / split.count) * n * per),
    } as TensorMap[string];
  }
  const l = split.labels;
  const per = l ? l.data.length / split.count : 0;
  return { feeds, targets: l ? l.data.slice(start * per, (start + n) * per) : new Int32Array() };
}

/**
 * The index of a row's largest value, refusing NaN and infinities (a model that produces them is
 * broken, and an argmax over them would report a wrong prediction as a measured one).
 *
 * @param row The row.
 * @param output The output's name, for the message.
 * @returns The argmax.
 * @throws {RangeError} Naming the value and the output.
 */
export function finiteArgmax(row: ArrayLike<number>, output: string): number {
  let best = 0;
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) {
    const v = row[j]!;
    if (!Number.isFinite(v)) throw new RangeError(`Model produced ${v} in output "${output}"`);
    if (v > max) {
      max = v;
      best = j;
    }
  }
  return best;
}

/**
 * Evaluates a loaded model over the first `samples` evaluation samples.
 *
 * @param model The loaded model.
 * @param task The task.
 * @param dataset The dataset.
 * @param options Samples, batch size, probe outputs to average, progress callback.
 * @returns Metric (NaN for `none` scoring: the record uses agreement), predictions, probes, outputs.
 */
export async function evaluateTensors(
  model: LoadedModel,
  task: TensorTask,
  dataset: TensorDataset,
  options: {
    samples: number;
    batch: number;
    probes?: readonly string[];
    onBatch?: (done: number) => void;
  },
): Promise<{
  metric: number;
  predictions: Uint32Array;
  samples: number;
  probes: Record<string, number>;
  outputs?: Float32Array;
}> {
  const split = dataset.splits.evaluation;
  const total = Math.min(options.samples, split.count);
  if (total === 0) throw new RangeError("Cannot evaluate: no evaluation samples");
  if (task.scoring !== "none" && !split.labels) {
    throw new Error(`Task scores by ${task.scoring} labels, but dataset ${dataset.id} has none`);
  }
  const predictions: number[] = [];
  const kept: Float32Array[] = [];
  let keptLength = 0;
  const probeSums: Record<string, number> = {};
  const score = { correct: 0, count: 0, edits: 0, chars: 0, inter: 0, union: 0 };
  for (let start = 0; start < total; start += options.batch) {
    const n = Math.min(options.batch, total - start);
    const b = tensorBatch(task, split, start, n);
    const out = await model.run(b.feeds);
    const y = out[task.output];
    if (!y || !(y.data instanceof Float32Array)) {
      throw new Error(
        `Model has no float output "${task.output}" (outputs: ${Object.keys(out).join(", ")})`,
      );
    }
    const width = y.dims[y.dims.length - 1] ?? 1;
    for (let r = 0; r < y.data.length / width; r++) {
      predictions.push(finiteArgmax(y.data.subarray(r * width, (r + 1) * width), task.output));
    }
    if (keptLength + y.data.length <= KEEP_LIMIT) {
      kept.push(y.data.slice());
      keptLength += y.data.length;
    } else keptLength = Infinity;
    scoreBatch(task, y.data, y.dims, b.targets, n, score);
    for (const p of options.probes ?? []) {
      const t = out[p];
      if (!t) throw new Error(`Probe output "${p}" missing`);
      probeSums[p] = (probeSums[p] ?? 0) + (t.data as Float32Array)[0]! * n;
    }
    options.onBatch?.(start + n);
  }
  const probes: Record<string, number> = {};
  for (const [k, v] of Object.entries(probeSums)) probes[k] = v / total;
  const metric = task.scoring === "class"
    ? score.correct / score.count
    : task.scoring === "ctc"
    ? score.edits / Math.max(1, score.chars)
    : task.scoring === "mask"
    ? score.inter / Math.max(1, score.union)
    : NaN;
  let outputs: Float32Array | undefined;
  if (Number.isFinite(keptLength)) {
    outputs = new Float32Array(keptLength);
    let at = 0;
    for (const k of kept) {
      outputs.set(k, at);
      at += k.length;
    }
  }
  return {
    metric,
    predictions: Uint32Array.from(predictions),
    samples: total,
    probes,
    ...(outputs ? { outputs } : {}),
  };
}

function scoreBatch(
  task: TensorTask,
  y: Float32Array,
  dims: readonly number[],
  targets: Int32Array,
  n: number,
  score: {
    correct: number;
    count: number;
    edits: number;
    chars: number;
    inter: number;
    union: number;
  },
): void {
  if (task.scoring === "class") {
    const width = dims[dims.length - 1]!;
    if (y.length / width !== n) {
      throw new Error(`Output "${task.output}" has ${y.length / width} rows for ${n} labels`);
    }
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let j = 1; j < width; j++) if (y[r * width + j]! > y[r * width + best]!) best = j;
      if (best === targets[r]) score.correct++;
      score.count++;
    }
  } else if (task.scoring === "ctc") {
    const [, steps, classes] = dims as [number, number, number];
    const per = targets.length / n;
    for (let r = 0; r < n; r++) {
      const decoded = ctcGreedy(
        y.subarray(r * steps * classes, (r + 1) * steps * classes),
        classes,
        task.ctcBlank ?? 0,
      );
      const truth = [...targets.subarray(r * per, (r + 1) * per)].filter((v) => v >= 0);
      score.edits += editDistance(decoded, truth);
      score.chars += truth.length;
    }
  } else if (task.scoring === "mask") {
    if (targets.length !== y.length) {
      throw new Error(
        `Output "${task.output}" has ${y.length} pixels, the masks ${targets.length}`,
      );
    }
    const th = task.maskThreshold ?? 0.3;
    for (let i = 0; i < y.length; i++) {
      const p = y[i]! > th;
      const t = targets[i]! > 0;
      if (p && t) score.inter++;
      if (p || t) score.union++;
    }
  }
}

/**
 * Greedy CTC decoding: the best class per step, repeats merged, blanks dropped.
 *
 * @example Usage
 * ```ts
 * import { ctcGreedy } from "./evaluate_tensors.ts";
 * // steps: 1, 1, blank, 1, 2 → [1, 1, 2]
 * const y = new Float32Array([0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
 * console.log(ctcGreedy(y, 3, 0)); // [1, 1, 2]
 * ```
 *
 * @param scores `[steps, classes]` scores (probabilities or logits).
 * @param classes Classes per step.
 * @param blank The blank class.
 * @returns The label sequence.
 */
export function ctcGreedy(scores: Float32Array, classes: number, blank: number): number[] {
  const out: number[] = [];
  let prev = -1;
  for (let t = 0; t < scores.length / classes; t++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (scores[t * classes + c]! > scores[t * classes + best]!) best = c;
    }
    if (best !== prev && best !== blank) out.push(best);
    prev = best;
  }
  return out;
}

/**
 * Levenshtein distance between two sequences.
 *
 * @param a A sequence.
 * @param b Another.
 * @returns Insertions, deletions and substitutions that turn a into b.
 */
export function editDistance(a: readonly number[], b: readonly number[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Mean KL divergence KL(dense ‖ variant) over the rows of the last axis. Rows that are already
 * distributions (non-negative, summing to 1 within 1e-3: a softmax output) are used as they are;
 * otherwise they are logits and go through a softmax.
 *
 * @param dense The dense model's outputs.
 * @param variant The variant's, same layout.
 * @param width Length of the last axis.
 * @returns Mean KL in nats, or null when the outputs cannot be compared (width 1, sizes differ).
 */
export function meanKl(dense: Float32Array, variant: Float32Array, width: number): number | null {
  if (width < 2 || dense.length !== variant.length || dense.length === 0) return null;
  const rows = dense.length / width;
  const isDistribution = (y: Float32Array) => {
    for (let r = 0; r < Math.min(rows, 64); r++) {
      let sum = 0;
      for (let j = 0; j < width; j++) {
        const v = y[r * width + j]!;
        if (v < 0) return false;
        sum += v;
      }
      if (Math.abs(sum - 1) > 1e-3) return false;
    }
    return true;
  };
  const probs = isDistribution(dense);
  const p = new Float64Array(width);
  const q = new Float64Array(width);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    fill(p, dense.subarray(r * width, (r + 1) * width), probs);
    fill(q, variant.subarray(r * width, (r + 1) * width), probs);
    let kl = 0;
    for (let j = 0; j < width; j++) {
      if (p[j]! > 0) kl += p[j]! * Math.log(p[j]! / Math.max(q[j]!, 1e-30));
    }
    total += kl;
  }
  return total / rows;
}

function fill(into: Float64Array, row: Float32Array, probs: boolean): void {
  if (probs) {
    let sum = 0;
    for (let j = 0; j < row.length; j++) sum += into[j] = Math.max(0, row[j]!);
    for (let j = 0; j < row.length; j++) into[j] = into[j]! / sum;
    return;
  }
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (let j = 0; j < row.length; j++) sum += into[j] = Math.exp(row[j]! - max);
  for (let j = 0; j < row.length; j++) into[j] = into[j]! / sum;
}

/**
 * Relative output error ‖variant − dense‖₂ / ‖dense‖₂.
 *
 * @param dense The dense model's outputs.
 * @param variant The variant's.
 * @returns The error, or null when the sizes differ or dense is all zero.
 */
export function relativeError(dense: Float32Array, variant: Float32Array): number | null {
  if (dense.length !== variant.length || dense.length === 0) return null;
  let num = 0;
  let den = 0;
  for (let i = 0; i < dense.length; i++) {
    const d = dense[i]!;
    num += (variant[i]! - d) ** 2;
    den += d * d;
  }
  return den === 0 ? null : Math.sqrt(num / den);
}
