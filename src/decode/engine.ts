/**
 * The decode engine: batch-1 autoregressive decoding of a decoder-only transformer on the
 * project's WGSL kernels. One token is a fixed list of dispatches (embedding, per block add+norm,
 * q/k/v, RoPE + KV-cache append, split-sequence attention, o, add+norm, up/gate, FFN hidden, down,
 * then final add+norm, LM head, argmax); the position and the ids live in GPU buffers and the
 * argmax writes the next id, so any number of tokens is recorded into one pass and submitted with
 * one synchronisation at the end (Deno sleeps ~10 ms in every sync). Prefill runs the same step
 * over the prompt's positions (ids given, not generated).
 *
 * Each projection runs the dense GEMV (`kernels/gemv.ts`) over row-major weights, or, where the
 * plan makes its input sparse, the input-sparse GEMV (`kernels/skip_gemv.ts`) over transposed
 * weights with its threshold in a GPU buffer: a constant (calibrated), or one the threshold
 * kernel computes for this token just before. The split-K sums of the sparse GEMVs are finished
 * by the kernel that reads the output next (rope_cache, add_norm, glu), so sparsity adds no
 * reduce dispatch. `_projection.ts` is the one place that chooses the GEMV kernel.
 *
 * The KV caches hold f32 or, by default with f16 weights, f16 elements
 * ({@linkcode DecoderOptions.kvDtype}): rope_cache packs the halves it appends and the attention
 * unpacks them, so an f16 cache halves the attention's bytes without the shader-f16 feature.
 *
 * A block whose plan puts Spark's `predicted` rule on `up` runs its FFN as
 * `kernels/predicted_ffn.ts` does (`_predicted_ffn.ts`: predictor, selection, gathered gate and
 * up, sparse down; the kept count never leaves the GPU).
 *
 * On GPUs an RMSNorm model runs no norm dispatch at all ({@linkcode DecoderOptions.fuseNorms}):
 * the GEMVs that read a norm normalise the stream themselves and o and down add into it. Dense
 * GEMVs read row-major weights with the norm weights folded in once and scale their dots by 1/rms;
 * input-sparse ones multiply each input by its norm weight, compare it against the threshold
 * divided by 1/rms, and the last workgroup of each column tile of o and down sums the split-K
 * partials into the stream (LLaMA-7B dense: 259 dispatches per token instead of 324). Plans with a
 * per-token threshold on q/k/v or up/gate (fraction, statistical top-k) or Spark's predicted FFN
 * keep the separate norms.
 *
 * @module
 */

import {
  type Dispatch,
  encodePass,
  readBuffer,
  storageBuffer,
  writeArray,
} from "../../kernels/host.ts";
import { createGemv } from "../../kernels/gemv.ts";
import { defaultTuning, type GemvTuning } from "../../kernels/tuning.ts";
import type { AdapterFacts } from "../../kernels/gpu_device.ts";
import type { SkipGemvTuning } from "../../kernels/skip_gemv.ts";
import { createAddNorm } from "../../kernels/add_norm.ts";
import { createRopeCache, type KvDtype, kvElementBytes } from "../../kernels/rope_cache.ts";
import { type AttentionTuning, createAttention } from "../../kernels/attention.ts";
import { createPrefill, type Prefill, prefillRefusal } from "./prefill.ts";
import { createGlu } from "../../kernels/glu.ts";
import { createEmbed } from "../../kernels/embed.ts";
import { createNextToken, type DecodeState, stateWords } from "../../kernels/next_token.ts";
import { createPredictedFfnBlock, type PredictedTuning } from "./_predicted_ffn.ts";
import {
  createProjection,
  type FusedNorm,
  type ProjectionContext,
  usesDenseGemv,
} from "./_projection.ts";
import { foldNormsIntoRows, type GpuLinear, type GpuNorm, type GpuWeights } from "./weights.ts";
import {
  DENSE_PLAN,
  hasConstantThreshold,
  linearShapes,
  type ProjectionName,
  type ProjectionRule,
  PROJECTIONS,
  type SparsityPlan,
  stepBytes,
} from "./spec.ts";

/** Options of {@linkcode createDecoder}. */
export interface DecoderOptions {
  /** Where inputs are sparse (default dense). */
  plan?: SparsityPlan;
  /** KV-cache capacity in positions (default the model's maxPositions). */
  maxContext?: number;
  /** Write −log p(next id) per prompt position (bits per character). */
  withNll?: boolean;
  /** Dense GEMV launch shape. */
  gemvTuning?: Partial<GemvTuning>;
  /**
   * The kernel of dense projections: `gemv` (default, row-major weights) or `skip` (the
   * input-sparse GEMV over transposed weights keeping every row; faster on CPU adapters, where
   * the dense baseline must be the fastest dense form there is).
   */
  denseKernel?: "gemv" | "skip";
  /** Sparse GEMV launch shape (q/k/v and up/gate). */
  skipTuning?: SkipGemvTuning;
  /**
   * Sparse GEMV launch shape of o and down, whose partials the one-workgroup add_norm sums
   * (default: fewer splits than the others on GPUs).
   */
  skipTuningResidual?: SkipGemvTuning;
  /**
   * Per-projection sparse GEMV launch shapes, over `skipTuning` and `skipTuningResidual`
   * (the four projections' shapes differ: 4096→12288, 4096→4096, 4096→22016 and 11008→4096 in
   * LLaMA-7B, and so do their best launches).
   */
  skipTunings?: Partial<Record<ProjectionName, SkipGemvTuning>>;
  /**
   * RMSNorm fused into the GEMVs: o and down add into the residual stream, and q/k/v, up/gate and
   * the head read the stream raw and normalise it themselves (dense GEMVs with the norm weights
   * folded into theirs, {@linkcode foldNormsIntoRows}, done once per weights; input-sparse GEMVs
   * multiplying by the norm weight as they read). This removes every norm dispatch. Default: on
   * GPUs, for RMSNorm models (d a multiple of 4) whose q/k/v and up/gate rules are dense or
   * constant thresholds (magnitude, value) and whose FFN is not Spark's predicted one.
   */
  fuseNorms?: boolean;
  /**
   * Attention launch: positions per chunk workgroup (default 64, `ATTENTION_CHUNK`) and
   * whether the last chunk of each head combines the head (one dispatch, default false).
   */
  attention?: AttentionTuning;
  /**
   * Element type of the KV caches: `f16` halves the bytes the attention reads (two halves per
   * 32-bit word, no shader-f16 feature needed; the head size must be a multiple of 8). Default:
   * f16 for f16 weights whose head size allows it, else f32.
   */
  kvDtype?: KvDtype;
  /**
   * Launch shapes of a predicted FFN's gathered gate/up and sparse down GEMVs (default: the
   * adapter's `defaultTuning`).
   */
  predictedTuning?: PredictedTuning;
  /** Whether the device has `shader-f16` (the dense f16 GEMV needs it). */
  hasF16?: boolean;
  /**
   * The adapter, for default launch shapes: CPU adapters (llvmpipe) want one thread per GEMV row
   * and small workgroups, since every workgroup barrier costs them a context switch.
   */
  adapter?: Pick<AdapterFacts, "isFallbackAdapter">;
}

/** A decoder ready to run. */
export interface Decoder {
  /** The weights it reads. */
  weights: GpuWeights;
  /** The plan it follows. */
  plan: SparsityPlan;
  /** KV-cache capacity. */
  maxContext: number;
  /** One token's dispatches, in order. */
  step: Dispatch[];
  /** Dispatches per token. */
  dispatchesPerToken: number;
  /**
   * Per block and projection: the kernel chosen (gemv, skip_gemv, or `predicted` for up and
   * down of Spark's FFN).
   */
  kernels: Record<ProjectionName, ProjectionKernel>[];
  /**
   * Per block, the u32 count of neurons its predicted FFN kept at the last token (a buffer the
   * selection writes every token; undefined for other blocks). Copy it after each token to
   * measure the realised fraction.
   */
  keptCounts: (GPUBuffer | undefined)[];
  /**
   * The KV caches, per block (for filling with random contents in speed runs): [maxContext,
   * kvHeads·headDim] elements of {@linkcode Decoder.kvDtype}.
   */
  caches: { k: GPUBuffer; v: GPUBuffer }[];
  /** Element type of the KV caches. */
  kvDtype: KvDtype;
  /** Sets the position and wrap. */
  setState(s: DecodeState): void;
  /** Writes ids from position 0. */
  writeIds(ids: Uint32Array): void;
  /** Runs `count` steps in one pass and waits. */
  run(count: number): Promise<void>;
  /** Records `count` steps into an encoder (one or more passes). */
  encode(encoder: GPUCommandEncoder, count: number): void;
  /** −log p(next id) per teacher-forced position (withNll). */
  nll: GPUBuffer;
  /** Argmax per teacher-forced position (withNll). */
  preds: GPUBuffer;
  /** Thresholds, f32 at slot {@linkcode thresholdSlot}(layer, projection). */
  thresholds: GPUBuffer;
  /** Zeroes the kept-input counters. */
  resetCounts(): void;
  /**
   * Measured fraction of inputs kept per block and projection since the last reset, over
   * `tokens` tokens (1 for dense projections; NaN for a predicted FFN, whose kept neurons are not
   * counted on the GPU: the CPU reference's `kept` hook counts them).
   */
  readDensity(tokens: number): Promise<Record<ProjectionName, number>[]>;
  /** Reads ids 0..n−1. */
  readIds(n: number): Promise<Uint32Array>;
  /** Reads the last step's logits. */
  readLogits(): Promise<Float32Array>;
  /** Reads −log p per position 0..n−1 (withNll). */
  readNll(n: number): Promise<Float32Array>;
  /**
   * Weight and KV-cache bytes one token reads, given each sparse projection's fraction of inputs
   * kept (default: what the plan's rules imply; 1 for rules whose density is only measured).
   */
  bytesPerToken(context: number, density?: (layer: number, p: ProjectionName) => number): number;
  /**
   * Runs `count` prompt positions, from the state's `pos`, through the blocks with GEMMs over the
   * sequence (`prefill.ts`), writing their KV caches, and resolves true; resolves false, doing
   * nothing, when this decoder cannot ({@linkcode Decoder.prefillRefusal} says why). The step then
   * takes the prompt's last position.
   */
  prefill(count: number): Promise<boolean>;
  /** The dispatches of the last prefill run (to time it again: it rewrites the same caches). */
  prefillDispatches(): readonly Dispatch[];
  /** Why {@linkcode Decoder.prefill} cannot run (a sparse plan, no row-major weights). */
  prefillRefusal: string | undefined;
  /** Frees the decoder's own buffers (not the weights). */
  destroy(): void;
}

/** The kernel a projection runs on. */
export type ProjectionKernel = "gemv" | "skip_gemv" | "predicted";

/** Threshold and counter slots per block. */
const SLOTS_PER_LAYER = 8;

/**
 * Where a projection's threshold (and its kept-input counter) lives.
 *
 * @param layer Block.
 * @param p Projection.
 * @returns The slot.
 */
export function thresholdSlot(layer: number, p: ProjectionName): number {
  return layer * SLOTS_PER_LAYER + PROJECTIONS.indexOf(p);
}

/**
 * The fraction of inputs a rule keeps, where the rule fixes it (per-token fractions), else
 * undefined (measured elsewhere).
 *
 * @param rule The rule.
 * @returns The density, or undefined.
 */
export function plannedDensity(rule: ProjectionRule | undefined): number | undefined {
  if (!rule || rule.kind === "dense") return 1;
  if (rule.kind === "fraction") return 1 - rule.sparsity;
  return undefined;
}

/**
 * Builds a decoder over the given weights.
 *
 * @param device The device.
 * @param weights The model's weights on the GPU.
 * @param options Plan, capacity, tuning.
 * @returns The decoder.
 * @throws {Error} When the plan needs a weight layout the weights were not built with.
 */
export async function createDecoder(
  device: GPUDevice,
  weights: GpuWeights,
  options: DecoderOptions = {},
): Promise<Decoder> {
  const spec = weights.spec;
  const plan = options.plan ?? DENSE_PLAN;
  const maxContext = options.maxContext ?? spec.maxPositions;
  const label = `${spec.id}/${plan.method}`;
  const own: GPUBuffer[] = [];
  const buf = (name: string, data: ArrayBufferView | number) => {
    const b = storageBuffer(device, `${label} ${name}`, data);
    own.push(b);
    return b;
  };
  const state = buf("state", stateWords({ pos: 0, wrapStart: 0, wrapEnd: maxContext, prompt: 0 }));
  // One more id than positions: the last position's target.
  const ids = buf("ids", (maxContext + 1) * 4);
  const nll = buf("nll", maxContext * 4);
  const preds = buf("preds", maxContext * 4);
  const x = buf("x", spec.d * 4);
  const thresholdsHost = new Float32Array(Math.max(1, spec.layers * SLOTS_PER_LAYER)).fill(-1);
  const thresholds = buf("thresholds", thresholdsHost);
  const counts = buf("kept counts", thresholdsHost.length * 4);
  const kvd = spec.kvHeads * spec.headDim;
  const kvDtype = options.kvDtype ??
    (weights.dtype === "f16" && spec.headDim % 8 === 0 ? "f16" : "f32");
  const cpu = options.adapter?.isFallbackAdapter ?? false;
  const gemvTuning = options.gemvTuning ?? defaultTuning({ isFallbackAdapter: cpu }).gemv;
  // GPUs: 16 splits whatever k, so the single workgroup of add_norm reads only 16 partial rows,
  // and no compaction: each warp tests one row (32 column lanes) and a skipped row issues no
  // load, which keeps the dense bandwidth at low sparsity where the compacting form serialises
  // on a workgroup counter (H200, 4096x11008 f32, every row kept: 43 µs against 134 µs).
  const skipTuning = options.skipTuning ??
    (cpu
      ? { workgroupSize: 64, lanes: 64, splits: 1, compact: false, stage: false }
      : { workgroupSize: 256, lanes: 32, splits: 16, compact: false, stage: false });
  const skipTuningResidual = options.skipTuningResidual ??
    (cpu
      ? skipTuning
      : { workgroupSize: 256, lanes: 16, splits: 16, compact: false, stage: false });
  const tuned = (p: ProjectionName): SkipGemvTuning =>
    options.skipTunings?.[p] ?? (p === "o" || p === "down" ? skipTuningResidual : skipTuning);
  // The one-workgroup kernels (norms, thresholds, argmax) take as many threads as allowed.
  const wg = cpu ? 64 : Math.min(1024, device.limits.maxComputeInvocationsPerWorkgroup);
  const denseF16 = weights.head.dtype === "f16" ||
    (weights.dtype === "f16" && weights.layers.some((l) => l.qkv.row));
  if (options.hasF16 === false && denseF16) {
    throw new Error(
      "f16 weights need the adapter's shader-f16 feature for the dense GEMV; use --dtype f32",
    );
  }

  const denseGemv = (rule: ProjectionRule | undefined, lin: GpuLinear) =>
    usesDenseGemv(rule, lin, options);
  // A norm fuses into what reads it when that is a dense GEMV, or an input-sparse one whose
  // threshold is a constant (a per-token threshold kernel would need the normalised input first);
  // o and down add into the stream with any rule. Spark's predicted FFN reads a normalised input.
  const fusable = (p: ProjectionName, rule: ProjectionRule | undefined, lin: GpuLinear) =>
    denseGemv(rule, lin) || (lin.transposed !== undefined && (
      p === "o" || p === "down" ? rule?.kind !== "predicted" : hasConstantThreshold(rule)
    ));
  const fuse = spec.norm === "rms" && spec.d % 4 === 0 && (options.fuseNorms ?? !cpu) &&
    weights.head.row !== undefined &&
    weights.layers.every((w, l) => PROJECTIONS.every((p) => fusable(p, plan.layers[l]?.[p], w[p])));
  if (fuse) await foldNormsIntoRows(device, weights);
  // Norm weights for add_norm: ones where the weights of the GEMV it feeds carry them already.
  const ones = buf("ones", new Float32Array(spec.d).fill(1));
  const normWeight = (norm: GpuNorm, feedsRow: boolean) =>
    weights.normsFolded && feedsRow ? ones : norm.w;
  const projectionContext: ProjectionContext = {
    device,
    spec,
    stream: x,
    thresholds,
    thresholdsHost,
    counts,
    gemvTuning,
    workgroupSize: wg,
    cpu,
    ...(options.denseKernel ? { denseKernel: options.denseKernel } : {}),
  };
  const projection = (
    name: string,
    lin: GpuLinear,
    input: GPUBuffer,
    rule: ProjectionRule | undefined,
    slot: number,
    tuning: SkipGemvTuning,
    fused: FusedNorm = {},
  ) => createProjection(projectionContext, { name, lin, input, rule, slot, tuning, ...fused });

  const step: Dispatch[] = [];
  step.push(
    await createEmbed(device, {
      label,
      d: spec.d,
      table: weights.embed,
      ...(weights.positions ? { positions: weights.positions } : {}),
      ids,
      state,
      x,
    }),
  );
  const caches: { k: GPUBuffer; v: GPUBuffer }[] = [];
  const kernels: Record<ProjectionName, ProjectionKernel>[] = [];
  const keptCounts: (GPUBuffer | undefined)[] = [];
  let pending: { out: GPUBuffer; splits: number; bias: GPUBuffer } | undefined;
  // Fused: the per-tile Σx² of the stream that the last residual GEMV left (none after embed).
  let streamSumsq: { buffer: GPUBuffer; tiles: number } | undefined;
  const q = buf("q", spec.heads * spec.headDim * 4);
  for (let l = 0; l < spec.layers; l++) {
    const w = weights.layers[l]!;
    const rules = plan.layers[l] ?? {};
    const name = `${label} L${l}`;
    const slot = (p: number) => l * SLOTS_PER_LAYER + p;
    // Fused: the qkv GEMV normalises the stream x itself.
    let qkv;
    if (fuse) {
      qkv = await projection(`${name} qkv`, w.qkv, x, rules.qkv, slot(0), tuned("qkv"), {
        normIn: w.norm1,
        ...(streamSumsq ? { sumsq: streamSumsq } : {}),
      });
    } else {
      const n1 = await createAddNorm(device, {
        label: `${name} norm1`,
        n: spec.d,
        kind: spec.norm,
        eps: spec.eps,
        workgroupSize: wg,
        x,
        weight: normWeight(w.norm1, denseGemv(rules.qkv, w.qkv)),
        ...(w.norm1.b ? { bias: w.norm1.b } : {}),
        ...(pending
          ? { addend: pending.out, splits: pending.splits, addendBias: pending.bias }
          : {}),
      });
      step.push(n1.dispatch);
      qkv = await projection(`${name} qkv`, w.qkv, n1.h, rules.qkv, slot(0), tuned("qkv"));
    }
    step.push(...qkv.dispatches);
    const cache = {
      k: buf(`L${l} k cache`, maxContext * kvd * kvElementBytes(kvDtype)),
      v: buf(`L${l} v cache`, maxContext * kvd * kvElementBytes(kvDtype)),
    };
    caches.push(cache);
    step.push(
      await createRopeCache(device, {
        label: name,
        heads: spec.heads,
        kvHeads: spec.kvHeads,
        headDim: spec.headDim,
        ...(spec.positions.kind === "rope" ? { ropeBase: spec.positions.base } : {}),
        qkv: qkv.out,
        splits: qkv.splits,
        bias: w.qkv.bias,
        state,
        q,
        kcache: cache.k,
        vcache: cache.v,
        kvDtype,
      }),
    );
    const attn = await createAttention(device, {
      label: name,
      heads: spec.heads,
      kvHeads: spec.kvHeads,
      headDim: spec.headDim,
      scale: 1 / Math.sqrt(spec.headDim),
      maxPositions: maxContext,
      workgroupSize: cpu ? 64 : 256,
      form: cpu ? "rows" : "lanes",
      ...(options.attention?.chunk ? { chunk: options.attention.chunk } : {}),
      ...(options.attention?.fused && !cpu ? { fused: true } : {}),
      q,
      kcache: cache.k,
      vcache: cache.v,
      state,
      kvDtype,
    });
    step.push(...attn.dispatches);
    const o = await projection(
      `${name} o`,
      w.o,
      attn.out,
      rules.o,
      slot(1),
      tuned("o"),
      fuse ? { residual: { bias: w.o.bias } } : {},
    );
    step.push(...o.dispatches);
    let up;
    if (fuse) {
      up = await projection(`${name} up`, w.up, x, rules.up, slot(2), tuned("up"), {
        normIn: w.norm2,
        ...(o.sumsq ? { sumsq: o.sumsq } : {}),
      });
    } else {
      const n2 = await createAddNorm(device, {
        label: `${name} norm2`,
        n: spec.d,
        kind: spec.norm,
        eps: spec.eps,
        workgroupSize: wg,
        x,
        weight: normWeight(w.norm2, denseGemv(rules.up, w.up)),
        ...(w.norm2.b ? { bias: w.norm2.b } : {}),
        addend: o.out,
        splits: o.splits,
        addendBias: w.o.bias,
      });
      step.push(n2.dispatch);
      if (rules.up?.kind === "predicted") {
        const f = await createPredictedFfnBlock(device, {
          name,
          w,
          input: n2.h,
          rule: rules.up,
          weights,
          cpu,
          gemvTuning,
          ...(options.predictedTuning ? { predictedTuning: options.predictedTuning } : {}),
          buffer: buf,
        });
        step.push(...f.dispatches);
        pending = { out: f.y, splits: 1, bias: w.down.bias };
        kernels.push({ qkv: qkv.kind, o: o.kind, up: "predicted", down: "predicted" });
        keptCounts.push(f.count);
        continue;
      }
      up = await projection(`${name} up`, w.up, n2.h, rules.up, slot(2), tuned("up"));
    }
    step.push(...up.dispatches);
    const gateRule = rules.down?.kind === "gate" ? rules.down : undefined;
    if (gateRule) thresholdsHost[slot(4)] = gateRule.threshold;
    const glu = await createGlu(device, {
      label: name,
      ff: spec.ff,
      gated: spec.ffn === "gated",
      act: spec.act,
      gu: up.out,
      splits: up.splits,
      bias: w.up.bias,
      ...(gateRule ? { gateThreshold: { thresholds, slot: slot(4) } } : {}),
    });
    step.push(glu.dispatch);
    const down = await projection(
      `${name} down`,
      w.down,
      glu.h,
      rules.down,
      slot(3),
      tuned("down"),
      fuse ? { residual: { bias: w.down.bias } } : {},
    );
    step.push(...down.dispatches);
    streamSumsq = down.sumsq;
    if (!fuse) pending = { out: down.out, splits: down.splits, bias: w.down.bias };
    kernels.push({ qkv: qkv.kind, o: o.kind, up: up.kind, down: down.kind });
    keptCounts.push(undefined);
  }
  let headInput: { input: GPUBuffer; normIn?: { eps: number } };
  if (fuse) {
    headInput = { input: x, normIn: { eps: spec.eps } };
  } else {
    const fin = await createAddNorm(device, {
      label: `${label} final norm`,
      n: spec.d,
      kind: spec.norm,
      eps: spec.eps,
      workgroupSize: wg,
      x,
      weight: normWeight(weights.finalNorm, true),
      ...(weights.finalNorm.b ? { bias: weights.finalNorm.b } : {}),
      ...(pending ? { addend: pending.out, splits: pending.splits, addendBias: pending.bias } : {}),
    });
    step.push(fin.dispatch);
    headInput = { input: fin.h };
  }
  const head = await createGemv(device, {
    label: `${label} head`,
    rows: spec.vocab,
    cols: spec.d,
    weight: new Float32Array(0),
    weightBuffer: weights.head.row!,
    precision: weights.head.dtype,
    ...headInput,
    ...(weights.head.hostBias ? { bias: weights.head.hostBias } : {}),
    ...gemvTuning,
  });
  step.push(head.dispatch);
  step.push(
    await createNextToken(device, {
      label,
      vocab: spec.vocab,
      logits: head.y,
      state,
      ids,
      nll,
      preds,
      withNll: options.withNll ?? false,
      workgroupSize: wg,
    }),
  );
  writeArray(device, thresholds, thresholdsHost);
  const shapes = linearShapes(spec);
  const bytesPerToken = (context: number, density?: (l: number, p: ProjectionName) => number) => {
    const wb = weights.dtype === "f16" ? 2 : 4;
    let bytes = stepBytes(spec, context, {
      weightBytes: wb,
      kvBytes: kvElementBytes(kvDtype),
      density: (l, p) => density?.(l, p) ?? plannedDensity(plan.layers[l]?.[p]) ?? 1,
    });
    for (let l = 0; l < spec.layers; l++) {
      const up = plan.layers[l]?.up;
      // Spark's predictor reads the gate's first r columns of every neuron.
      if (up?.kind === "predicted") bytes += up.r * spec.ff * wb;
    }
    return bytes;
  };
  const refusal = prefillRefusal(weights, plan);
  let prefilled: Prefill | undefined;
  const encode = (encoder: GPUCommandEncoder, count: number) => {
    // Passes of at most ~4k dispatches each keep command buffers a sane size.
    const perPass = Math.max(1, Math.floor(4096 / step.length));
    for (let done = 0; done < count; done += perPass) {
      const all: Dispatch[] = [];
      for (let i = done; i < Math.min(count, done + perPass); i++) all.push(...step);
      encodePass(encoder, all);
    }
  };
  return {
    weights,
    plan,
    maxContext,
    step,
    dispatchesPerToken: step.length,
    kernels,
    keptCounts,
    caches,
    kvDtype,
    setState(s) {
      if (s.wrapEnd > maxContext || s.pos >= maxContext) {
        throw new RangeError(
          `${label}: position ${s.pos} or wrap ${s.wrapEnd} past the KV cache (${maxContext})`,
        );
      }
      writeArray(device, state, stateWords(s));
    },
    writeIds(v) {
      if (v.length > maxContext + 1) {
        throw new RangeError(`${label}: ${v.length} ids exceed the context (${maxContext})`);
      }
      writeArray(device, ids, v);
    },
    nll,
    preds,
    thresholds,
    resetCounts() {
      writeArray(device, counts, new Uint32Array(thresholdsHost.length));
    },
    async readDensity(tokens) {
      const c = new Uint32Array(await readBuffer(device, counts, thresholdsHost.length * 4));
      return kernels.map((kinds, l) =>
        Object.fromEntries(
          PROJECTIONS.map((p) => [
            p,
            kinds[p] === "gemv"
              ? 1
              : kinds[p] === "predicted"
              ? NaN
              : c[thresholdSlot(l, p)]! / (tokens * shapes.block[p].k),
          ]),
        ) as Record<ProjectionName, number>
      );
    },
    encode,
    async run(count) {
      const encoder = device.createCommandEncoder({ label: `${label} run` });
      encode(encoder, count);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    async readIds(n) {
      return new Uint32Array(await readBuffer(device, ids, n * 4));
    },
    async readLogits() {
      return new Float32Array(await readBuffer(device, head.y, spec.vocab * 4));
    },
    async readNll(n) {
      return new Float32Array(await readBuffer(device, nll, n * 4));
    },
    bytesPerToken,
    prefillRefusal: refusal,
    prefillDispatches: () => prefilled?.dispatches ?? [],
    async prefill(count) {
      if (refusal || count < 1) return false;
      if (count > maxContext) {
        throw new RangeError(
          `${label}: a prefill of ${count} positions exceeds the context (${maxContext})`,
        );
      }
      if (prefilled?.rows !== count) {
        prefilled?.destroy();
        prefilled = await createPrefill(device, {
          weights,
          plan,
          caches,
          kvDtype,
          state,
          ids,
          normWeight,
          workgroupSize: wg,
        }, { rows: count, label });
      }
      const encoder = device.createCommandEncoder({ label: `${label} prefill` });
      encodePass(encoder, prefilled.dispatches);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return true;
    },
    destroy() {
      prefilled?.destroy();
      own.forEach((b) => b.destroy());
    },
  };
}
