/**
 * The lazy-neuron study's report: the natural ReLU sparsity this run measured beside the
 * paper's 3.0 % / 6.3 % nonzero activations.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { layerLabel, percentLabel } from "../src/report/labels.ts";
import type { RunData } from "../src/report/run_data.ts";
import type { Finding, RecordedClaim, StudyReport } from "../src/report/study.ts";

function reluCell(cells: readonly CellResult[]): CellResult | undefined {
  return cells.find((c) =>
    c.status === "completed" && c.method === "relu" && c.sparsity_realized !== null
  );
}

function nonzeroText(relu: CellResult): string {
  const layers = relu.layer_density
    ? Object.entries(relu.layer_density).map(([k, v]) =>
      `${layerLabel(k)}: ${(100 * v).toFixed(1)} %`
    )
      .join("; ")
    : "";
  return `${
    (100 * (1 - relu.sparsity_realized!)).toFixed(1)
  } % nonzero FFN activations (${relu.model}, FLOP-weighted over layers${
    layers ? `: ${layers}` : ""
  })`;
}

function measured(_claim: RecordedClaim, cells: readonly CellResult[]): string | undefined {
  const relu = reluCell(cells);
  return relu ? nonzeroText(relu) : undefined;
}

function findings(cells: readonly CellResult[], run: RunData): Finding[] {
  const relu = reluCell(cells);
  if (!relu) return [];
  const suites = Array.isArray(run.run.suites)
    ? run.run.suites as { id?: string; claims?: RecordedClaim[] }[]
    : [];
  const claims = suites.find((s) => s?.id === relu.suite)?.claims ?? [];
  const cited = claims.map((c) => `${c.value} ${c.unit} ${c.label} (${c.source})`).join(", ");
  return [{
    text: `${relu.suite}: measured ${nonzeroText(relu)}${
      cited ? `, beside the paper's ${cited}` : ""
    }.`,
  }];
}

/** The lazy-neuron study. */
export const lazyNeuronReport: StudyReport = {
  name: "lazy neuron",
  covers: (id) => id === "lazy-neuron",
  label: (c) =>
    c.method === "relu"
      ? "ReLU (natural)"
      : c.method === "topk" && c.sparsity_target !== null
      ? `top-k ${percentLabel(c.sparsity_target)}`
      : undefined,
  findings,
  measured,
  densityMeaning: "fraction of nonzero FFN activations",
};
