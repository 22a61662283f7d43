/**
 * A short probe of the decode engine's input-sparse GEMV (`kernels/skip_gemv.ts`, the launch
 * shape `skipGemvTuning` picks) against the dense GEMV at LLaMA-7B's FFN shapes, for a device
 * call too short for the whole kernels suite. Each kernel is checked against its CPU reference
 * first; times are GPU timestamps with a pre-roll batch. Prints one JSON line per row and
 * writes them all to `$OUT/skip_gemv_probe.json` (or the current folder).
 *
 * Usage: deno run -A tools/skip_gemv_probe.ts [--quick]
 *
 * @module
 */

import { acquireGpu } from "../kernels/gpu_device.ts";
import { readBuffer, runOnce, storageBuffer } from "../kernels/host.ts";
import { timeDispatches } from "../kernels/gpu_timing.ts";
import { createGemv } from "../kernels/gemv.ts";
import { createReduce } from "../kernels/sparse_gemv.ts";
import { createSkipGemv, skipGemvTuning, skipGemvTuningLabel } from "../kernels/skip_gemv.ts";
import { relativeError } from "../kernels/relative_error.ts";
import { createRng } from "../lib/prng.ts";

const { device, facts, hasF16 } = await acquireGpu();
const quick = Deno.args.includes("--quick");
const shapes: [number, number][] = quick ? [[256, 512]] : [[4096, 11008], [11008, 4096]];
const timing = { samples: 5, targetMs: 20, timestamps: true, preRoll: true };
const rows: Record<string, unknown>[] = [];
const emit = (row: Record<string, unknown>) => {
  rows.push(row);
  console.log(JSON.stringify(row));
};

for (const [k, n] of shapes) {
  const rng = createRng(k + n);
  const wt = new Float32Array(k * n);
  for (let i = 0; i < wt.length; i++) wt[i] = (rng.next() - 0.5) * 0.1;
  const x = new Float32Array(k);
  for (let i = 0; i < k; i++) x[i] = rng.next() * 2 - 1;
  const w = new Float32Array(n * k);
  for (let j = 0; j < k; j++) for (let c = 0; c < n; c++) w[c * k + j] = wt[j * n + c]!;
  const xBuf = storageBuffer(device, "probe x", x);
  const sortedAbs = Float32Array.from(x, Math.abs).sort();
  for (const dtype of ["f32", "f16"] as const) {
    if (dtype === "f16" && !hasF16) continue;
    const stored = dtype === "f16" ? Float32Array.from(new Float16Array(wt)) : wt;
    let denseMs = Infinity;
    let denseTuning = "";
    for (const [tx, rpt, unroll] of [[256, 2, 4], [128, 4, 4], [32, 4, 2], [128, 4, 2]] as const) {
      const g = await createGemv(device, {
        label: "probe dense",
        rows: n,
        cols: k,
        weight: w,
        precision: dtype,
        threadsPerRow: tx,
        rowsPerThread: rpt,
        rowsPerWorkgroup: rpt * (256 / tx),
        unroll,
      });
      g.writeInput(x);
      const t = await timeDispatches(device, [[g.dispatch]], timing);
      if (t.ms < denseMs) [denseMs, denseTuning] = [t.ms, `TX=${tx},RPT=${rpt},U=${unroll}`];
    }
    emit({ shape: `${k}x${n}`, dtype, kernel: "gemv", tuning: denseTuning, us: denseMs * 1e3 });
    const weightT = storageBuffer(
      device,
      "probe Wt",
      dtype === "f16" ? new Float16Array(wt) : wt,
    );
    const tuning = skipGemvTuning(facts, { k });
    for (const s of [0, 0.5, 0.7, 0.9]) {
      const threshold = s === 0 ? -1 : sortedAbs[Math.floor(s * k) - 1]!;
      const want = new Float64Array(n);
      let kept = 0;
      for (let j = 0; j < k; j++) {
        if (!(Math.abs(x[j]!) > threshold)) continue;
        kept++;
        for (let c = 0; c < n; c++) want[c]! += x[j]! * stored[j * n + c]!;
      }
      const g = await createSkipGemv(device, {
        label: "probe skip",
        k,
        n,
        dtype,
        weightT,
        x: xBuf,
        rule: { kind: "magnitude" },
        thresholds: storageBuffer(device, "probe t", new Float32Array([threshold])),
        slot: 0,
        ...tuning,
      });
      const r = await createReduce(device, "probe skip", {
        cols: n,
        splits: g.splits,
        partials: g.partials,
      });
      await runOnce(device, [g.dispatch, r.dispatch]);
      const err = relativeError(
        new Float32Array(await readBuffer(device, r.y, n * 4)),
        Float32Array.from(want),
      );
      if (!(err <= 1e-5)) throw new Error(`skip gemv ${k}x${n} ${dtype} s=${s}: error ${err}`);
      const alone = await timeDispatches(device, [[g.dispatch]], timing);
      const both = await timeDispatches(device, [[g.dispatch, r.dispatch]], timing);
      emit({
        shape: `${k}x${n}`,
        dtype,
        kernel: "skip",
        tuning: skipGemvTuningLabel(tuning),
        sparsity: s,
        kept,
        us: alone.ms * 1e3,
        speedup: Number((denseMs / alone.ms).toFixed(3)),
        withReduceUs: both.ms * 1e3,
        speedupWithReduce: Number((denseMs / both.ms).toFixed(3)),
        gbPerS: Number(((kept * n * (dtype === "f16" ? 2 : 4)) / alone.ms / 1e6).toFixed(1)),
      });
    }
    weightT.destroy();
  }
}
const out = Deno.env.get("OUT") ?? ".";
await Deno.writeTextFile(`${out}/skip_gemv_probe.json`, JSON.stringify(rows, null, 1) + "\n");
