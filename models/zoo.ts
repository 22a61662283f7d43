/**
 * The model zoo's facts in one place: which file, which data, which task, how many evaluation
 * samples the card's dense metric is measured on. Cards (`models/<id>.md`) quote these plus the
 * measured metric; `zoo_test.ts` recomputes the metric and the hashes and checks the cards.
 *
 * Usage: `deno task zoo-metrics [ID...]` measures the dense metric of each model on ort-wasm, as
 * the suites do, and prints the JSON block for its card.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createBackend } from "../src/backends/mod.ts";
import { evaluate } from "../src/evaluate.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { DatasetId } from "../datasets/types.ts";
import type { Task } from "../src/suite.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { RECSAE_PINS } from "../suites/recsae_run.ts";

/** One zoo model. */
export interface ZooModel {
  /** Model id. */
  id: string;
  /** File, relative to the repository. */
  file: string;
  /** Dataset. */
  dataset: DatasetId;
  /** Task wiring. */
  task: Exclude<Task, { kind: "tensors" }>;
  /** Metric id. */
  metric: "accuracy" | "bpc";
  /** Evaluation samples the card's metric uses. */
  evalSamples: number;
}

/** The zoo. The decode graph is checked against the full graph in zoo_test.ts instead. */
export const ZOO: readonly ZooModel[] = [
  {
    id: "mlp-relu-mnist",
    file: "models/mlp-relu-mnist.onnx",
    dataset: "mnist",
    task: { kind: "image-classification", input: "input", inputShape: [784], output: "logits" },
    metric: "accuracy",
    evalSamples: 2000,
  },
  {
    id: "vit-relu-fmnist",
    file: "models/vit-relu-fmnist.onnx",
    dataset: "fashion-mnist",
    task: {
      kind: "image-classification",
      input: "pixels",
      inputShape: [1, 28, 28],
      output: "logits",
    },
    metric: "accuracy",
    evalSamples: 2000,
  },
  {
    id: "vit-gelu-fmnist",
    file: "models/vit-gelu-fmnist.onnx",
    dataset: "fashion-mnist",
    task: {
      kind: "image-classification",
      input: "pixels",
      inputShape: [1, 28, 28],
      output: "logits",
    },
    metric: "accuracy",
    evalSamples: 2000,
  },
  {
    id: "lm-char",
    file: "models/lm-char.onnx",
    dataset: "english-text",
    task: { kind: "char-lm", input: "ids", output: "logits", context: 128 },
    metric: "bpc",
    evalSamples: 1236,
  },
  {
    id: "lm-char-swiglu",
    file: "models/lm-char-swiglu.onnx",
    dataset: "english-text",
    task: { kind: "char-lm", input: "ids", output: "logits", context: 128 },
    metric: "bpc",
    evalSamples: 1236,
  },
  {
    id: "lm-char-spark-dense",
    file: "models/lm-char-spark-dense.onnx",
    dataset: "english-text",
    task: { kind: "char-lm", input: "ids", output: "logits", context: 128 },
    metric: "bpc",
    evalSamples: 1236,
  },
  {
    id: "lm-char-spark-k8",
    file: "models/lm-char-spark-k8.onnx",
    dataset: "english-text",
    task: { kind: "char-lm", input: "ids", output: "logits", context: 128 },
    metric: "bpc",
    evalSamples: 1236,
  },
  {
    id: "lm-char-spark-k25",
    file: "models/lm-char-spark-k25.onnx",
    dataset: "english-text",
    task: { kind: "char-lm", input: "ids", output: "logits", context: 128 },
    metric: "bpc",
    evalSamples: 1236,
  },
  ...["", "-turbo-vbi", "-magnitude", "-structured", "-group-lasso"].map((m) => ({
    id: `lenet5-fmnist${m}`,
    file: `models/lenet5-fmnist${m}.onnx${m ? ".gz" : ""}`,
    dataset: "fashion-mnist" as const,
    task: {
      kind: "image-classification" as const,
      input: "input",
      inputShape: [1, 28, 28],
      output: "logits",
    },
    metric: "accuracy" as const,
    evalSamples: 10000,
  })),
  ...["-turbo-vbi", "-magnitude", "-structured", "-group-lasso"].map((m) => ({
    id: `mlp-relu-mnist${m}`,
    file: `models/mlp-relu-mnist${m}.onnx.gz`,
    dataset: "mnist" as const,
    task: {
      kind: "image-classification" as const,
      input: "input",
      inputShape: [784],
      output: "logits",
    },
    metric: "accuracy" as const,
    evalSamples: 2000,
  })),
];

/**
 * Zoo models that their suites measure rather than `zoo-metrics` (cards `models/<id>.md`, checked
 * by `suites/recsae_test.ts`): the word-sequence recommender and its sparse autoencoder.
 */
export const SUITE_MEASURED: readonly { id: string; path: string; sha256: string }[] = [
  RECSAE_PINS.sasrec,
  RECSAE_PINS.sae,
];

/**
 * Measures a zoo model's dense metric on ort-wasm, exactly as the suites do.
 *
 * @param model The zoo entry.
 * @returns Metric, samples, sha256 and size.
 */
export async function measureZooModel(
  model: ZooModel,
): Promise<{ metric: number; samples: number; sha256: string; bytes: number }> {
  const raw = await Deno.readFile(`${REPO_ROOT}${model.file}`);
  // Compressed models whose matrices are mostly zeros are stored gzipped (`.onnx.gz`).
  const bytes = model.file.endsWith(".gz")
    ? new Uint8Array(
      await new Response(
        new Blob([raw as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip")),
      ).arrayBuffer(),
    )
    : raw;
  const dataset = await loadDataset(model.dataset);
  const backend = await createBackend("ort-wasm");
  const feeds = model.task.kind === "char-lm"
    ? {
      [model.task.input]: {
        type: "int64" as const,
        data: new BigInt64Array(model.task.context),
        dims: [1, model.task.context],
      },
    }
    : {
      [model.task.input]: {
        type: "float32" as const,
        data: new Float32Array(784),
        dims: [1, ...model.task.inputShape],
      },
    };
  const loaded = await backend.load(bytes, { label: model.id, feeds });
  try {
    const ev = await evaluate(loaded, model.task, dataset, {
      samples: model.evalSamples,
      batch: model.task.kind === "char-lm" ? 8 : 100,
    });
    return {
      metric: ev.metric,
      samples: ev.samples,
      sha256: await sha256Hex(raw),
      bytes: raw.length,
    };
  } finally {
    await loaded.release();
  }
}

if (import.meta.main) {
  const { positionals } = parseArgs({ args: Deno.args, allowPositionals: true });
  for (const m of ZOO.filter((z) => positionals.length === 0 || positionals.includes(z.id))) {
    const t0 = performance.now();
    const r = await measureZooModel(m);
    console.log(
      JSON.stringify({ id: m.id, ...r, seconds: Math.round((performance.now() - t0) / 1000) }),
    );
  }
}
