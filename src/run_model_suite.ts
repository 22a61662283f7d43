/**
 * A model suite as a pipeline of named steps: plan → pins → analysis → dense quality → for each
 * variant: prepare (method, calibration, quality, FLOPs) → for each target: time → record. A step
 * that throws fails the cells that depend on it (recorded as `errored`, with the reason) and the
 * run goes on.
 *
 * @module
 */

import type { Backend, TargetId, TensorMap } from "./backend.ts";
import type { Dataset, DatasetSource } from "../datasets/types.ts";
import { timingFeeds } from "./evaluate.ts";
import type { SparsityMethod } from "./method.ts";
import {
  type CellFilter,
  cellKey,
  planModelSuite,
  timingPolicy,
  type Variant,
  variantLabel,
} from "./plan.ts";
import type { Progress } from "./run_progress.ts";
import type { RunSink } from "./run_sink.ts";
import type { ModelSuite } from "./suite.ts";
import type { Clock } from "./timing.ts";
import { oneLine } from "../lib/one_line.ts";
import { analyseModel, shapeRunOn } from "./steps/analysis.ts";
import { createCapture } from "./steps/calibration.ts";
import { checkPins, type PinnedInputs } from "./steps/pins.ts";
import {
  type PrepareContext,
  preparedDense,
  type PreparedVariant,
  prepareVariant,
} from "./steps/prepare.ts";
import { createEvaluator } from "./steps/quality.ts";
import { baseCell, fillVariantFigures } from "./steps/record.ts";
import { timeCell } from "./steps/time_cell.ts";
import type { DenseSession, TargetPool } from "./steps/target_pool.ts";

/** What a model suite's run needs from the run. */
export interface ModelSuiteIo {
  /** Quick mode. */
  quick: boolean;
  /** What the user narrowed the run to. */
  filter: CellFilter;
  /** Where finished cells go (the run folder). */
  runDir: RunSink;
  /** Progress display. */
  progress: Progress;
  /** The run's targets. */
  targets: TargetPool;
  /** Creates a backend (for the CPU calibration backend). */
  backend: (id: TargetId) => Promise<Backend>;
  /** Looks up a method. */
  method: (id: string) => SparsityMethod;
  /** Loads a dataset (a user dataset from its source). */
  dataset: (id: Dataset["id"], source?: DatasetSource) => Promise<Dataset>;
  /** Reads a model file. */
  readModel: (path: string) => Promise<Uint8Array>;
  /** Clock for timing. */
  clock: Clock;
  /** The CPU target that runs calibration captures (default ort-node). */
  calibrationTarget?: TargetId;
}

/** A suite after its shared steps: pins checked, model analysed, dense quality measured. */
interface ReadySuite {
  pins: PinnedInputs;
  feeds: TensorMap;
  context: Omit<PrepareContext, "label">;
}

/**
 * Runs a model suite's pending cells, recording each as it finishes.
 *
 * @param suite The suite.
 * @param io The run.
 */
export async function runModelSuite(suite: ModelSuite, io: ModelSuiteIo): Promise<void> {
  const { targets, variants } = planModelSuite(suite, io.quick, io.filter);
  const pending = (v: Variant) =>
    targets.filter((t) => !io.runDir.isFinished(cellKey(suite.id, t, v)));
  if (!variants.some((v) => pending(v).length > 0)) return;
  const failAll = async (message: string, only: readonly Variant[]) => {
    io.progress.log(`error: suite ${suite.id}: ${message}`);
    for (const v of only) {
      for (const t of pending(v)) {
        const device = (await io.targets.get(t)).identity?.device ?? "";
        const cell = baseCell(suite, { target: t, variant: v, device });
        await io.runDir.record({ ...cell, status: "errored", error: message });
        io.progress.tick(`${suite.id} ${t} ${v.method}`);
      }
    }
  };
  let ready: ReadySuite;
  try {
    ready = await prepareSuite(suite, io);
  } catch (e) {
    await failAll(oneLine(e), variants);
    return;
  }
  const sessions = new Map<TargetId, DenseSession>();
  try {
    for (const v of variants.filter((v) => pending(v).length > 0)) {
      const label = variantLabel(v);
      let prepared: PreparedVariant;
      try {
        io.progress.status(`${suite.id}: preparing ${label}`);
        prepared = v.method === "dense"
          ? preparedDense({ ...ready.context, label })
          : await prepareVariant(v, { ...ready.context, label: `${suite.model.id} ${label}` });
      } catch (e) {
        await failAll(`${label}: ${oneLine(e)}`, [v]);
        continue;
      }
      for (const t of pending(v)) {
        let session = sessions.get(t);
        if (!session) sessions.set(t, session = {});
        await measureAndRecord(suite, io, { target: t, variant: v, prepared, ready, session });
      }
    }
  } finally {
    for (const s of sessions.values()) await s.dense?.release();
  }
}

/** The steps every variant shares: pins, analysis, the accuracy target, dense quality. */
async function prepareSuite(suite: ModelSuite, io: ModelSuiteIo): Promise<ReadySuite> {
  io.progress.status(`${suite.id}: checking pins`);
  const pins = await checkPins(suite, io);
  io.progress.status(`${suite.id}: counting FLOPs`);
  const feeds = timingFeeds(suite.task, pins.dataset);
  // Where onnxruntime-node cannot load (a browser page), the calibration runtime finds the shapes.
  const analysis = await analyseModel(
    pins.dense,
    feeds,
    io.calibrationTarget ? { run: shapeRunOn(await io.backend(io.calibrationTarget)) } : {},
  );
  const accuracyTarget = suite.accuracyTarget ?? "ort-wasm";
  const acc = await io.targets.get(accuracyTarget);
  if (acc.unavailable || !acc.backend) {
    throw new Error(`Accuracy target ${accuracyTarget} is unavailable: ${acc.unavailable}`);
  }
  const sizes = sampleSizes(suite, io.quick);
  const status = (m: string) => io.progress.status(m);
  const evaluate = createEvaluator(acc.backend, {
    suite,
    dataset: pins.dataset,
    feeds,
    samples: sizes.evaluation,
    status,
  });
  const denseQuality = await evaluate(pins.dense, `${suite.model.id} (dense)`, []).catch((e) => {
    throw new Error(`Dense evaluation failed: ${oneLine(e)}`);
  });
  const capture = createCapture(await io.backend(io.calibrationTarget ?? "ort-node"), {
    suite,
    dataset: pins.dataset,
    feeds,
    samples: sizes.calibration,
    status,
  });
  return {
    pins,
    feeds,
    context: {
      analysis,
      denseBytes: pins.denseBytes,
      denseQuality,
      method: io.method,
      seed: suite.seed,
      capture,
      evaluate,
    },
  };
}

/** Times one prepared variant on one target and records the cell. */
async function measureAndRecord(
  suite: ModelSuite,
  io: ModelSuiteIo,
  c: {
    target: TargetId;
    variant: Variant;
    prepared: PreparedVariant;
    ready: ReadySuite;
    session: DenseSession;
  },
): Promise<void> {
  const { target: t, variant: v, prepared, ready } = c;
  const label = variantLabel(v);
  const state = await io.targets.get(t);
  const cell = baseCell(suite, { target: t, variant: v, device: state.identity?.device ?? "" });
  fillVariantFigures(cell, prepared, {
    suite,
    dense: ready.context.denseQuality,
    roles: ready.context.analysis.roles,
  });
  try {
    if (state.unavailable || !state.backend) {
      cell.status = "skipped";
      cell.error = `target ${t} unavailable: ${state.unavailable}`;
    } else {
      io.progress.status(`${suite.id}: timing ${label} on ${t}`);
      const plan = prepared.plan;
      await timeCell(cell, {
        backend: state.backend,
        session: c.session,
        label,
        modelLabel: suite.model.id,
        target: t,
        feeds: ready.feeds,
        dense: { bytes: ready.pins.denseBytes, model: ready.pins.dense },
        ...(v.method === "dense" ? {} : {
          variant: {
            bytes: prepared.bytes,
            model: plan.model,
            ...(plan.kernel ? { kernelPlan: plan.kernel } : {}),
          },
        }),
        policy: timingPolicy(suite, t, io.quick),
        clock: io.clock,
        seed: suite.seed,
      });
    }
  } catch (e) {
    cell.status = "errored";
    cell.error = oneLine(e);
    io.progress.log(`error: ${suite.id} ${t} ${label}: ${cell.error}`);
  }
  await io.runDir.record(cell);
  io.progress.tick(`${suite.id} ${t} ${label}`);
}

function sampleSizes(
  suite: ModelSuite,
  quick: boolean,
): { evaluation: number; calibration: number } {
  return {
    evaluation: (quick ? suite.quick?.evaluationSamples : undefined) ??
      suite.dataset.evaluation.samples,
    calibration: (quick ? suite.quick?.calibrationSamples : undefined) ??
      suite.dataset.calibration.samples,
  };
}
