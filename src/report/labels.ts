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
 * A short layer label: the layer's role where the run recorded one ("block 2 FFN down"); else
 * ONNX node ids lose their `node_` prefix and long paths keep their tail.
 *
 * @param name The layer name a cell recorded.
 * @param roles Roles by layer name (see {@linkcode layerRolesOf}).
 * @returns E.g. "block 2 FFN down", or "MatMul_42".
 */
export function layerLabel(name: string, roles: Readonly<Record<string, string>> = {}): string {
  const role = roles[name];
  if (role) return role;
  const s = name.replace(/^node_/, "");
  return s.length > 32 ? `…${s.slice(-30)}` : s;
}

/**
 * The layer roles the cells recorded (`extra.layer_roles`, written by the runner from the model's
 * FFN and attention blocks), merged.
 *
 * @param cells The cells.
 * @returns Roles by layer name.
 */
export function layerRolesOf(cells: readonly CellResult[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of cells) {
    const raw = c.extra.layer_roles;
    if (typeof raw !== "string") continue;
    try {
      const r = JSON.parse(raw) as Record<string, unknown>;
      for (const [k, v] of Object.entries(r)) if (typeof v === "string") out[k] = v;
    } catch {
      // A damaged field: the node ids stand in.
    }
  }
  return out;
}
