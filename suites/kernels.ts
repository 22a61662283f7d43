/**
 * `kernels`: the WGSL kernels on their own, at the zoo models' FFN shapes and LLaMA-7B's
 * (4096×11008 up, 11008×4096 down). Per shape: the dense GEMV (f32, and f16 when the adapter has
 * `shader-f16`), the input-sparse GEMV (`sparse_gemv_active.wgsl`: threshold, compaction, sweep
 * and reduction in one dispatch; f16 too at LLaMA's shapes; and the select-list form) over a
 * sparsity sweep, and ORT-web's WebGPU MatMul on the same GEMV as the peer. Every kernel is
 * checked against its CPU reference on fresh random inputs before it is timed; every figure comes
 * with bytes moved, GB/s and the percentage of the compute-shader copy ceiling measured in the
 * same run.
 *
 * The dense GEMV's launch shape is the one recorded for the adapter, shape and precision in
 * `_kernels_recorded.ts` (winners of published runs' timed trials, so a LLaMA cell builds one or
 * two shapes instead of the 48 of the sweep), or, where none is recorded, the winner of timed
 * trials over the whole sweep; every row says which (`extra.launch_source`). `--variant
 * gemv-sweep` times the whole sweep everywhere (with no other variant, only the copy ceiling,
 * the dispatch floor and the dense rows run), which is how the winners of a new GPU are found.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell, CustomSuiteContext } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { KernelsRun, type Shape } from "./_kernels_run.ts";

const ZOO_SHAPES: Shape[] = [
  { id: "mlp-fc2-512x512", k: 512, n: 512 },
  { id: "vit-up-128x512", k: 128, n: 512 },
  { id: "vit-down-512x128", k: 512, n: 128 },
  { id: "lm-up-192x640", k: 192, n: 640 },
  { id: "lm-down-640x192", k: 640, n: 192 },
];
const LLAMA_SHAPES: Shape[] = [
  { id: "llama7b-up-4096x11008", k: 4096, n: 11008 },
  { id: "llama7b-down-11008x4096", k: 11008, n: 4096 },
];
const SPARSITIES = [0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95];
const QUICK_SPARSITIES = [0.5, 0.9];

function shapesFor(quick: boolean): Shape[] {
  return quick ? [ZOO_SHAPES[4]!] : [...LLAMA_SHAPES, ...ZOO_SHAPES];
}

/** A planned cell with the measurement that produces its row. */
interface KernelCell extends CustomCell {
  measure(ctx: CustomSuiteContext): Promise<Partial<CellResult>>;
}

export default defineSuite({
  kind: "custom",
  id: "kernels",
  title: "WGSL kernels: dense and input-sparse GEMV vs the copy ceiling and ORT-web's MatMul",
  description:
    "Dense GEMV (f32/f16) and input-sparse GEMV across sparsities at the zoo's FFN shapes and LLaMA-7B's, with GB/s and % of the compute-copy ceiling; ORT-web WebGPU MatMul as the peer.",
  targets: ["wgsl", "ort-webgpu"],
  inDefault: true,
  seed: 1,
  methods: [
    "input-sparse",
    "input-sparse-skip",
    "input-sparse-scan",
    "input-sparse-f16",
    "input-sparse-skip-f16",
    "input-sparse-scan-f16",
    "input-sparse-indexed",
    "ort-matmul",
    // No cells of its own: the dense rows time the whole sweep instead of a recorded shape.
    "gemv-sweep",
  ],
  files: [
    "kernels/activation.wgsl",
    "kernels/gemv.wgsl",
    "kernels/gemv_weights_f32.wgsl",
    "kernels/gemv_weights_f16.wgsl",
    "kernels/select.wgsl",
    "kernels/sparse_gemv_active.wgsl",
    "kernels/sparse_weights_f32.wgsl",
    "kernels/sparse_weights_f16.wgsl",
    "kernels/reduce.wgsl",
    "kernels/skip_gemv.wgsl",
    "kernels/skip_gemv_f32.wgsl",
    "kernels/skip_gemv_f16.wgsl",
    "kernels/copy.wgsl",
    // The measurements, and the recorded launch shapes the dense rows use.
    "suites/_kernels_run.ts",
    "suites/_kernels_recorded.ts",
  ],
  async plan(ctx): Promise<KernelCell[]> {
    const cells: KernelCell[] = [];
    if (!ctx.targets.includes("wgsl")) return cells;
    // One run's shared state (ceiling, dense times, weights), reached through the cells.
    const run = new KernelsRun({ fullSweep: ctx.methods?.includes("gemv-sweep") ?? false });
    const gpu = await acquireGpu().catch(() => undefined);
    // `--variant` keeps the sparse kernels named and the dense rows their speedups divide by.
    const baselines = ["copy", "dispatch-floor", "gemv", "gemv-f16"];
    // No --variant arrives as an empty list: everything runs.
    const named = ctx.methods?.length ? ctx.methods : undefined;
    const keepOrt = !named || named.includes("ort-matmul");
    const wgsl = (key: string, method: string, label: string, measure: KernelCell["measure"]) => {
      if (named && !baselines.includes(method) && !named.includes(method)) return;
      cells.push({ key, target: "wgsl", method, label, measure });
    };
    wgsl("copy", "copy", "copy ceiling", () => run.copyCell());
    wgsl("dispatch-floor", "dispatch-floor", "dispatch floor", (c) => run.dispatchFloorCell(c));
    for (const shape of shapesFor(ctx.quick)) {
      wgsl(
        `${shape.id}/gemv`,
        "gemv",
        `gemv ${shape.id}`,
        (c) => run.denseGemvCell(shape, { ...c, precision: "f32" }),
      );
      if (gpu?.hasF16) {
        wgsl(
          `${shape.id}/gemv-f16`,
          "gemv-f16",
          `gemv f16 ${shape.id}`,
          (c) => run.denseGemvCell(shape, { ...c, precision: "f16" }),
        );
      }
      const grid = ctx.quick ? QUICK_SPARSITIES : SPARSITIES;
      const sparsities = ctx.sparsities ? grid.filter((s) => ctx.sparsities!.includes(s)) : grid;
      for (const s of sparsities) {
        wgsl(
          `${shape.id}/input-sparse@${s}`,
          "input-sparse",
          `sparse ${shape.id} s=${s}`,
          (c) => run.sparseCell(shape, { ...c, sparsity: s, indexed: false, precision: "f32" }),
        );
      }
      // The decode engine's kernel (no compaction) beside the active-list one.
      for (const s of sparsities) {
        wgsl(
          `${shape.id}/input-sparse-skip@${s}`,
          "input-sparse-skip",
          `skip ${shape.id} s=${s}`,
          (c) => run.skipCell(shape, { ...c, sparsity: s, precision: "f32" }),
        );
      }
      // Its scan form: the kept rows listed once per split, then swept eight at a time.
      for (const s of sparsities) {
        wgsl(
          `${shape.id}/input-sparse-scan@${s}`,
          "input-sparse-scan",
          `scan ${shape.id} s=${s}`,
          (c) => run.skipCell(shape, { ...c, sparsity: s, precision: "f32", scan: true }),
        );
      }
      // f16 sparse rows where they matter: LLaMA's shapes, beside the f16 dense GEMV.
      if (gpu?.hasF16 && LLAMA_SHAPES.includes(shape)) {
        for (const s of sparsities) {
          wgsl(
            `${shape.id}/input-sparse-f16@${s}`,
            "input-sparse-f16",
            `sparse f16 ${shape.id} s=${s}`,
            (c) => run.sparseCell(shape, { ...c, sparsity: s, indexed: false, precision: "f16" }),
          );
        }
        for (const s of sparsities) {
          wgsl(
            `${shape.id}/input-sparse-skip-f16@${s}`,
            "input-sparse-skip-f16",
            `skip f16 ${shape.id} s=${s}`,
            (c) => run.skipCell(shape, { ...c, sparsity: s, precision: "f16" }),
          );
        }
        for (const s of sparsities) {
          wgsl(
            `${shape.id}/input-sparse-scan-f16@${s}`,
            "input-sparse-scan-f16",
            `scan f16 ${shape.id} s=${s}`,
            (c) => run.skipCell(shape, { ...c, sparsity: s, precision: "f16", scan: true }),
          );
        }
      }
      for (
        const s of QUICK_SPARSITIES.filter((s) => !ctx.sparsities || ctx.sparsities.includes(s))
      ) {
        wgsl(
          `${shape.id}/input-sparse-indexed@${s}`,
          "input-sparse-indexed",
          `indexed sparse ${shape.id} s=${s}`,
          (c) => run.sparseCell(shape, { ...c, sparsity: s, indexed: true, precision: "f32" }),
        );
      }
      if (ctx.targets.includes("ort-webgpu") && keepOrt) {
        cells.push({
          key: `${shape.id}/ort-matmul`,
          target: "ort-webgpu",
          method: "ort-matmul",
          label: `ORT MatMul ${shape.id}`,
          measure: (c) => run.ortMatMulCell(shape, c),
        });
      }
    }
    return cells;
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    if (!("measure" in cell)) {
      throw new Error(
        `kernels: cell ${cell.key} was not planned by this suite; plan the run again`,
      );
    }
    return await (cell as KernelCell).measure(ctx);
  },
});
