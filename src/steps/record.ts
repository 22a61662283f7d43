/**
 * Building a model-suite cell's record: the identifying fields from the suite and variant, and
 * the figures every target shares (FLOPs, accuracy, agreement, gate, densities, dead-neuron rate)
 * from the prepared variant. Timing is filled in per target by `time_cell.ts`.
 *
 * @module
 */

import { agreement } from "../evaluate.ts";
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
  context: { suite: ModelSuite; dense: Quality },
): void {
  const { flops, quality, plan } = prepared;
  const dense = context.dense;
  Object.assign(
    cell,
    {
      sparsity_realized: flops.sparsityRealized,
      flops_dense: flops.flopsDense,
      flops_effective: flops.flopsEffective,
      flops_reduction: flops.reduction,
      weight_bytes_effective: flops.weightBytesEffective,
      accuracy: quality.evaluation.metric,
      accuracy_dense: dense.evaluation.metric,
      agreement: agreement(quality.evaluation.predictions, dense.evaluation.predictions),
      gate: passesGate(context.suite, quality.evaluation.metric, dense.evaluation.metric)
        ? "pass"
        : "fail",
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
  };
}
