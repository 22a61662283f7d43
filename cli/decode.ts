/**
 * `deno task decode --model FILE.onnx | --shape NAME [--dtype f16] [--method teal --sparsity 0.5]
 * --ids 1,2,3 [--tokens N] [--logits] [--json]`: batch-1 greedy decoding on the project's WGSL
 * kernels. Prints the generated ids, the time per token (many tokens per synchronisation, GPU
 * timestamps where the adapter has them) and, with --logits, the logits at the last prompt
 * position (the distribution of the first generated token).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { timeDispatches } from "../kernels/gpu_timing.ts";
import type { Dispatch } from "../kernels/host.ts";
import { oneLine } from "../lib/one_line.ts";
import { decodeModel } from "../src/onnx/model.ts";
import { importDecoder } from "../src/decode/onnx_import.ts";
import { type GpuWeights, syntheticWeights, uploadWeights } from "../src/decode/weights.ts";
import { shapeByName, SHAPES } from "../src/decode/synthetic.ts";
import { createDecoder } from "../src/decode/engine.ts";
import { calibrateOnGpu, DECODE_METHODS, planFor } from "../src/decode/calibrate.ts";
import {
  chooseAttention,
  chooseGemvTuning,
  chooseSkipTuning,
  type Trial,
} from "../src/decode/launch.ts";
import { recordedLaunch } from "../src/decode/recorded_launch.ts";
import { fillCaches, timeTokens, WRAP_WINDOW } from "../src/decode/measure.ts";
import {
  type DecoderSpec,
  type HostWeights,
  linearShapes,
  PROJECTIONS,
  type SparsityPlan,
} from "../src/decode/spec.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { TextDataset } from "../datasets/types.ts";

const HELP = `Usage: deno task decode (--model FILE.onnx | --shape NAME) [options]

Greedy batch-1 decoding on the WGSL kernels: prefill over the prompt, then one token at a time,
tokens chained on the GPU (argmax -> next embedding without a read-back).

  --model FILE.onnx   a decoder-only transformer in ONNX (the zoo LMs, GPT-2, LLaMA: learned or
                      rotary positions, LayerNorm or RMSNorm, grouped-query attention)
  --shape NAME        a speed-only model with seeded random weights made on the GPU: ${
  Object.keys(SHAPES).join(", ")
}
  --dtype f32|f16     weight precision (default f32; f16 needs the adapter's shader-f16)
  --method M          ${DECODE_METHODS.join(", ")} (default dense)
  --sparsity S        target sparsity in [0, 1) for the method
  --ids 1,2,3         prompt token ids (default 1)
  --tokens N          tokens to generate (default 16)
  --context C         context length the per-token time is measured at (default: the prompt's;
                      512 for --shape, whose KV cache is filled with random values)
  --logits            also print the logits at the last prompt position
  --no-prefill        run the prompt token by token even where GEMMs could prefill it (dense
                      f32 decoders prefill every prompt position but the last with GEMMs)
  --profile           also time each dispatch of one block and of the head on its own, and each
                      kind of dispatch in sequence (the whole token less that kind's dispatches)
  --per-token         --shape with teal: thresholds found every token to drop exactly the target
                      fraction (default: constant thresholds calibrated on the GPU on the model's
                      own activations at the timed context, as TEAL calibrates)
  --no-fuse-norms     run each RMSNorm as its own dispatch (GPUs fuse them into the GEMVs by
                      default, where the plan allows; this shows what the fusion saves)
  --sweep             also time launch shapes on the whole decoder: the dense GEMV's and the
                      attention's (dense), the sparse GEMV's lanes x splits (sparse methods);
                      without it the shapes recorded for this adapter and model are used
                      (src/decode/recorded_launch.ts), or the defaults
  --json              one JSON object instead of text`;

/** What `decode --json` prints. */
export interface DecodeReport {
  /** Model (file name or shape). */
  model: string;
  /** Whether the weights are random (speed only). */
  speed_only: boolean;
  /** Weight precision. */
  dtype: string;
  /** Method and target sparsity. */
  method: string;
  /** Target sparsity, null for dense. */
  sparsity: number | null;
  /** Prompt ids. */
  ids: number[];
  /** Generated ids. */
  generated: number[];
  /** Milliseconds per token at `context`. */
  ms_per_token: number;
  /** Tokens per second. */
  tokens_per_s: number;
  /** Context length of the timing. */
  context: number;
  /** How the time was taken (timestamps or wall-slope). */
  timing: string;
  /** Dispatches per token. */
  dispatches_per_token: number;
  /** Fraction of projection inputs skipped, weighted by weight size, counted by the kernels. */
  sparsity_realized: number | null;
  /** Weight + KV-cache bytes per token (effective, at the measured density). */
  bytes_per_token: number;
  /** Logits at the last prompt position (with --logits). */
  logits?: number[];
  /** Microseconds per dispatch of block 0 and the head (with --profile). */
  profile?: { kernel: string; us: number }[];
  /**
   * Milliseconds per token each kind of dispatch costs in sequence (with --profile): the token's
   * time less the time of the token without that kind's dispatches, so caches and clocks are those
   * of a real token (the isolated figures of `profile` re-read a weight that may sit in L2).
   */
  stages?: { kind: string; dispatches: number; ms: number }[];
  /**
   * The prompt's prefill (all positions but the last, through GEMMs, timed on its own), or why
   * the prompt went token by token instead; absent for a one-id prompt.
   */
  prefill?: { positions: number; ms?: number; timing?: string; refused?: string };
  /** Where the launch shapes came from: `recorded (<run id>)` or `default`. */
  launch: string;
  /** Milliseconds per token per launch shape, dense or sparse GEMV (with --sweep). */
  sweep?: Trial[];
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      shape: { type: "string" },
      dtype: { type: "string", default: "f32" },
      method: { type: "string", default: "dense" },
      sparsity: { type: "string", default: "0" },
      ids: { type: "string", default: "1" },
      tokens: { type: "string", default: "16" },
      context: { type: "string" },
      logits: { type: "boolean", default: false },
      "no-prefill": { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      sweep: { type: "boolean", default: false },
      "no-fuse-norms": { type: "boolean", default: false },
      "per-token": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.model === !values.shape) {
    throw new Error("give one of --model FILE.onnx or --shape NAME");
  }
  const dtype = values.dtype;
  if (dtype !== "f32" && dtype !== "f16") throw new Error(`--dtype ${dtype}: use f32 or f16`);
  const sparsity = Number(values.sparsity);
  if (!(sparsity >= 0 && sparsity < 1)) {
    throw new Error(`--sparsity ${values.sparsity}: use a number in [0, 1)`);
  }
  const tokens = Number(values.tokens);
  if (!Number.isInteger(tokens) || tokens < 1) {
    throw new Error(`--tokens ${values.tokens}: use a positive integer`);
  }
  const ids = values.ids.split(",").map((s) => Number(s.trim()));
  if (ids.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new Error(`--ids ${values.ids}: use comma-separated non-negative integers`);
  }

  const gpu = await acquireGpu();
  const { device } = gpu;
  const sparse = values.method !== "dense" && sparsity > 0;
  const layouts = sparse ? ["row" as const, "transposed" as const] : ["row" as const];
  let spec: DecoderSpec;
  let host: HostWeights | undefined;
  let weights: GpuWeights;
  // A model that computes its own sparsity (Spark's predicted FFN) runs its own plan.
  let modelPlan: SparsityPlan | undefined;
  if (values.model) {
    const bytes = await Deno.readFile(values.model).catch((e) => {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`--model ${values.model}: no such file; give the path of an ONNX model`);
      }
      throw e;
    });
    const imported = importDecoder(decodeModel(bytes), {
      id: basename(values.model),
    });
    spec = imported.spec;
    host = imported.weights;
    modelPlan = imported.plan;
    if (modelPlan && sparse) {
      throw new Error(
        `${values.model} computes its own FFN sparsity (Spark's predictor); run it without --method`,
      );
    }
    weights = uploadWeights(device, spec, host, {
      dtype,
      layouts: modelPlan ? ["row", "transposed"] : layouts,
    });
  } else {
    spec = shapeByName(values.shape!);
    weights = await syntheticWeights(device, spec, { dtype, layouts, seed: 1 });
  }
  const bad = ids.find((v) => v >= spec.vocab);
  if (bad !== undefined) throw new Error(`--ids: ${bad} is outside the vocabulary (${spec.vocab})`);
  const context = Number(values.context ?? (values.shape ? 512 : ids.length));
  const maxContext = Math.min(
    spec.maxPositions,
    Math.max(ids.length + tokens, context + WRAP_WINDOW),
  );
  if (ids.length + tokens > maxContext || context + WRAP_WINDOW > spec.maxPositions) {
    throw new Error(
      `prompt + tokens (${ids.length + tokens}) or context + ${WRAP_WINDOW} (${
        context + WRAP_WINDOW
      }) exceed the model's ${spec.maxPositions} positions; ask for fewer`,
    );
  }
  let calibration: number[][] = [];
  if (host && ["teal", "wina", "cats"].includes(values.method)) {
    const text = (await loadDataset("english-text")) as TextDataset;
    if (text.vocab.length !== spec.vocab) {
      throw new Error(
        `${values.method} calibrates on english-text (vocabulary ${text.vocab.length}), this model has ${spec.vocab}; use --method topk`,
      );
    }
    const cal = text.splits.calibration.ids;
    calibration = Array.from(
      { length: 8 },
      (_, w) => Array.from(cal.subarray(w * 64, w * 64 + 64)),
    );
  }
  // The launch shapes recorded for this adapter and shape, as the decode suite uses them.
  const recorded = recordedLaunch(gpu.facts, spec, { dtype });
  const opts = {
    maxContext,
    hasF16: gpu.hasF16,
    adapter: gpu.facts,
    ...(values["no-fuse-norms"] ? { fuseNorms: false } : {}),
    ...(recorded ? { gemvTuning: recorded.gemv } : {}),
    ...(recorded?.attention ? { attention: recorded.attention } : {}),
    ...(recorded?.skip
      ? {
        skipTuning: recorded.skip.main,
        skipTuningResidual: recorded.skip.residual,
        ...(recorded.skip.perProjection ? { skipTunings: recorded.skip.perProjection } : {}),
      }
      : {}),
  };
  const plan = modelPlan ?? (values.shape && values.method === "teal" && sparse &&
      !values["per-token"]
    ? await calibrateOnGpu(device, weights, { ...opts, sparsity, context })
    : planFor(
      values.method,
      sparsity,
      { spec, ...(host ? { host } : {}), gpu: weights },
      calibration,
    ));
  const decoder = await createDecoder(device, weights, { ...opts, plan });
  decoder.writeIds(Uint32Array.from(ids));
  decoder.setState({ pos: 0, wrapStart: 0, wrapEnd: maxContext, prompt: ids.length });
  // The prompt but its last position through GEMMs where the decoder can (dense f32), then the
  // step from the last prompt position on; otherwise every prompt position through the step.
  const prefilled = ids.length > 1 && !values["no-prefill"] &&
    await decoder.prefill(ids.length - 1);
  let prefill: DecodeReport["prefill"];
  if (prefilled) {
    const p = await timeDispatches(device, [decoder.prefillDispatches()], {
      samples: 3,
      targetMs: 50,
      timestamps: gpu.hasTimestamps,
      preRoll: true,
    });
    prefill = { positions: ids.length - 1, ms: p.ms, timing: p.source };
    decoder.setState({
      pos: ids.length - 1,
      wrapStart: 0,
      wrapEnd: maxContext,
      prompt: ids.length,
    });
  } else if (ids.length > 1) {
    prefill = {
      positions: 0,
      refused: values["no-prefill"] ? "--no-prefill" : decoder.prefillRefusal ?? "",
    };
  }
  const first = prefilled ? 1 : ids.length;
  let logits: number[] | undefined;
  if (values.logits) {
    await decoder.run(first);
    logits = Array.from(await decoder.readLogits());
    if (tokens > 1) await decoder.run(tokens - 1);
  } else {
    await decoder.run(first - 1 + tokens);
  }
  const generated = Array.from(await decoder.readIds(ids.length + tokens)).slice(ids.length);
  if (values.shape) await fillCaches(device, decoder, 100);
  const t = await timeTokens(device, decoder, { context, timestamps: gpu.hasTimestamps });
  // Realised sparsity, counted by the kernels over a batch of tokens at the timed context.
  decoder.setState({ pos: context, wrapStart: context, wrapEnd: context + WRAP_WINDOW, prompt: 0 });
  decoder.resetCounts();
  await decoder.run(WRAP_WINDOW);
  const density = await decoder.readDensity(WRAP_WINDOW);
  const shapes = linearShapes(spec).block;
  let kept = 0;
  let all = 0;
  for (const d of density) {
    for (const p of PROJECTIONS) {
      kept += d[p] * shapes[p].k * shapes[p].n;
      all += shapes[p].k * shapes[p].n;
    }
  }
  let profile: DecodeReport["profile"];
  let stages: DecodeReport["stages"];
  if (values.profile) {
    profile = [];
    stages = await stageCosts(device, decoder.step, {
      timestamps: gpu.hasTimestamps,
      tokenMs: t.ms,
    });
    const perBlock = (decoder.dispatchesPerToken - 4) / spec.layers;
    const picked = [
      ...decoder.step.slice(1, 1 + perBlock),
      ...decoder.step.slice(decoder.step.length - 3),
    ];
    for (const d of picked) {
      const k = await timeDispatches(device, [[d]], {
        samples: 3,
        targetMs: 30,
        timestamps: gpu.hasTimestamps,
        preRoll: true,
      });
      profile.push({ kernel: d.bindGroup.label, us: k.ms * 1000 });
    }
  }
  let sweep: DecodeReport["sweep"];
  if (values.sweep) {
    const timing = { ...opts, context, timestamps: gpu.hasTimestamps };
    sweep = sparse ? (await chooseSkipTuning(device, weights, plan, timing)).trials : [
      ...(await chooseGemvTuning(device, weights, timing)).trials,
      ...(await chooseAttention(device, weights, timing)).trials,
    ];
  }
  const report: DecodeReport = {
    model: values.model ? basename(values.model) : spec.id,
    speed_only: weights.synthetic,
    dtype,
    method: plan.method,
    sparsity: sparse ? sparsity : null,
    ids,
    generated,
    ms_per_token: t.ms,
    tokens_per_s: 1000 / t.ms,
    context,
    timing: t.source,
    dispatches_per_token: decoder.dispatchesPerToken,
    sparsity_realized: sparse ? 1 - kept / all : null,
    launch: recorded ? `recorded (${recorded.source})` : "default",
    ...(prefill ? { prefill } : {}),
    bytes_per_token: decoder.bytesPerToken(context, (l, p) => density[l]![p]),
    ...(logits ? { logits } : {}),
    ...(profile ? { profile } : {}),
    ...(stages ? { stages } : {}),
    ...(sweep ? { sweep } : {}),
  };
  if (values.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(
      `model ${report.model}${
        report.speed_only ? " (random weights: speed only)" : ""
      }, ${dtype}, ${report.method}${report.sparsity !== null ? ` @ ${report.sparsity}` : ""}`,
    );
    console.log(`generated: ${generated.join(",")}`);
    if (report.sparsity_realized !== null) {
      console.log(`realised sparsity ${(report.sparsity_realized * 100).toFixed(1)} %`);
    }
    console.log(
      `${t.ms.toFixed(3)} ms/token (${
        report.tokens_per_s.toFixed(1)
      } tokens/s) at context ${context}, ${t.source}; ${report.dispatches_per_token} dispatches/token; ${
        (report.bytes_per_token / 1e9).toFixed(3)
      } GB/token = ${
        (report.bytes_per_token / (t.ms * 1e6)).toFixed(0)
      } GB/s; launch shapes ${report.launch}`,
    );
    if (prefill?.ms !== undefined) {
      console.log(
        `prefill: ${prefill.positions} positions in ${
          prefill.ms.toFixed(3)
        } ms (GEMMs, ${prefill.timing}; token by token ≈ ${
          (prefill.positions * t.ms).toFixed(3)
        } ms)`,
      );
    } else if (prefill) {
      console.log(`prompt token by token: ${prefill.refused}`);
    }
    if (logits) {
      console.log(
        `logits at position ${ids.length - 1}: ${logits.map((v) => v.toFixed(4)).join(",")}`,
      );
    }
    for (const p of profile ?? []) console.log(`  ${p.us.toFixed(2).padStart(9)} us  ${p.kernel}`);
    for (const g of stages ?? []) {
      console.log(
        `  ${
          g.ms.toFixed(3).padStart(8)
        } ms/token  ${g.kind} (${g.dispatches} dispatches, in sequence)`,
      );
    }
    for (const w of sweep ?? []) console.log(`  ${w.msPerToken.toFixed(3)} ms/token  ${w.label}`);
  }
  decoder.destroy();
  weights.destroy();
}

/**
 * The kind of a decode dispatch from its label: the label less the model, method and layer
 * (`llama-7b/teal L3 qkv` → `qkv`; a threshold pass before a GEMV keeps its own word).
 */
function dispatchKind(label: string): string {
  const words = label.split(" ");
  const layer = words.findIndex((w) => /^L\d+$/.test(w));
  return (layer >= 0 ? words.slice(layer + 1) : words.slice(1)).join(" ") || label;
}

async function stageCosts(
  device: GPUDevice,
  step: readonly Dispatch[],
  options: { timestamps: boolean; tokenMs: number },
): Promise<NonNullable<DecodeReport["stages"]>> {
  const kinds = new Map<string, number>();
  for (const d of step) {
    const k = dispatchKind(d.bindGroup.label);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const timing = { samples: 3, targetMs: 100, timestamps: options.timestamps, preRoll: true };
  const whole = (await timeDispatches(device, [step], timing)).ms;
  const out: NonNullable<DecodeReport["stages"]> = [];
  for (const [kind, dispatches] of kinds) {
    const rest = step.filter((d) => dispatchKind(d.bindGroup.label) !== kind);
    const without = rest.length > 0 ? (await timeDispatches(device, [rest], timing)).ms : 0;
    out.push({ kind, dispatches, ms: whole - without });
  }
  out.sort((a, b) => b.ms - a.ms);
  return out;
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`decode: ${oneLine(e)}`);
    Deno.exit(1);
  }
}
