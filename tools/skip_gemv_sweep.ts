/**
 * A device probe: candidate forms of the input-sparse GEMV over transposed weights at
 * LLaMA-7B's FFN shapes, beside the dense GEMV and the decode engine's kernel
 * (`kernels/skip_gemv.ts`, compacting form, several split sizes). The candidate
 * (`skip_gemv_sweep.wgsl`) does not compact: each warp tests one row and a skipped row issues
 * no load; its partial sums are finished by the project's `reduce.wgsl` (`createReduce`). Every candidate is
 * checked against a CPU reference before it is timed (GPU timestamps, a pre-roll batch before
 * each sample). The H200's output of 2026-12-01 is `results/probes/h200-skip-gemv-sweep.log`
 * (stopped by its time limit in the f16 11008x4096 rows, before it wrote the JSON); that run
 * finished the partials with a plain per-column sum of its own (commit 4fc0e4a), so its
 * "+reduce" figures time that kernel, not `reduce.wgsl`.
 *
 * Usage: deno run -A --unstable-webgpu tools/skip_gemv_sweep.ts [--quick]
 *
 * @module
 */
import { acquireGpu } from "../kernels/gpu_device.ts";
import {
  createPipeline,
  type Dispatch,
  packUniform,
  readBuffer,
  runOnce,
  storageBuffer,
  uniformBuffer,
} from "../kernels/host.ts";
import { createReduce } from "../kernels/sparse_gemv.ts";
import { timeDispatches } from "../kernels/gpu_timing.ts";
import { createGemv } from "../kernels/gemv.ts";
import { createSkipGemv } from "../kernels/skip_gemv.ts";
import f32Prelude from "../kernels/skip_gemv_f32.wgsl" with { type: "text" };
import f16Prelude from "../kernels/skip_gemv_f16.wgsl" with { type: "text" };

const src = await Deno.readTextFile(new URL("./skip_gemv_sweep.wgsl", import.meta.url));
const { device, hasF16 } = await acquireGpu();
const quick = Deno.args.includes("--quick");
const shapes: [number, number][] = quick ? [[512, 1024]] : [[4096, 11008], [11008, 4096]];
const dtypes: ("f32" | "f16")[] = ["f32", "f16"];
const sparsities = [0, 0.5, 0.7, 0.9];
const out: Record<string, unknown>[] = [];
const T = { samples: 3, targetMs: 10, timestamps: true, preRoll: true };

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
function normal(r: () => number) {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

for (const [k, n] of shapes) {
  const r = rng(k * 7 + n);
  const wt = new Float32Array(k * n); // [k][n]
  for (let i = 0; i < wt.length; i++) wt[i] = (r() - 0.5) * 0.1;
  const x = new Float32Array(k);
  for (let i = 0; i < k; i++) x[i] = normal(r);
  const sortedAbs = Array.from(x, Math.abs).sort((a, b) => a - b);
  const xBuf = storageBuffer(device, "x", x);
  for (const dtype of dtypes) {
    if (dtype === "f16" && !hasF16) continue;
    const unitCols = dtype === "f16" ? 8 : 4;
    const units = n / unitCols;
    const wq = dtype === "f16" ? Float32Array.from(new Float16Array(wt)) : wt;
    const plain = storageBuffer(device, `wt ${dtype}`, dtype === "f16" ? new Float16Array(wt) : wt);
    // dense baseline: W row-major [n][k] = transpose
    const w = new Float32Array(n * k);
    for (let j = 0; j < k; j++) for (let c = 0; c < n; c++) w[c * k + j] = wt[j * n + c]!;
    let denseMs = Infinity;
    let denseLabel = "";
    for (
      const [tx, rpt, u, st] of [[256, 2, 4, false], [64, 2, 4, true], [128, 4, 4, false], [
        128,
        2,
        4,
        false,
      ], [256, 4, 2, false]] as const
    ) {
      const g = await createGemv(device, {
        label: "dense",
        rows: n,
        cols: k,
        weight: w,
        precision: dtype,
        threadsPerRow: tx,
        rowsPerThread: rpt,
        rowsPerWorkgroup: rpt * (256 / tx),
        unroll: u,
        stagger: st,
      });
      g.writeInput(x);
      const tm = await timeDispatches(device, [[g.dispatch]], T);
      if (tm.ms < denseMs) {
        denseMs = tm.ms;
        denseLabel = `${tx},${rpt},${u},${st}`;
      }
    }
    const wBytes = k * n * (dtype === "f16" ? 2 : 4);
    out.push({
      k,
      n,
      dtype,
      kernel: "dense",
      us: denseMs * 1000,
      gbs: wBytes / denseMs / 1e6,
      tuning: denseLabel,
    });
    console.log(JSON.stringify(out.at(-1)));
    const tiledCache = new Map<number, GPUBuffer>();
    const tiledFor = (lanes: number) => {
      let b = tiledCache.get(lanes);
      if (b) return b;
      const tiles = Math.ceil(units / lanes);
      const tw = new Float32Array(tiles * k * lanes * unitCols);
      for (let t = 0; t < tiles; t++) {
        for (let j = 0; j < k; j++) {
          for (let l = 0; l < lanes; l++) {
            const u = Math.min(t * lanes + l, units - 1);
            for (let q = 0; q < unitCols; q++) {
              tw[((t * k + j) * lanes + l) * unitCols + q] = wt[j * n + u * unitCols + q]!;
            }
          }
        }
      }
      b = storageBuffer(device, `tiled ${lanes}`, dtype === "f16" ? new Float16Array(tw) : tw);
      tiledCache.set(lanes, b);
      return b;
    };
    for (const s of sparsities) {
      const t = s === 0 ? -1 : sortedAbs[Math.floor(s * k) - 1]!;
      const ref = new Float64Array(n);
      let kept = 0;
      for (let j = 0; j < k; j++) {
        if (!(Math.abs(x[j]!) > t)) continue;
        kept++;
        const v = x[j]!;
        for (let c = 0; c < n; c++) ref[c]! += v * wq[j * n + c]!;
      }
      const effBytes = kept * n * (dtype === "f16" ? 2 : 4);
      const check = async (yBuf: GPUBuffer, label: string) => {
        const y = new Float32Array(await readBuffer(device, yBuf, n * 4));
        let num = 0, den = 0;
        for (let c = 0; c < n; c++) {
          num += (y[c]! - ref[c]!) ** 2;
          den += ref[c]! ** 2;
        }
        const rel = Math.sqrt(num / den);
        if (!(rel < 1e-4)) throw new Error(`${label} wrong: rel ${rel}`);
        return rel;
      };
      // existing engine kernel
      {
        const th = storageBuffer(device, "th", new Float32Array([t]));
        for (const rps of [128, 256, 512]) {
          const sk = await createSkipGemv(device, {
            label: "skip",
            k,
            n,
            dtype,
            weightT: plain,
            x: xBuf,
            rule: { kind: "magnitude" },
            thresholds: th,
            slot: 0,
            rowsPerSplit: rps,
          });
          const { dispatch: red, y } = await createReduce(device, "skip", {
            cols: n,
            splits: sk.splits,
            partials: sk.partials,
          });
          await runOnce(device, [sk.dispatch, red]);
          await check(y, "skip");
          const tm = await timeDispatches(device, [[sk.dispatch]], T);
          const tr = await timeDispatches(device, [[red]], T);
          out.push({
            k,
            n,
            dtype,
            s,
            kernel: "skip-compact",
            tuning: `rps=${rps},S=${sk.splits}`,
            us: tm.ms * 1000,
            reduceUs: tr.ms * 1000,
            speedup: denseMs / tm.ms,
            gbs: effBytes / tm.ms / 1e6,
          });
          console.log(JSON.stringify(out.at(-1)));
        }
      }
      let best: Record<string, unknown> | undefined;
      for (const tiled of [false]) {
        for (const lanes of [32, 64]) {
          for (const u of [4, 8]) {
            for (const splits of (quick ? [8] : [12, 24, 48])) {
              const wg = 256;
              const tiles = Math.ceil(units / lanes);
              const rps = Math.ceil(k / splits);
              const pipeline = await createPipeline(device, {
                label: "skip2",
                code: (dtype === "f16" ? f16Prelude : f32Prelude) + src,
                constants: { WG: wg, LANES: lanes, U8: u === 8 ? 1 : 0, TILED: tiled ? 1 : 0 },
              });
              const partials = storageBuffer(device, "partials", splits * n * 4);
              const dims = uniformBuffer(
                device,
                "dims",
                packUniform([
                  { u32: k },
                  { u32: units },
                  { u32: splits },
                  { u32: rps },
                  { f32: t },
                  { u32: 0 },
                  { u32: 0 },
                  { u32: 0 },
                ]),
              );
              const wbuf = tiled ? tiledFor(lanes) : plain;
              const bg = device.createBindGroup({
                layout: pipeline.getBindGroupLayout(0),
                entries: [wbuf, xBuf, partials, dims].map((b, i) => ({
                  binding: i,
                  resource: { buffer: b },
                })),
              });
              const d: Dispatch = { pipeline, bindGroup: bg, workgroups: [tiles, splits, 1] };
              const { dispatch: red, y } = await createReduce(device, "skip2", {
                cols: n,
                splits,
                partials,
              });
              await runOnce(device, [d, red]);
              await check(y, `skip2 ${tiled} ${lanes} ${u} ${splits}`);
              const tm = await timeDispatches(device, [[d]], T);
              const both = await timeDispatches(device, [[d, red]], T);
              const rec = {
                k,
                n,
                dtype,
                s,
                kernel: "skip2",
                tuning: `${tiled ? "tiled" : "plain"},L=${lanes},U=${u},S=${splits}`,
                us: tm.ms * 1000,
                withReduceUs: both.ms * 1000,
                speedup: denseMs / tm.ms,
                speedupWithReduce: denseMs / both.ms,
                gbs: effBytes / tm.ms / 1e6,
              };
              out.push(rec);
              if (!best || (rec.us < (best.us as number))) best = rec;
              partials.destroy();
            }
          }
        }
      }
      console.log("BEST", JSON.stringify(best));
      // top 6 of this cell
      const cell = out.filter((o) =>
        o.k === k && o.dtype === dtype && o.s === s && o.kernel === "skip2"
      ).sort((a, b) => (a.us as number) - (b.us as number)).slice(0, 6);
      for (const c of cell) {
        console.log(
          "  ",
          c.tuning,
          (c.us as number).toFixed(2),
          "us",
          (c.speedup as number).toFixed(2),
          "x; +reduce",
          (c.speedupWithReduce as number).toFixed(2),
        );
      }
    }
    plain.destroy();
    for (const b of tiledCache.values()) b.destroy();
  }
}
const dir = Deno.env.get("OUT") ?? ".";
await Deno.writeTextFile(`${dir}/skip_gemv_sweep.json`, JSON.stringify(out, null, 1));
