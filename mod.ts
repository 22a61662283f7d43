/**
 * sparsebench: a reproducible benchmark suite for sparse neural-network inference.
 *
 * The public API: define suites, run them, and use the pieces (backends, methods, statistics,
 * ONNX tools, exporters) on their own.
 *
 * @example Run a suite programmatically
 * ```ts
 * import {
 *   createBackend,
 *   createProgress,
 *   getMethod,
 *   loadDataset,
 *   RunDir,
 *   runSuites,
 *   SUITES,
 * } from "./mod.ts";
 * import { repoPath } from "./lib/repo_root.ts";
 * const runDir = await RunDir.createNew(await Deno.makeTempDir());
 * await runSuites({
 *   suites: [SUITES.find((s) => s.suite.id === "mlp-mnist")!.suite],
 *   quick: true,
 *   targets: ["ort-wasm"],
 *   variants: ["teal"],
 *   runDir,
 *   progress: createProgress({ quiet: true, interactive: false }),
 *   backend: createBackend,
 *   method: getMethod,
 *   dataset: (id) => loadDataset(id),
 *   readModel: (p) => Deno.readFile(repoPath(p)),
 * });
 * await runDir.close();
 * const teal = runDir.cells.find((c) => c.method === "teal")!;
 * console.log(teal.speedup, teal.flops_reduction, teal.accuracy);
 * ```
 *
 * @example Count a model's FLOPs and find its FFN blocks
 * ```ts
 * import { analyzeGraph, countFlops, decodeModel, inferShapes } from "./mod.ts";
 * import { repoPath } from "./lib/repo_root.ts";
 * const model = decodeModel(await Deno.readFile(repoPath("models/mlp-relu-mnist.onnx")));
 * const shapes = await inferShapes(model, { input: [1, 784] });
 * console.log(countFlops(model, shapes).flops); // 2 × multiply-accumulates
 * console.log(analyzeGraph(model.graph!).ffn.length);
 * ```
 *
 * @module
 */

export { defineSuite } from "./src/suite.ts";
export type {
  CustomSuite,
  DatasetPin,
  ModelPin,
  ModelSuite,
  QuickOverrides,
  Suite,
  Task,
  VariantSpec,
} from "./src/suite.ts";
export { selectSuites, SUITES } from "./suites/mod.ts";
export { countPendingCells, runSuites } from "./src/runner.ts";
export { cellKey, expandVariants, planModelSuite, timingPolicy } from "./src/plan.ts";
export type { CellFilter, Variant } from "./src/plan.ts";
export type { RunOptions } from "./src/runner.ts";
export { checkId, newRunId, RunDir } from "./src/run_dir.ts";
export { CSV_COLUMNS, emptyCell } from "./src/result.ts";
export type { CellResult, CellStatus } from "./src/result.ts";
export { parseCsv, toCsv } from "./src/export_csv.ts";
export { assertFinite, TARGET_IDS } from "./src/backend.ts";
export { createBackend } from "./src/backends/mod.ts";
export type { AdapterFacts } from "./kernels/gpu_device.ts";
export type {
  Backend,
  BackendIdentity,
  HostTensor,
  LoadedModel,
  TargetId,
  TensorMap,
} from "./src/backend.ts";
export { measureInterleaved, timingWarnings, wallClock } from "./src/timing.ts";
export type { Clock, Sampler, TimingPolicy, TimingWarning } from "./src/timing.ts";
export {
  bootstrapRatioCi,
  mad,
  mannWhitney,
  median,
  normalCdf,
  normalQuantile,
  outlierIndices,
  quantile,
  summarize,
} from "./src/stats.ts";
export type { BootstrapOptions, Interval, SampleSummary } from "./src/stats.ts";
export { createProgress, formatDuration } from "./src/progress.ts";
export type { Progress } from "./src/progress.ts";
export { getMethod, METHODS } from "./methods/mod.ts";
export type {
  Captured,
  MethodContext,
  SelectionCost,
  SparseLinear,
  SparsityMethod,
  VariantPlan,
} from "./src/method.ts";
export { DATASET_IDS, SPLIT_NAMES } from "./datasets/types.ts";
export { loadDataset } from "./datasets/mod.ts";
export type { Dataset, DatasetId, ImageDataset, SplitName, TextDataset } from "./datasets/types.ts";
export { decodeModel, encodeModel } from "./src/onnx/model.ts";
export type { ModelProto } from "./src/onnx/model.ts";
export {
  analyzeGraph,
  findAttentionBlocks,
  findFfnBlocks,
  findLinears,
} from "./src/onnx/blocks.ts";
export type { ActivationKind, AttentionBlock, FfnBlock, Linear } from "./src/onnx/blocks.ts";
export { countFlops, nodeFlops } from "./src/onnx/flops.ts";
export type { FlopCount, NodeFlops } from "./src/onnx/flops.ts";
export { inferShapes, resolveInputShapes } from "./src/onnx/shapes.ts";
export { effectiveFlops } from "./src/effective_flops.ts";
export { sha256File, sha256Hex } from "./lib/sha256.ts";
export { readRun } from "./src/report/run_data.ts";
export type { RunData } from "./src/report/run_data.ts";
export { renderRunReport, writeRunReport } from "./src/report/run_report.ts";
export { codeDifferences, compareRuns, speedupRatio } from "./src/report/compare.ts";
export type { ComparedCell, CompareOptions } from "./src/report/compare.ts";
export { renderCompareReport } from "./src/report/compare_report.ts";
export { writeIndex } from "./src/report/index_page.ts";
export { Html, html } from "./src/report/html.ts";
export type { Finding, ReportSection, StudyReport } from "./src/report/study.ts";
export type { ChartSpec } from "./src/report/chart_spec.ts";
export { STUDY_REPORTS } from "./suites/reports.ts";
