/**
 * The `spark-lm-decode` suite's measurements: Spark's trained LMs decoded whole, token by token,
 * by the decode engine on the WGSL kernels — every block's FFN as the model computes it (the
 * predictor GEMV on the first r inputs → statistical top-k → gathered gate and up rows → down over
 * the kept rows; `src/decode/engine.ts`), attention and the head dense — against their dense twin
 * (lm-char-spark-dense, same architecture and training budget) through the same engine.
 *
 * Per model: bits per character over evaluation windows, computed by the engine itself (and, on
 * the same windows, by ORT: the cell fails when they differ by more than 1e-3, so no time is
 * recorded for a wrong decoder), greedy agreement with the twin's predictions, the fraction of
 * neurons kept counted on the GPU (each token's selection count copied out), and ms per token at
 * a 64-position context of real activations, each sample taken next to one of the twin's.
 *
 * Beside them, the post-hoc methods on the twin through the same engine, at the Spark models'
 * fractions of FFN neurons (sparsity 0.92 and 0.75 on the down projection's input; every other
 * projection dense, so the comparison is of FFNs at equal active fraction): statistical top-k
 * (h_j > mean + z·std per token), CATS (|act(g_j)| above a calibrated threshold) and TEAL
 * (|h_j| above a calibrated threshold: the down input only, not every projection as TEAL's paper
 * does, so that it keeps the same fraction of FFN neurons and nothing else). Thresholds are
 * calibrated on english-text's calibration split (`planFor`). Each such cell: bpc by the engine on
 * the same windows (checked against the CPU reference decoder with the same masks on two windows,
 * since ORT cannot run the masks), the fraction of neurons the down GEMV kept counted by its
 * kernel over every evaluated token, FLOPs, and ms per token interleaved with the twin's. The
 * engine computes the full gate and up GEMVs for these plans and skips only the down rows.
 *
 * @module
 */

import { acquireGpu, type GpuContext } from "../kernels/gpu_device.ts";
import { createDispatchSampler } from "../kernels/gpu_timing.ts";
import { readBuffer, storageBuffer } from "../kernels/host.ts";
import { createDecoder, type Decoder } from "../src/decode/engine.ts";
import { agreementOf, evaluateWindows, type WindowEvaluation } from "../src/decode/evaluate.ts";
import { WRAP_WINDOW } from "../src/decode/measure.ts";
import { chooseDenseKernel } from "../src/decode/launch.ts";
import { importDecoder, type ImportedDecoder } from "../src/decode/onnx_import.ts";
import { planFor } from "../src/decode/calibrate.ts";
import { referenceDecode } from "../src/decode/reference.ts";
import { type HostWeights, linearShapes, type SparsityPlan } from "../src/decode/spec.ts";
import { thresholdCpu } from "../kernels/threshold.ts";
import { type GpuWeights, uploadWeights } from "../src/decode/weights.ts";
import { decodeModel } from "../src/onnx/model.ts";
import { createBackend } from "../src/backends/mod.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { TextDataset } from "../datasets/types.ts";
import { repoPath } from "../lib/repo_root.ts";
import { sha256Hex } from "../lib/sha256.ts";
import type { CellResult } from "../src/result.ts";
import { bootstrapRatioCi, summarize } from "../src/stats.ts";
import type { CustomSuiteContext } from "../src/suite.ts";
import { datasetPin, MODELS } from "./_pins.ts";

/** The models the suite decodes: the twin, and Spark at 8 % and 25 % active neurons. */
export type SparkLm = "lmCharSparkDense" | "lmCharSparkK8" | "lmCharSparkK25";

/** Characters per evaluation window (the models' context). */
const WINDOW = 128;
/** Context of the timed tokens (the KV caches hold the last evaluation window). */
const CONTEXT = 64;
/** Engine bpc against ORT's (or, for the post-hoc masks, the CPU reference's) on the same windows. */
const BPC_TOLERANCE = 1e-3;
/** Calibration windows of the post-hoc thresholds (english-text's calibration split). */
const CALIBRATION_WINDOWS = 8;
/** Windows on which a post-hoc plan's engine bpc is checked against the CPU reference's. */
const REFERENCE_WINDOWS = 2;

/** The post-hoc methods run on the twin, each on the FFN's down-projection input only. */
export const POST_HOC_METHODS = ["stat-topk", "teal", "cats"] as const;

/** A post-hoc method of {@linkcode POST_HOC_METHODS}. */
export type PostHocMethod = (typeof POST_HOC_METHODS)[number];

/** A model through the engine: its import, weights, decoder and evaluation. */
interface Loaded {
  imported: ImportedDecoder;
  weights: GpuWeights;
  decoder: Decoder;
  evaluation: WindowEvaluation;
  /** ORT's bpc on the same windows, or null where ORT could not run (`ortError` says why). */
  ortBpc: number | null;
  ortError: string;
}

async function ortBpc(bytes: Uint8Array, label: string, windows: readonly Uint32Array[]) {
  const backend = await createBackend("ort-node");
  const feedsOf = (w: Uint32Array) => ({
    ids: {
      type: "int64" as const,
      data: BigInt64Array.from(w.subarray(0, WINDOW), BigInt),
      dims: [1, WINDOW],
    },
  });
  const m = await backend.load(bytes, { label, feeds: feedsOf(windows[0]!) });
  let nll = 0;
  let n = 0;
  for (const w of windows) {
    const logits = (await m.run(feedsOf(w)))[m.outputNames[0]!]!.data as Float32Array;
    const vocab = logits.length / WINDOW;
    for (let p = 0; p < WINDOW; p++) {
      const row = logits.subarray(p * vocab, (p + 1) * vocab);
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let e = 0;
      for (const v of row) e += Math.exp(v - max);
      nll += max + Math.log(e) - row[w[p + 1]!]!;
      n++;
    }
  }
  await m.release();
  return nll / n / Math.LN2;
}

/**
 * Mean fraction of neurons the predicted FFNs keep per token over teacher-forced windows,
 * counted on the GPU: after each token, every block's selection count is copied out.
 */
async function keptFraction(
  device: GPUDevice,
  decoder: Decoder,
  windows: readonly Uint32Array[],
): Promise<{ mean: number; perLayer: number[] }> {
  const blocks = decoder.keptCounts.map((b, l) => ({ b, l })).filter((x) => x.b);
  const tokens = windows.reduce((s, w) => s + w.length - 1, 0);
  const out = storageBuffer(device, "kept counts", Math.max(4, tokens * blocks.length * 4));
  let t = 0;
  for (const w of windows) {
    decoder.writeIds(w);
    decoder.setState({ pos: 0, wrapStart: 0, wrapEnd: decoder.maxContext, prompt: w.length });
    const encoder = device.createCommandEncoder({ label: "kept counts" });
    for (let i = 0; i < w.length - 1; i++, t++) {
      decoder.encode(encoder, 1);
      blocks.forEach((x, j) =>
        encoder.copyBufferToBuffer(x.b!, 0, out, (t * blocks.length + j) * 4, 4)
      );
    }
    device.queue.submit([encoder.finish()]);
  }
  const counts = new Uint32Array(await readBuffer(device, out, tokens * blocks.length * 4));
  out.destroy();
  const ff = decoder.weights.spec.ff;
  const perLayer = blocks.map((_, j) => {
    let s = 0;
    for (let i = 0; i < tokens; i++) s += counts[i * blocks.length + j]!;
    return s / tokens / ff;
  });
  return { mean: perLayer.reduce((a, b) => a + b, 0) / Math.max(1, perLayer.length), perLayer };
}

/** Mean −log₂ p(next id) of logits per position against the window's next ids. */
function bitsOf(logits: readonly Float32Array[], w: Uint32Array): { nll: number; n: number } {
  let nll = 0;
  logits.forEach((row, p) => {
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let e = 0;
    for (const v of row) e += Math.exp(v - max);
    nll += max + Math.log(e) - row[w[p + 1]!]!;
  });
  return { nll, n: logits.length };
}

/**
 * bpc of the CPU reference decoder over windows with a down-only plan's masks applied as the
 * engine applies them: keep |h_j| > t (TEAL), h_j > mean + z·std (statistical top-k), or
 * |act(g_j)| > t (CATS). ORT cannot run the masks, so this is the cell's check of the engine.
 */
function referenceBpc(
  spec: ImportedDecoder["spec"],
  host: HostWeights,
  plan: SparsityPlan,
  windows: readonly Uint32Array[],
): number {
  let nll = 0;
  let n = 0;
  for (const w of windows) {
    const gateKept: Uint8Array[] = [];
    const logits = referenceDecode(spec, host, Array.from(w.subarray(0, w.length - 1)), {
      gate(l, actG) {
        const r = plan.layers[l]?.down;
        if (r?.kind === "gate") {
          gateKept[l] = Uint8Array.from(actG, (v) => Math.abs(v) > r.threshold ? 1 : 0);
        }
      },
      input(l, p, x) {
        const r = plan.layers[l]?.[p];
        if (!r || r.kind === "dense") return;
        let keep: (v: number, j: number) => boolean;
        if (r.kind === "magnitude" && !r.scale) keep = (v) => Math.abs(v) > r.threshold;
        else if (r.kind === "stat-topk") {
          const t = thresholdCpu(x, { kind: "stat", z: r.z });
          keep = (v) => v > t;
        } else if (r.kind === "gate") keep = (_, j) => gateKept[l]![j] === 1;
        else throw new Error(`spark-lm-decode: no CPU reference for a ${r.kind} rule on ${p}`);
        x.forEach((v, j) => {
          if (!keep(v, j)) x[j] = 0;
        });
      },
    });
    const b = bitsOf(logits, w);
    nll += b.nll;
    n += b.n;
  }
  return nll / n / Math.LN2;
}

/** ms per token of two decoders, each sample of one taken next to one of the other's. */
async function timePaired(
  gpu: GpuContext,
  twin: Decoder,
  own: Decoder,
  quick: boolean,
): Promise<{ dMs: number[]; vMs: number[]; source: string }> {
  // Both decoders' caches hold their last evaluation window: time at its first 64 positions.
  for (const d of [twin, own]) {
    d.setState({ pos: CONTEXT, wrapStart: CONTEXT, wrapEnd: CONTEXT + WRAP_WINDOW, prompt: 0 });
  }
  const timestamps = gpu.hasTimestamps;
  const dS = await createDispatchSampler(gpu.device, [twin.step], { targetMs: 100, timestamps });
  const vS = own === twin
    ? dS
    : await createDispatchSampler(gpu.device, [own.step], { targetMs: 100, timestamps });
  const dMs: number[] = [];
  const vMs: number[] = [];
  let source = "";
  for (let r = 0; r < (quick ? 5 : 15); r++) {
    for (const smp of r % 2 === 0 ? [dS, vS] : [vS, dS]) {
      const got = await smp.sample();
      source = got.source;
      (smp === dS ? dMs : vMs).push(got.ms);
      if (own === twin) break;
    }
  }
  return { dMs, vMs, source };
}

/** One run of the suite: the evaluation windows, the twin, and the model of the last cell. */
export class SparkLmDecodeRun {
  #windows: Uint32Array[] | undefined;
  #twin: (Loaded & { denseKernel: "gemv" | "skip" }) | undefined;
  #calibration: number[][] | undefined;

  async #windowsOf(quick: boolean): Promise<Uint32Array[]> {
    if (!this.#windows) {
      const text = (await loadDataset("english-text")) as TextDataset;
      const ev = text.splits.evaluation.ids;
      const n = Math.min(quick ? 4 : 24, Math.floor((ev.length - 1) / WINDOW));
      this.#windows = Array.from(
        { length: n },
        (_, w) => Uint32Array.from(ev.subarray(w * WINDOW, w * WINDOW + WINDOW + 1)),
      );
    }
    return this.#windows;
  }

  async #load(
    gpu: GpuContext,
    which: SparkLm,
    ctx: CustomSuiteContext,
    denseKernel?: "gemv" | "skip",
  ): Promise<Loaded & { denseKernel: "gemv" | "skip" }> {
    const pin = MODELS[which];
    const bytes = await Deno.readFile(repoPath(pin.path));
    const got = await sha256Hex(bytes);
    if (got !== pin.sha256) {
      throw new Error(
        `${pin.path}: sha256 ${got} is not the pinned ${pin.sha256}; restore the file`,
      );
    }
    const imported = importDecoder(decodeModel(bytes), { id: pin.id });
    if ((which === "lmCharSparkDense") !== (imported.plan === undefined)) {
      throw new Error(
        `${pin.id}: the importer ${
          imported.plan ? "found" : "did not find"
        } Spark's predicted FFN; check the model file`,
      );
    }
    const weights = uploadWeights(gpu.device, imported.spec, imported.weights, {
      dtype: "f32",
      layouts: ["row", "transposed"],
    });
    const base = { withNll: true, hasF16: gpu.hasF16, adapter: gpu.facts };
    // The twin's dense kernel is the faster dense form on this adapter; Spark's attention and
    // head run the same kernel, so only the FFN differs.
    const kernel = denseKernel ?? (await chooseDenseKernel(gpu.device, weights, {
      ...base,
      context: CONTEXT,
      timestamps: gpu.hasTimestamps,
    })).kernel;
    const decoder = await createDecoder(gpu.device, weights, {
      ...base,
      denseKernel: kernel,
      ...(imported.plan ? { plan: imported.plan } : {}),
    });
    const windows = await this.#windowsOf(ctx.quick);
    ctx.progress(`spark-lm-decode: ${pin.id} over ${windows.length} evaluation windows`);
    const evaluation = await evaluateWindows(gpu.device, decoder, windows);
    // Where ORT cannot load (a device pack without onnxruntime-node), the engine's bpc stands
    // alone, checked against ORT by the engine's tests, and the cell says so.
    let ort: number | null = null;
    let ortError = "";
    try {
      ort = await ortBpc(bytes, pin.id, windows);
    } catch (e) {
      ortError = (e as Error).message.split("\n")[0]!;
    }
    if (ort !== null && !(Math.abs(evaluation.bpc - ort) <= BPC_TOLERANCE)) {
      throw new Error(
        `${pin.id}: the engine's bpc ${evaluation.bpc} differs from ORT's ${ort} by more than ${BPC_TOLERANCE}; fix the engine before timing it`,
      );
    }
    return { imported, weights, decoder, evaluation, ortBpc: ort, ortError, denseKernel: kernel };
  }

  /**
   * Measures one model: bpc (engine and ORT), agreement with the twin, neurons kept, and ms per
   * token next to the twin's.
   *
   * @param which The model.
   * @param ctx The run context.
   * @returns The cell's figures.
   */
  async measure(which: SparkLm, ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
    const gpu = await acquireGpu();
    const { device } = gpu;
    this.#twin ??= await this.#load(gpu, "lmCharSparkDense", ctx);
    const twin = this.#twin;
    const own = which === "lmCharSparkDense"
      ? twin
      : await this.#load(gpu, which, ctx, twin.denseKernel);
    const spec = own.imported.spec;
    const rule = own.imported.plan?.layers[0]?.up;
    const predicted = rule?.kind === "predicted" ? rule : undefined;
    const windows = await this.#windowsOf(ctx.quick);
    const kept = predicted
      ? await keptFraction(device, own.decoder, windows.slice(0, ctx.quick ? 1 : 4))
      : undefined;
    const { dMs, vMs, source } = await timePaired(gpu, twin.decoder, own.decoder, ctx.quick);
    const ms = summarize(vMs.length ? vMs : dMs);
    const ci = own === twin ? undefined : bootstrapRatioCi(dMs, vMs, { seed: 1 });
    // Linear FLOPs per token: q/k/v, o, gate+up, down and the head; Spark's FFN does the
    // predictor (r·ff), the kept neurons' gate, up and down rows, and ~5 per neuron to select.
    const sh = linearShapes(spec);
    const attn = sh.block.qkv.k * sh.block.qkv.n + sh.block.o.k * sh.block.o.n;
    const ffnDense = sh.block.up.k * sh.block.up.n + sh.block.down.k * sh.block.down.n;
    const head = sh.head.k * sh.head.n;
    const flopsDense = 2 * (spec.layers * (attn + ffnDense) + head);
    const flopsOwn = predicted && kept
      ? 2 * (spec.layers * attn + head) +
        kept.perLayer.reduce(
          (s, f) => s + 2 * (predicted.r * spec.ff + 3 * f * spec.ff * spec.d) + 5 * spec.ff,
          0,
        )
      : flopsDense;
    const bytes = own.decoder.bytesPerToken(
      CONTEXT,
      (l, p) => p === "up" || p === "down" ? kept?.perLayer[l] ?? 1 : 1,
    );
    const pin = MODELS[which];
    const result: Partial<CellResult> = {
      model: pin.id,
      model_sha256: pin.sha256,
      dataset: "english-text",
      dataset_hash: datasetPin("english-text", 1, 1).hash,
      method: predicted ? "spark" : "dense",
      params: predicted ? JSON.stringify({ r: predicted.r, z: predicted.z }) : "{}",
      sparsity_target: predicted ? Number((1 - activeOf(which)).toFixed(2)) : null,
      sparsity_realized: kept ? 1 - kept.mean : null,
      flops_dense: flopsDense,
      flops_effective: flopsOwn,
      flops_reduction: flopsDense / flopsOwn,
      weight_bytes_effective: bytes,
      time_median_ms: ms.medianMs,
      time_p10_ms: ms.p10Ms,
      time_p90_ms: ms.p90Ms,
      time_mad_ms: ms.madMs,
      runs: ms.count,
      outliers: ms.outliers,
      time_basis: own === twin ? "alone" : "interleaved",
      speedup: ci?.estimate ?? null,
      speedup_ci_low: ci?.low ?? null,
      speedup_ci_high: ci?.high ?? null,
      metric: "bpc",
      accuracy: own.evaluation.bpc,
      accuracy_dense: twin.evaluation.bpc,
      agreement: agreementOf(own.evaluation.predictions, twin.evaluation.predictions),
      eval_samples: windows.length,
      ...(own.ortError
        ? {
          warnings:
            `ORT's bpc was not computed (${own.ortError}); pack onnxruntime-node to check the engine's bpc against it`,
        }
        : {}),
      samples_ms: vMs.length ? vMs : dMs,
      dense_samples_ms: dMs,
      ...(kept
        ? {
          layer_density: Object.fromEntries(kept.perLayer.map((f, l) => [`L${l}.ffn`, f])),
        }
        : {}),
      extra: {
        shape: `${spec.layers} blocks, d ${spec.d}, ff ${spec.ff}${
          predicted ? `, r ${predicted.r}` : ""
        }`,
        dtype: "f32",
        weights: "trained",
        context: CONTEXT,
        ms_per_token: ms.medianMs,
        tokens_per_s: 1000 / ms.medianMs,
        weight_bytes_per_token: bytes,
        dispatches_per_token: own.decoder.dispatchesPerToken,
        dense_ms_per_token: summarize(dMs).medianMs,
        dense_dispatches_per_token: twin.decoder.dispatchesPerToken,
        bpc_ort: own.ortBpc,
        bpc_engine_minus_ort: own.ortBpc === null ? null : own.evaluation.bpc - own.ortBpc,
        eval_positions: own.evaluation.positions,
        kept_fraction: kept?.mean ?? 1,
        kept_tokens: kept ? (ctx.quick ? 1 : 4) * WINDOW : 0,
        dense_kernel: twin.denseKernel,
        timing: source,
      },
    };
    if (own !== twin) {
      own.decoder.destroy();
      own.weights.destroy();
    }
    return result;
  }

  async #calibrationOf(quick: boolean): Promise<number[][]> {
    if (!this.#calibration) {
      const text = (await loadDataset("english-text")) as TextDataset;
      const cal = text.splits.calibration.ids;
      const n = Math.min(quick ? 2 : CALIBRATION_WINDOWS, Math.floor(cal.length / WINDOW));
      this.#calibration = Array.from(
        { length: n },
        (_, w) => Array.from(cal.subarray(w * WINDOW, w * WINDOW + WINDOW)),
      );
    }
    return this.#calibration;
  }

  /**
   * Measures a post-hoc method on the dense twin at one sparsity of the FFN's down-projection
   * input: its plan calibrated on english-text's calibration split, bpc by the engine on the
   * evaluation windows (checked against the CPU reference with the same masks), the fraction of
   * neurons the down GEMV kept over every evaluated token (the kernel's counters), FLOPs, and ms
   * per token interleaved with the twin's.
   *
   * @param method The method.
   * @param sparsity Fraction of the down input's neurons to drop (0.92: 8 % active).
   * @param ctx The run context.
   * @returns The cell's figures.
   */
  async measurePostHoc(
    method: PostHocMethod,
    sparsity: number,
    ctx: CustomSuiteContext,
  ): Promise<Partial<CellResult>> {
    const gpu = await acquireGpu();
    const { device } = gpu;
    this.#twin ??= await this.#load(gpu, "lmCharSparkDense", ctx);
    const twin = this.#twin;
    const spec = twin.imported.spec;
    const host = twin.imported.weights;
    const calibration = await this.#calibrationOf(ctx.quick);
    const full = planFor(method, sparsity, { spec, host, gpu: twin.weights }, calibration);
    // TEAL's plan thresholds every projection; the study compares FFNs at equal active fraction,
    // so only the down input's rule is kept (CATS and statistical top-k act there alone).
    const plan: SparsityPlan = {
      method,
      layers: full.layers.map((l) => (l.down ? { down: l.down } : {})),
    };
    const decoder = await createDecoder(device, twin.weights, {
      plan,
      withNll: true,
      hasF16: gpu.hasF16,
      adapter: gpu.facts,
      denseKernel: twin.denseKernel,
    });
    const windows = await this.#windowsOf(ctx.quick);
    ctx.progress(
      `spark-lm-decode: ${method} at ${sparsity} on the twin over ${windows.length} windows`,
    );
    const checked = windows.slice(0, REFERENCE_WINDOWS);
    const engineChecked = (await evaluateWindows(device, decoder, checked)).bpc;
    const cpu = referenceBpc(spec, host, plan, checked);
    if (!(Math.abs(engineChecked - cpu) <= BPC_TOLERANCE)) {
      decoder.destroy();
      throw new Error(
        `spark-lm-decode: ${method} at ${sparsity}: the engine's bpc ${engineChecked} on ${checked.length} windows differs from the CPU reference's ${cpu} by more than ${BPC_TOLERANCE}; fix the engine before timing it`,
      );
    }
    // bpc and kept neurons over the same tokens; the caches then hold the last window.
    decoder.resetCounts();
    const evaluation = await evaluateWindows(device, decoder, windows);
    const density = await decoder.readDensity(evaluation.positions);
    const perLayer = density.map((d) => d.down);
    const keptMean = perLayer.reduce((a, b) => a + b, 0) / Math.max(1, perLayer.length);
    const { dMs, vMs, source } = await timePaired(gpu, twin.decoder, decoder, ctx.quick);
    const ms = summarize(vMs);
    const ci = bootstrapRatioCi(dMs, vMs, { seed: 1 });
    // Linear FLOPs per token: these plans compute q/k/v, o, gate and up in full and only the kept
    // rows of down; selecting costs ~1 compare per neuron (~4 for statistical top-k's mean, std
    // and compare).
    const sh = linearShapes(spec);
    const attn = sh.block.qkv.k * sh.block.qkv.n + sh.block.o.k * sh.block.o.n;
    const up = sh.block.up.k * sh.block.up.n;
    const down = sh.block.down.k * sh.block.down.n;
    const head = sh.head.k * sh.head.n;
    const flopsDense = 2 * (spec.layers * (attn + up + down) + head);
    const select = (method === "stat-topk" ? 4 : 1) * spec.ff;
    const flopsOwn = 2 * (spec.layers * (attn + up) + head) +
      perLayer.reduce((s, f) => s + 2 * f * down + select, 0);
    const bytes = decoder.bytesPerToken(CONTEXT, (l, p) => density[l]![p]);
    const pin = MODELS.lmCharSparkDense;
    const active = Number((1 - sparsity).toFixed(2));
    const result: Partial<CellResult> = {
      model: pin.id,
      model_sha256: pin.sha256,
      dataset: "english-text",
      dataset_hash: datasetPin("english-text", 1, 1).hash,
      method,
      params: JSON.stringify({
        projections: "down",
        thresholds: method === "stat-topk" ? "per token (mean + z·std)" : "calibrated",
        ...(method === "stat-topk" ? {} : { calibration: `${calibration.length}x${WINDOW}` }),
      }),
      sparsity_target: sparsity,
      sparsity_realized: 1 - keptMean,
      flops_dense: flopsDense,
      flops_effective: flopsOwn,
      flops_reduction: flopsDense / flopsOwn,
      weight_bytes_effective: bytes,
      time_median_ms: ms.medianMs,
      time_p10_ms: ms.p10Ms,
      time_p90_ms: ms.p90Ms,
      time_mad_ms: ms.madMs,
      runs: ms.count,
      outliers: ms.outliers,
      time_basis: "interleaved",
      speedup: ci.estimate,
      speedup_ci_low: ci.low,
      speedup_ci_high: ci.high,
      metric: "bpc",
      accuracy: evaluation.bpc,
      accuracy_dense: twin.evaluation.bpc,
      agreement: agreementOf(evaluation.predictions, twin.evaluation.predictions),
      eval_samples: windows.length,
      samples_ms: vMs,
      dense_samples_ms: dMs,
      layer_density: Object.fromEntries(perLayer.map((f, l) => [`L${l}.ffn`, f])),
      extra: {
        shape: `${spec.layers} blocks, d ${spec.d}, ff ${spec.ff}`,
        dtype: "f32",
        weights: "trained",
        context: CONTEXT,
        ms_per_token: ms.medianMs,
        tokens_per_s: 1000 / ms.medianMs,
        weight_bytes_per_token: bytes,
        dispatches_per_token: decoder.dispatchesPerToken,
        dense_ms_per_token: summarize(dMs).medianMs,
        dense_dispatches_per_token: twin.decoder.dispatchesPerToken,
        active_target: active,
        projections: "down",
        bpc_reference: cpu,
        bpc_engine_minus_reference: engineChecked - cpu,
        reference_positions: checked.reduce((s, w) => s + w.length - 1, 0),
        eval_positions: evaluation.positions,
        kept_fraction: keptMean,
        kept_tokens: evaluation.positions,
        dense_kernel: twin.denseKernel,
        timing: source,
      },
    };
    decoder.destroy();
    return result;
  }

  /** Frees the GPU buffers of the models loaded. */
  destroy(): void {
    this.#twin?.decoder.destroy();
    this.#twin?.weights.destroy();
    this.#twin = undefined;
  }
}

/** The active fraction a Spark model was trained at. */
function activeOf(which: SparkLm): number {
  return which === "lmCharSparkK8" ? 0.08 : which === "lmCharSparkK25" ? 0.25 : 1;
}
