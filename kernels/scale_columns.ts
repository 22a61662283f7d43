/**
 * Scales the columns of a row-major weight in place (`scale_columns.wgsl`), with its CPU
 * reference: how an RMSNorm's weight is folded into the dense GEMV that reads the norm.
 *
 * @module
 */

import source from "./scale_columns.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  grid,
  packUniform,
  runOnce,
  uniformBuffer,
} from "./host.ts";

/**
 * CPU reference: W[r][c] · s[c], with the product rounded to f16 when the weight is f16.
 *
 * @param w Row-major weight [rows, cols].
 * @param s Column scales [cols].
 * @param options The weight's precision.
 * @returns The scaled weight.
 */
export function scaleColumnsCpu(
  w: Float32Array,
  s: Float32Array,
  options: { dtype: "f32" | "f16" },
): Float32Array {
  const out = w.map((v, i) => v * s[i % s.length]!);
  return options.dtype === "f16" ? Float32Array.from(new Float16Array(out)) : out;
}

/** One weight to scale: its buffer, shape (cols a multiple of 4), precision and scales. */
export interface ScaleColumnsJob {
  /** Label for GPU objects and errors. */
  label: string;
  /** The weight buffer ([rows, cols], f32 or f16 as the dense GEMV stores it). */
  weight: GPUBuffer;
  /** Rows. */
  rows: number;
  /** Columns, a multiple of 4. */
  cols: number;
  /** Weight precision. */
  dtype: "f32" | "f16";
  /** Column scales [cols], f32. */
  scale: GPUBuffer;
}

/**
 * Multiplies column c of each weight by its s[c], in place: one pipeline per precision, every
 * weight in one submission and one wait (Deno sleeps ~10 ms in each wait, and a 7B model folds
 * 65 weights).
 *
 * @param device The device.
 * @param jobs The weights to scale.
 * @throws {RangeError} When a weight's columns are not a multiple of 4.
 */
export async function scaleColumns(
  device: GPUDevice,
  jobs: readonly ScaleColumnsJob[],
): Promise<void> {
  const pipelines = new Map<string, Promise<GPUComputePipeline>>();
  const pipelineFor = (dtype: "f32" | "f16") => {
    let p = pipelines.get(dtype);
    if (!p) {
      p = createPipeline(device, {
        label: `scale columns ${dtype}`,
        code: source,
        constants: { WG: 256, F16: dtype === "f16" ? 1 : 0 },
      });
      pipelines.set(dtype, p);
    }
    return p;
  };
  const params: GPUBuffer[] = [];
  const dispatches: Dispatch[] = [];
  for (const job of jobs) {
    if (job.cols % 4 !== 0) {
      throw new RangeError(`${job.label}: columns (${job.cols}) must be a multiple of 4`);
    }
    const words = job.rows * job.cols / (job.dtype === "f16" ? 2 : 1);
    const pipeline = await pipelineFor(job.dtype);
    const uniform = uniformBuffer(
      device,
      `${job.label} scale columns params`,
      packUniform([{ u32: words }, { u32: job.cols }, { u32: 0 }, { u32: 0 }]),
    );
    params.push(uniform);
    dispatches.push({
      pipeline,
      bindGroup: bindAll(device, pipeline, `${job.label} scale columns`, [
        job.weight,
        job.scale,
        uniform,
      ]),
      workgroups: grid(Math.ceil(words / 256)),
    });
  }
  if (dispatches.length > 0) await runOnce(device, dispatches);
  params.forEach((b) => b.destroy());
}
