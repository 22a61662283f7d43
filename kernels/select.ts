/**
 * Selection of active channels: host for `select.wgsl` and its CPU reference. Produces the
 * compacted index list, values and count that `sparse_gemv` and `gather_gemv` consume.
 *
 * @module
 */

import selectSource from "./select.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  readBuffer,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/** How to select. */
export type SelectRule =
  | { kind: "magnitude"; threshold: number; scale?: Float32Array }
  | { kind: "value"; threshold: number }
  | { kind: "stat-topk"; z: number; soft?: boolean }
  | { kind: "topk"; k: number; scale?: Float32Array; signed?: boolean };

/** A selection result. */
export interface Selection {
  /** Kept indices, ascending. */
  idx: Uint32Array;
  /** Values passed on (x, or x − θ for the soft form). */
  vals: Float32Array;
}

/**
 * CPU reference of the selection rules (float32 arithmetic where the kernel uses it).
 *
 * @param x Input vector.
 * @param rule Rule.
 * @returns Kept indices and values.
 */
export function selectCpu(x: Float32Array, rule: SelectRule): Selection {
  const idx: number[] = [];
  const vals: number[] = [];
  const f = Math.fround;
  const n = x.length;
  if (rule.kind === "topk") {
    const key = (j: number) => (rule.signed ? x[j]! : f(Math.abs(x[j]!) * (rule.scale?.[j] ?? 1)));
    const order = [...Array(n).keys()].sort((a, b) => key(b) - key(a) || a - b).slice(0, rule.k)
      .sort((a, b) => a - b);
    for (const j of order) {
      idx.push(j);
      vals.push(x[j]!);
    }
    return { idx: Uint32Array.from(idx), vals: Float32Array.from(vals) };
  }
  let theta = rule.kind === "stat-topk" ? 0 : rule.threshold;
  if (rule.kind === "stat-topk") {
    let s = 0;
    let s2 = 0;
    for (let j = 0; j < n; j++) {
      s += x[j]!;
      s2 += x[j]! * x[j]!;
    }
    const mean = s / n;
    theta = f(mean + Math.sqrt(Math.max(s2 / n - mean * mean, 0)) * rule.z);
  }
  for (let j = 0; j < n; j++) {
    const keep = rule.kind === "magnitude"
      ? f(Math.abs(x[j]!) * (rule.scale?.[j] ?? 1)) > theta
      : x[j]! > theta;
    if (keep) {
      idx.push(j);
      vals.push(rule.kind === "stat-topk" && rule.soft ? x[j]! - theta : x[j]!);
    }
  }
  return { idx: Uint32Array.from(idx), vals: Float32Array.from(vals) };
}

/** A selection kernel ready to dispatch. */
export interface SelectInstance {
  /** The dispatch. */
  dispatch: Dispatch;
  /** Input vector. */
  x: GPUBuffer;
  /** Kept indices. */
  idx: GPUBuffer;
  /** Kept values. */
  vals: GPUBuffer;
  /** Count of kept elements (one u32). */
  count: GPUBuffer;
  /** Reads the selection. */
  read(): Promise<Selection>;
}

/**
 * Creates a selection kernel over vectors of length `n`.
 *
 * @param device The device.
 * @param options Label, length, rule, and an input buffer to read instead of a new one.
 * @returns The instance.
 */
export async function createSelect(
  device: GPUDevice,
  options: {
    label: string;
    n: number;
    rule: SelectRule;
    input?: GPUBuffer;
    /** Threads of the one workgroup (WG, a power of two ≤ 256; default 256). */
    workgroupSize?: number;
  },
): Promise<SelectInstance> {
  const { n, rule } = options;
  const wgSize = options.workgroupSize ?? 256;
  if (wgSize > 256 || (wgSize & (wgSize - 1)) !== 0) {
    throw new RangeError(`${options.label}: workgroup size ${wgSize} must be a power of 2 ≤ 256`);
  }
  const mode = { magnitude: 0, value: 1, "stat-topk": 2, topk: 3 }[rule.kind];
  const scale = "scale" in rule && rule.scale ? rule.scale : undefined;
  const pipeline = await createPipeline(device, {
    label: `${options.label} select(${rule.kind})`,
    code: selectSource,
    constants: {
      WG: wgSize,
      MODE: mode,
      SCALED: scale ? 1 : 0,
      SOFT: rule.kind === "stat-topk" && rule.soft ? 1 : 0,
      SIGNED: rule.kind === "topk" && rule.signed ? 1 : 0,
    },
  });
  const x = options.input ?? storageBuffer(device, `${options.label} x`, n * 4);
  const scaleBuf = storageBuffer(device, `${options.label} scale`, scale ?? new Float32Array(1));
  const idx = storageBuffer(device, `${options.label} idx`, n * 4);
  const vals = storageBuffer(device, `${options.label} vals`, n * 4);
  const count = storageBuffer(device, `${options.label} count`, 4);
  const params = uniformBuffer(
    device,
    `${options.label} params`,
    packUniform([
      { u32: n },
      { u32: rule.kind === "topk" ? rule.k : 0 },
      { f32: rule.kind === "magnitude" || rule.kind === "value" ? rule.threshold : 0 },
      { f32: rule.kind === "stat-topk" ? rule.z : 0 },
    ]),
  );
  const bindGroup = bindAll(device, pipeline, options.label, [
    x,
    scaleBuf,
    idx,
    vals,
    count,
    params,
  ]);
  return {
    dispatch: { pipeline, bindGroup, workgroups: [1, 1, 1] },
    x,
    idx,
    vals,
    count,
    async read() {
      const c = new Uint32Array(await readBuffer(device, count, 4))[0]!;
      return {
        idx: new Uint32Array(await readBuffer(device, idx, Math.max(4, c * 4))).slice(0, c),
        vals: new Float32Array(await readBuffer(device, vals, Math.max(4, c * 4))).slice(0, c),
      };
    },
  };
}
