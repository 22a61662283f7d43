/**
 * Per-token thresholds on the GPU (`threshold.wgsl`): the exact magnitude quantile that drops a
 * given number of inputs, or Spark's mean + z·std, with the CPU reference.
 *
 * @module
 */

import source from "./threshold.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/** What the threshold kernel computes. */
export type ThresholdRule =
  | { kind: "fraction"; drop: number; scale?: Float32Array }
  | { kind: "stat"; z: number };

/**
 * CPU reference.
 *
 * @param x The vector.
 * @param rule Rule.
 * @returns The threshold (f32).
 */
export function thresholdCpu(x: Float32Array, rule: ThresholdRule): number {
  if (rule.kind === "stat") {
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    return Math.fround(mean + Math.sqrt(Math.max(s2 / x.length - mean * mean, 0)) * rule.z);
  }
  if (rule.drop === 0) return -1;
  const keys = Float32Array.from(x, (v, j) => Math.fround(Math.abs(v) * (rule.scale?.[j] ?? 1)));
  keys.sort();
  return keys[rule.drop - 1]!;
}

/**
 * Creates a threshold step writing `thresholds[slot]`.
 *
 * @param device The device.
 * @param options Length, rule, input and output.
 * @returns The dispatch.
 */
export async function createThreshold(
  device: GPUDevice,
  options: {
    label: string;
    n: number;
    rule: ThresholdRule;
    x: GPUBuffer;
    thresholds: GPUBuffer;
    slot: number;
    workgroupSize?: number;
    /**
     * Histogram partitions (default 8): GPUs spread their atomics over them; CPU adapters
     * (llvmpipe) run one partition far faster.
     */
    copies?: number;
  },
): Promise<Dispatch> {
  const { rule } = options;
  const scale = rule.kind === "fraction" ? rule.scale : undefined;
  const pipeline = await createPipeline(device, {
    label: `${options.label} threshold(${rule.kind})`,
    code: source,
    constants: {
      WG: options.workgroupSize ?? 256,
      MODE: rule.kind === "stat" ? 1 : 0,
      SCALED: scale ? 1 : 0,
      COPIES: options.copies ?? 8,
    },
  });
  const params = uniformBuffer(
    device,
    `${options.label} threshold params`,
    packUniform([
      { u32: options.n },
      { u32: rule.kind === "fraction" ? rule.drop : 0 },
      { f32: rule.kind === "stat" ? rule.z : 0 },
      { u32: options.slot },
    ]),
  );
  return {
    pipeline,
    bindGroup: bindAll(device, pipeline, `${options.label} threshold`, [
      options.x,
      storageBuffer(device, `${options.label} t scale`, scale ?? new Float32Array(1)),
      options.thresholds,
      params,
    ]),
    workgroups: [1, 1, 1],
  };
}
