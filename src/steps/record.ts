/**
 * Building a model-suite cell's record: the identifying fields from the suite and variant, and
 * the figures every target shares (FLOPs, accuracy, agreement, gate, densities, dead-neuron rate)
 * from the prepared variant. Timing is filled in per target by `time_cell.ts`.
 *
 * @module
 */

import { agreement } from "../evaluate.ts";
import { meanKl, relativeError } from "../evaluate_tensors.ts";
import { cellKey, type Variant } from "../plan.ts";
import { type CellResult, emptyCell } from "../result.ts";
import type { ModelSuite } from "../suite.ts";
import type { PreparedVariant } from "./prepare.ts";
import { passesGate, type Quality } from "./quality.ts";

/**
 * A model-suite cell with its identifying fields and no figures.
 *
 * @param suite The suite.
 * @param cell Target, variant and the device in words.
 * @returns The record.
 */
export function baseCell(
  suite: ModelSuite,
  cell: { target: string; variant: Variant; device: string },
): CellResult {
  const v = cell.variant;
  return emptyCell({
    key: cellKey(suite.id, cell.target, v),
    suite: suite.id,
    model: suite.model.id,
    model_sha256: suite.model.sha256,
    dataset: suite.dataset.id,
    dataset_hash: suite.dataset.hash,
    target: cell.target,
    device: cell.device,
    method: v.method,
    params: JSON.stringify(v.params),
    sparsity_target: v.sparsity,
    metric: suite.metric,
  });
}

/**
 * Writes the figures a prepared variant has on every target into a cell.
 *
 * @param cell The cell.
 * @param prepared The variant.
 * @param context The suite and the dense model's quality.
 */
export function fillVariantFigures(
  cell: CellResult,
  prepared: PreparedVariant,
  context: { suite: ModelSuite; dense: Quality; roles?: Record<string, string> },
): void {
  const { flops, quality, plan } = prepared;
  const dense = context.dense;
  const agree = agreement(quality.evaluation.predictions, dense.evaluation.predictions);
  // Without labels the metric is the agreement itself (dense agrees with itself).
  const byAgreement = context.suite.metric === "agreement";
  const metric = byAgreement ? agree : quality.evaluation.metric;
  const denseMetric = byAgreement ? 1 : dense.evaluation.metric;
  Object.assign(
    cell,
    {
      sparsity_realized: flops.sparsityRealized,
      flops_dense: flops.flopsDense,
      flops_effective: flops.flopsEffective,
      flops_reduction: flops.reduction,
      weight_bytes_effective: flops.weightBytesEffective,
      accuracy: metric,
      accuracy_dense: denseMetric,
      agreement: agree,
      gate: passesGate(context.suite, metric, denseMetric) ? "pass" : "fail",
      eval_samples: quality.evaluation.samples,
      layer_density: Object.keys(flops.layerDensity).length ? flops.layerDensity : null,
    } satisfies Partial<CellResult>,
  );
  if (plan.notes && Object.keys(plan.notes).length > 0) cell.notes = JSON.stringify(plan.notes);
  cell.extra = {
    ...(plan.extra ?? {}),
    ...(quality.dnr !== null && dense.dnr !== null
      ? { dnr: Number(quality.dnr.toFixed(5)), dnr_dense: Number(dense.dnr.toFixed(5)) }
      : {}),
    ...(quality.dnrLayers ? { dnr_layers: quality.dnrLayers } : {}),
    ...outputAgreement(context.suite, quality, dense),
    ...layerRolesOf(flops.layerDensity, context.roles),
  };
}

/** The roles of the layers a cell has densities for, as compact JSON, so reports can name them. */
function layerRolesOf(
  density: Record<string, number>,
  roles: Record<string, string> | undefined,
): { layer_roles?: string } {
  if (!roles) return {};
  const named = Object.keys(density).filter((k) => roles[k]).map((k) => [k, roles[k]!]);
  return named.length ? { layer_roles: JSON.stringify(Object.fromEntries(named)) } : {};
}

/** Mean KL and relative output error against dense, for tensor tasks whose outputs were kept. */
function outputAgreement(
  suite: ModelSuite,
  variant: Quality,
  dense: Quality,
): Record<string, number> {
  const a = dense.evaluation.outputs;
  const b = variant.evaluation.outputs;
  if (suite.task.kind !== "tensors" || !a || !b) return {};
  const out: Record<string, number> = {};
  const width = outputWidth(a.length, dense.evaluation.predictions.length);
  const kl = suite.task.scoring === "mask" ? null : meanKl(a, b, width);
  if (kl !== null) out.kl_mean = Number(kl.toPrecision(6));
  const rel = relativeError(a, b);
  if (rel !== null) out.rel_error = Number(rel.toPrecision(6));
  return out;
}

function outputWidth(elements: number, rows: number): number {
  return rows > 0 ? Math.round(elements / rows) : 1;
}
