/**
 * The one result record: a cell of a run (suite × target × variant × sparsity), documented field
 * by field. Every exporter (CSV, JSON, HTML) reads these records and nothing else.
 *
 * @module
 */

/** How a cell ended. */
export type CellStatus = "completed" | "errored" | "skipped";

/** One cell of a run. Numbers are `null` where a figure does not apply or was not measured. */
export interface CellResult {
  /** Stable key of the cell within its run (used by `--resume`). */
  key: string;
  /** Suite id. */
  suite: string;
  /** Model id. */
  model: string;
  /** SHA-256 of the model file the suite pins (checked before running). */
  model_sha256: string;
  /** Dataset id. */
  dataset: string;
  /** SHA-256 of the decoded dataset tensors (checked before running). */
  dataset_hash: string;
  /** Target id (ort-wasm, ort-node, ort-webgpu, wgsl). */
  target: string;
  /** The device in words, from the backend's identity. */
  device: string;
  /** Method id; `dense` for the baseline. */
  method: string;
  /** Method parameters as compact JSON ("{}" when none). */
  params: string;
  /** Sparsity the variant was asked for, in [0, 1]; null for dense and parameter-free methods. */
  sparsity_target: number | null;
  /** Sparsity measured on the evaluation split: 1 − (active elements / elements) over the layers the method sparsifies, weighted by FLOPs. */
  sparsity_realized: number | null;
  /** FLOPs of the dense model for one timed input (2 × multiply-accumulates, MatMul/Gemm/Conv). */
  flops_dense: number | null;
  /** FLOPs the variant needs given the measured densities, plus the cost of selecting them. */
  flops_effective: number | null;
  /** flops_dense / flops_effective (ShrinkBench's "theoretical speedup"). */
  flops_reduction: number | null;
  /** Bytes of weights a kernel that skips inactive rows reads per timed input. */
  weight_bytes_effective: number | null;
  /** Median time of one run in ms (batch of one input, warm). */
  time_median_ms: number | null;
  /** 10th percentile of the run time, ms. */
  time_p10_ms: number | null;
  /** 90th percentile of the run time, ms. */
  time_p90_ms: number | null;
  /** Median absolute deviation of the run time (unscaled), ms. */
  time_mad_ms: number | null;
  /** Number of timed runs kept. */
  runs: number | null;
  /** Runs flagged as outliers by the modified z-score (kept, not dropped). */
  outliers: number | null;
  /** Session creation plus the first run, ms: the cold start. */
  cold_ms: number | null;
  /** One run including the read-back of its outputs, ms (on GPU targets this includes Deno's ~10 ms sync floor). */
  sync_latency_ms: number | null;
  /** Dense median time / this variant's median time, on the same target, from interleaved runs. */
  speedup: number | null;
  /** Lower bound of the 95 % bootstrap confidence interval of the speedup. */
  speedup_ci_low: number | null;
  /** Upper bound of that interval. */
  speedup_ci_high: number | null;
  /**
   * Median of the dense samples this cell's speedup was divided by (the dense runs interleaved
   * with this variant), ms. On the dense row it equals `time_median_ms`.
   */
  dense_paired_median_ms: number | null;
  /**
   * Which runs the timing columns describe: `interleaved` (a variant's runs, alternated with the
   * dense model's), `alone` (the dense row: the dense model timed in rounds of its own, so its
   * median may differ from the paired medians of the variants), or "" when not timed.
   */
  time_basis: "interleaved" | "alone" | "";
  /** Metric id: `accuracy` (top-1, higher is better) or `bpc` (bits per character, lower is better). */
  metric: string;
  /** The variant's metric on the evaluation split (measured on the suite's accuracy target). */
  accuracy: number | null;
  /** The dense model's metric on the same samples. */
  accuracy_dense: number | null;
  /** Fraction of evaluation predictions (top-1) equal to the dense model's. */
  agreement: number | null;
  /** Quality gate: `pass` when the metric is within the suite's gate of dense, else `fail`. */
  gate: "pass" | "fail" | null;
  /** How the cell ended. */
  status: CellStatus;
  /** The error or skip reason, one line; empty when completed. */
  error: string;
  /** Timing warnings, each naming its remedy, joined with " | ". */
  warnings: string;
  /** Evaluation samples the metric was computed on. */
  eval_samples: number | null;
  /** Per-layer measured densities (fraction of active elements), layer name to value. */
  layer_density: Record<string, number> | null;
  /** Facts the method recorded (e.g. calibrated thresholds), as compact JSON ("" when none). */
  notes: string;
  /** Suite-specific figures (e.g. kernel, shape, gb_per_s); exported as extra CSV columns. */
  extra: Record<string, string | number | null>;
  /** Raw timing samples (ms per run) of this variant; kept for `compare`. Not in the CSV. */
  samples_ms: number[];
  /** Raw timing samples of the dense baseline interleaved with it. Not in the CSV. */
  dense_samples_ms: number[];
}

/** The CSV's fixed columns, in order; `extra` fields follow, sorted by name. */
export const CSV_COLUMNS = [
  "suite",
  "model",
  "model_sha256",
  "dataset",
  "dataset_hash",
  "target",
  "device",
  "method",
  "params",
  "sparsity_target",
  "sparsity_realized",
  "flops_dense",
  "flops_effective",
  "flops_reduction",
  "weight_bytes_effective",
  "time_median_ms",
  "time_p10_ms",
  "time_p90_ms",
  "time_mad_ms",
  "runs",
  "outliers",
  "cold_ms",
  "sync_latency_ms",
  "speedup",
  "speedup_ci_low",
  "speedup_ci_high",
  "dense_paired_median_ms",
  "time_basis",
  "metric",
  "accuracy",
  "accuracy_dense",
  "agreement",
  "gate",
  "eval_samples",
  "status",
  "error",
  "warnings",
  "notes",
] as const satisfies readonly (keyof CellResult)[];

/**
 * A cell with every figure empty, to be filled in by whoever measures it.
 *
 * @param base The identifying fields.
 * @returns The record.
 */
export function emptyCell(
  base: Pick<
    CellResult,
    | "key"
    | "suite"
    | "model"
    | "model_sha256"
    | "dataset"
    | "dataset_hash"
    | "target"
    | "device"
    | "method"
    | "params"
    | "sparsity_target"
    | "metric"
  >,
): CellResult {
  return {
    ...base,
    sparsity_realized: null,
    flops_dense: null,
    flops_effective: null,
    flops_reduction: null,
    weight_bytes_effective: null,
    time_median_ms: null,
    time_p10_ms: null,
    time_p90_ms: null,
    time_mad_ms: null,
    runs: null,
    outliers: null,
    cold_ms: null,
    sync_latency_ms: null,
    speedup: null,
    speedup_ci_low: null,
    speedup_ci_high: null,
    dense_paired_median_ms: null,
    time_basis: "",
    accuracy: null,
    accuracy_dense: null,
    agreement: null,
    gate: null,
    status: "completed",
    error: "",
    warnings: "",
    eval_samples: null,
    layer_density: null,
    notes: "",
    extra: {},
    samples_ms: [],
    dense_samples_ms: [],
  };
}
