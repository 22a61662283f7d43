/**
 * Short human labels for variants and layers, for chart legends and tables. A study can name
 * its own variants better (`StudyReport.label`); these are the generic fallbacks.
 *
 * @module
 */

import type { CellResult } from "../result.ts";
import type { StudyReport } from "./study.ts";

/**
 * Method parameters as `key=value` pairs ("" for none).
 *
 * @param params Compact JSON, as a cell records it.
 * @returns E.g. "select=threshold, n=2".
 */
export function paramsLabel(params: string): string {
  if (!params || params === "{}") return "";
  try {
    const p = JSON.parse(params) as Record<string, unknown>;
    return Object.entries(p).map(([k, v]) =>
      `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`
    )
      .join(", ");
  } catch {
    return params;
  }
}

/**
 * A percentage for labels: 0.5 → "50 %", 0.875 → "87.5 %".
 *
 * @param fraction A fraction.
 * @returns The label.
 */
export function percentLabel(fraction: number): string {
  return `${Number((100 * fraction).toFixed(1))} %`;
}

/**
 * The generic label of a variant: method, parameters, target sparsity and (kernels) shape.
 *
 * @param c The cell.
 * @returns E.g. "wina (select=threshold) 50 %".
 */
export function genericVariantLabel(c: CellResult): string {
  const p = paramsLabel(c.params);
  const parts = [c.method];
  if (p) parts.push(`(${p})`);
  if (c.sparsity_target !== null) parts.push(percentLabel(c.sparsity_target));
  if (c.extra.shape) parts.push(String(c.extra.shape));
  return parts.join(" ");
}

/**
 * The label of a variant: the first study that names it, else the generic label.
 *
 * @param c The cell.
 * @param studies The studies covering its suite.
 * @returns The label.
 */
export function variantLabel(c: CellResult, studies: readonly StudyReport[] = []): string {
  for (const s of studies) {
    const l = s.label?.(c);
    if (l) return l;
  }
  return genericVariantLabel(c);
}

/**
 * The label of a method series (a variant without its sparsity): "wina (select=threshold)".
 *
 * @param c The cell.
 * @param studies The studies covering its suite.
 * @returns The label.
 */
export function seriesLabel(c: CellResult, studies: readonly StudyReport[] = []): string {
  return variantLabel({ ...c, sparsity_target: null }, studies);
}

/**
 * A short layer label: ONNX node ids lose their `node_` prefix and long paths keep their tail.
 *
 * @param name The layer name a cell recorded.
 * @returns E.g. "MatMul_42".
 */
export function layerLabel(name: string): string {
  const s = name.replace(/^node_/, "");
  return s.length > 32 ? `…${s.slice(-30)}` : s;
}
