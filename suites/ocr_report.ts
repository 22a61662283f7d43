/**
 * The PP-OCRv4 study's report: character error rate per method at each sparsity against dense
 * for the recogniser, with the FFN share that bounds what activation sparsity can save there;
 * ReLU zeros over the detector's convolution layers (the Lazy Neuron measurement on a pretrained
 * CNN; the per-layer chart is the dead-neuron study's) with its mask IoU.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { percentLabel } from "../src/report/labels.ts";
import type { Finding, StudyReport } from "../src/report/study.ts";

const pct = (x: number) => `${(100 * x).toFixed(3)} %`;

/** "WINA-thr" for WINA's threshold form, the method id otherwise. */
function methodLabel(c: CellResult): string {
  const params = JSON.parse(c.params || "{}") as Record<string, unknown>;
  const form = typeof params.select === "string" ? `-${params.select.slice(0, 3)}` : "";
  return `${c.method}${form}`;
}

function completed(cells: readonly CellResult[]): CellResult[] {
  return cells.filter((c) => c.status === "completed" && c.accuracy !== null);
}

/** One accuracy figure per method and sparsity (accuracy is measured once, on every target). */
function byVariant(cells: readonly CellResult[]): CellResult[] {
  const seen = new Map<string, CellResult>();
  for (const c of completed(cells)) {
    const k = `${c.method}|${c.params}|${c.sparsity_target}`;
    if (!seen.has(k)) seen.set(k, c);
  }
  return [...seen.values()];
}

function recFindings(cells: readonly CellResult[]): Finding[] {
  const rows = byVariant(cells);
  const dense = rows.find((c) => c.method === "dense");
  if (!dense) return [];
  const at50 = rows.filter((c) => c.sparsity_target === 0.5);
  const maxFlops = Math.max(...rows.map((c) => c.flops_reduction ?? 1));
  const passed = rows.filter((c) => c.method !== "dense" && c.gate === "pass").length;
  const out: Finding[] = [{
    text: `${dense.suite}: dense CER ${
      pct(dense.accuracy!)
    } on ${dense.eval_samples} lines; at 50 % ${
      at50.map((c) => `${methodLabel(c)} ${pct(c.accuracy!)}`).join(", ")
    }; ${passed} of ${rows.length - 1} variants pass the gate.`,
  }];
  if (maxFlops < 1.05) {
    out.push({
      text: `${dense.suite}: no variant saves more than ${
        ((1 - 1 / maxFlops) * 100).toFixed(1)
      } % of the FLOPs (the FFNs the activation methods skip are a small share of this CNN-led model), so no speedup is expected here and the measured ones are noise.`,
    });
  }
  return out;
}

function detFindings(cells: readonly CellResult[]): Finding[] {
  const dense = completed(cells).filter((c) => c.method === "dense");
  if (dense.length === 0) return [];
  const d = dense[0]!;
  const layers = d.extra.dnr_layers
    ? JSON.parse(String(d.extra.dnr_layers)) as Record<string, number>
    : {};
  const zeros = Object.values(layers);
  const range = zeros.length
    ? `${percentLabel(Math.min(...zeros))}–${
      percentLabel(Math.max(...zeros))
    } per layer over ${zeros.length} ReLUs`
    : "no per-layer figure";
  const times = dense.map((c) => `${c.target} ${Number(c.time_median_ms?.toPrecision(3))} ms`).join(
    ", ",
  );
  return [{
    text: `${d.suite}: dense mask IoU ${d.accuracy!.toFixed(3)}; ReLU outputs are zero ${
      d.extra.dnr !== undefined && d.extra.dnr !== null ? percentLabel(Number(d.extra.dnr)) : "?"
    } of the time on average (${range}); dense time ${times}.`,
  }];
}

/** The PP-OCR study (recogniser and detector). */
export const ocrReport: StudyReport = {
  name: "PP-OCRv4",
  covers: (id) => id === "ocr-rec" || id === "ocr-det",
  findings: (cells) => cells[0]?.suite === "ocr-det" ? detFindings(cells) : recFindings(cells),
  label: (c) =>
    c.sparsity_target !== null && c.method !== "dense"
      ? `${methodLabel(c)} ${percentLabel(c.sparsity_target)}`
      : undefined,
  densityMeaning: "fraction of nonzero activations",
};
