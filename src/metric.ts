/**
 * The task metrics a cell can carry and which way each is better, with the one rule for where the
 * quality gate sits. The runner's gate and the reports' gate lines both read it, so a metric's
 * direction is written once.
 *
 * @module
 */

/** Whether a lower value of the metric is better (bits per character, character error rate). */
export function lowerIsBetter(metric: string): boolean {
  return metric === "bpc" || metric === "cer";
}

/**
 * Where a metric's quality gate sits, given the dense value: a fraction of dense for metrics
 * where higher is better (accuracy, IoU, agreement), dense divided by the fraction for bits per
 * character, and for CER a gate on character accuracy (1 − CER), since a gate on the CER itself
 * would allow a variant almost no error beside a dense CER near zero.
 *
 * @example
 * ```ts
 * import { gateThreshold } from "./metric.ts";
 * console.log(gateThreshold("accuracy", 0.98)); // 0.9702
 * console.log(gateThreshold("cer", 0.001)); // 1 − 0.999 × 0.99
 * ```
 *
 * @param metric The metric id.
 * @param dense The dense value.
 * @param gate The gate fraction (default 0.99: MLPerf's rule).
 * @returns The threshold a variant must not cross.
 */
export function gateThreshold(metric: string, dense: number, gate = 0.99): number {
  if (metric === "bpc") return dense / gate;
  if (metric === "cer") return 1 - (1 - dense) * gate;
  return dense * gate;
}

/**
 * Whether a value passes the gate.
 *
 * @param metric The metric id.
 * @param values The variant's and the dense model's values.
 * @param gate The gate fraction (default 0.99).
 * @returns True when it passes.
 */
export function passesGateFor(
  metric: string,
  values: { value: number; dense: number },
  gate = 0.99,
): boolean {
  const t = gateThreshold(metric, values.dense, gate);
  return lowerIsBetter(metric) ? values.value <= t : values.value >= t;
}
