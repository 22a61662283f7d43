/**
 * The FFN hidden vector from its up (and gate) projection partials (`glu.wgsl`), with its CPU
 * reference.
 *
 * @module
 */

import source from "./glu.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";
import { ACT_CODE, activateCpu, type Activation } from "./activation.ts";

/** FFN activations of the decode engine: the kernels' own, and GPT-2's tanh form of GELU. */
export type FfnActivation = Activation | "gelu-tanh";

function actCode(a: FfnActivation): number {
  return a === "gelu-tanh" ? 4 : ACT_CODE[a];
}

/**
 * CPU reference of an FFN activation.
 *
 * @param a Activation.
 * @param v Input.
 * @returns act(v).
 */
export function ffnActivateCpu(a: FfnActivation, v: number): number {
  if (a !== "gelu-tanh") return activateCpu(a, v);
  return 0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
}

/**
 * CPU reference.
 *
 * @param gu Partials [splits, 2·ff] (gated: gate then up) or [splits, ff].
 * @param options Width, gating, activation, bias, splits, CATS gate threshold.
 * @returns h [ff].
 */
export function gluCpu(
  gu: Float32Array,
  options: {
    ff: number;
    gated: boolean;
    act: FfnActivation;
    bias?: Float32Array;
    splits?: number;
    gateThreshold?: number;
  },
): Float32Array {
  const { ff } = options;
  const width = options.gated ? 2 * ff : ff;
  const sum = (i: number) => {
    let a = options.bias?.[i] ?? 0;
    for (let s = 0; s < (options.splits ?? 1); s++) a += gu[s * width + i]!;
    return a;
  };
  return Float32Array.from({ length: ff }, (_, j) => {
    let v = ffnActivateCpu(options.act, sum(j));
    if (!options.gated) return v;
    if (options.gateThreshold !== undefined && Math.abs(v) <= options.gateThreshold) v = 0;
    return v * sum(j + ff);
  });
}

/**
 * Creates the step.
 *
 * @param device The device.
 * @param options Width, gating, activation and buffers.
 * @returns The dispatch and output buffer.
 */
export async function createGlu(
  device: GPUDevice,
  options: {
    label: string;
    ff: number;
    gated: boolean;
    act: FfnActivation;
    gu: GPUBuffer;
    splits?: number;
    bias?: GPUBuffer;
    /** CATS: zero h_j where |act(g_j)| ≤ thresholds[slot]. */
    gateThreshold?: { thresholds: GPUBuffer; slot: number };
    /** Rows of a token sequence (prefill; each its own [splits, width] block); default one. */
    rows?: number;
  },
): Promise<{ dispatch: Dispatch; h: GPUBuffer }> {
  const width = options.gated ? 2 * options.ff : options.ff;
  const rows = options.rows ?? 1;
  const pipeline = await createPipeline(device, {
    label: `${options.label} glu`,
    code: source,
    constants: {
      GATED: options.gated ? 1 : 0,
      ACT: actCode(options.act),
      GATE_T: options.gateThreshold ? 1 : 0,
      SEQ: rows > 1 ? 1 : 0,
    },
  });
  const h = storageBuffer(device, `${options.label} ffn hidden`, rows * options.ff * 4);
  const params = uniformBuffer(
    device,
    `${options.label} glu params`,
    packUniform([
      { u32: options.ff },
      { u32: options.splits ?? 1 },
      { u32: options.gateThreshold?.slot ?? 0 },
      { u32: 0 },
    ]),
  );
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, `${options.label} glu`, [
        options.gu,
        options.bias ?? storageBuffer(device, `${options.label} ffn zeros`, width * 4),
        options.gateThreshold?.thresholds ?? storageBuffer(device, `${options.label} no t`, 16),
        h,
        params,
      ]),
      workgroups: [Math.ceil(options.ff / 256), rows, 1],
    },
    h,
  };
}
