/**
 * The `wgsl` target: the project's own kernels running a model, in one of two forms, named in
 * every result's warnings.
 *
 * - Whole ViTs (`src/vit`): a model that imports as a ViT and whose kernel plan selects nothing
 *   runs its whole forward pass per image from the variant's own graph, the whole token sequence
 *   at once; pruned heads and neurons are smaller matrices, and after a token Gather (CoreMatching)
 *   the later kernels run on the kept tokens only. Which tokens are kept is read from ORT's run of
 *   the variant graph on the same image (that selection is not timed). The logits are checked
 *   against ORT's: relative error ≤ 1e-4.
 * - Otherwise, the feed-forward blocks of a model for one token, dense or skipping what the
 *   variant's kernel plan says, so activation sparsity shows the speedup that skipping buys (ORT's
 *   masked graphs still multiply every weight). Consecutive blocks that share a linear, as in an
 *   MLP, form one chain; one token (the first row of the timed input); weights from the dense
 *   model's initializers unless the plan says the variant's. Before timing, each chain's output is
 *   checked against ORT on the CPU (onnxruntime-node in Deno, ORT-web's wasm build in a browser)
 *   running the variant's own graph on the same input: relative error ≤ 1e-4.
 *
 * @module
 */

import type { Backend, BackendIdentity, LoadedModel, LoadOptions, TensorMap } from "../backend.ts";
import { acquireGpu } from "../../kernels/gpu_device.ts";
import type { KernelPlan } from "../method.ts";
import { analyzeGraph, type FfnBlock, type Linear } from "../onnx/blocks.ts";
import { GraphIndex } from "../onnx/graph.ts";
import { decodeModel, encodeModel, type ModelProto } from "../onnx/model.ts";
import { cloneModel } from "../onnx/rewriter.ts";
import type { Clock, Sampler } from "../timing.ts";
import { wallClock } from "../timing.ts";
import type { Activation } from "../../kernels/activation.ts";
import {
  type ChainLayer,
  createChain,
  createGated,
  type GatedFfn,
  type Pipeline,
} from "../../kernels/ffn.ts";
import { type Dispatch, runOnce } from "../../kernels/host.ts";
import { createDispatchSampler, type DispatchSampler } from "../../kernels/gpu_timing.ts";
import { defaultTuning } from "../../kernels/tuning.ts";
import { relativeError } from "../../kernels/relative_error.ts";
import { oneLine } from "../../lib/one_line.ts";
import { createVitForward } from "../vit/forward.ts";
import { importVit } from "../vit/import_onnx.ts";
import type { VitSpec } from "../vit/spec.ts";

/** A chain or gated block with the values that feed it and that it produces in the ONNX graph. */
type Unit =
  | { kind: "chain"; name: string; layers: ChainLayer[]; input: string; output: string }
  | { kind: "gated"; name: string; ffn: GatedFfn; input: string; output: string };

/** Relative error allowed against ORT. */
const TOLERANCE = 1e-4;

/** Runs a whole graph on a CPU runtime: the kernels' reference outputs (every graph output). */
export type ReferenceRun = (model: Uint8Array, feeds: TensorMap) => Promise<TensorMap>;

/**
 * The weight of a linear as [out, in] row-major (PyTorch's layout), and its bias.
 *
 * @param idx Graph index.
 * @param l The linear.
 * @returns Weight and bias.
 */
function linearWeights(idx: GraphIndex, l: Linear): { weight: Float32Array; bias?: Float32Array } {
  const w = idx.constantFloats(l.weight);
  if (!w) throw new Error(`Weight ${l.weight} of ${l.name} is not a float constant`);
  let weight = w.data;
  if (!l.weightTransposed) {
    weight = new Float32Array(w.data.length);
    for (let i = 0; i < l.inFeatures; i++) {
      for (let o = 0; o < l.outFeatures; o++) {
        weight[o * l.inFeatures + i] = w.data[i * l.outFeatures + o]!;
      }
    }
  }
  const b = l.bias ? idx.constantFloats(l.bias) : undefined;
  return { weight, ...(b ? { bias: b.data } : {}) };
}

function activationOf(block: FfnBlock): Activation {
  if (block.activation === "relu" || block.activation === "gelu" || block.activation === "silu") {
    return block.activation;
  }
  throw new Error(
    `FFN ending at ${block.down.name}: activation "${block.activation}" has no kernel (relu, gelu, silu)`,
  );
}

/**
 * Splits a dense model into the units the kernels run, applying a kernel plan.
 *
 * @param dense The dense model.
 * @param plan The variant's kernel plan.
 * @returns Units in graph order.
 */
export function buildUnits(dense: ModelProto, plan: KernelPlan): Unit[] {
  const { idx, ffn } = analyzeGraph(dense.graph!);
  if (ffn.length === 0) {
    throw new Error("No feed-forward block found: the wgsl target runs FFN blocks");
  }
  const units: Unit[] = [];
  const layer = (l: Linear, act: Activation): ChainLayer => ({
    name: l.name,
    rows: l.outFeatures,
    cols: l.inFeatures,
    ...linearWeights(idx, l),
    act,
    ...(plan.inputs[l.name] ? { input: plan.inputs[l.name]! } : {}),
  });
  for (const b of ffn) {
    if (b.gated) {
      const inputs: NonNullable<GatedFfn["inputs"]> = {};
      for (const [role, l] of [["gate", b.gate!], ["up", b.up], ["down", b.down]] as const) {
        const sel = plan.inputs[l.name];
        if (!sel) continue;
        if (sel.preActivation) {
          throw new Error(
            `Gated FFN ${b.down.name}: ${l.name} selects on a pre-activation, which the gated kernels do not take`,
          );
        }
        inputs[role] = sel.rule;
      }
      const g = linearWeights(idx, b.gate!);
      const u = linearWeights(idx, b.up);
      const d = linearWeights(idx, b.down);
      if (g.bias || u.bias || d.bias) {
        throw new Error(`Gated FFN ${b.down.name}: biases are not supported by the gated kernels`);
      }
      const select = plan.gates[b.down.name];
      units.push({
        kind: "gated",
        name: b.down.name,
        ffn: {
          d: b.up.inFeatures,
          h: b.hiddenSize,
          gate: g.weight,
          up: u.weight,
          down: d.weight,
          act: activationOf(b),
          ...(select ? { select } : {}),
          ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
        },
        input: b.up.input,
        output: b.down.output,
      });
      continue;
    }
    const last = units[units.length - 1];
    if (last?.kind === "chain" && last.layers[last.layers.length - 1]!.name === b.up.name) {
      // An MLP: this block's up projection is the previous block's down projection.
      last.layers[last.layers.length - 1]!.act = activationOf(b);
      last.layers.push(layer(b.down, "none"));
      last.output = b.down.output;
      continue;
    }
    units.push({
      kind: "chain",
      name: b.down.name,
      layers: [layer(b.up, activationOf(b)), layer(b.down, "none")],
      input: b.up.input,
      output: b.down.output,
    });
  }
  return units;
}

/** The feeds with only the first image of the input (the ViT path runs batch 1). */
function firstImage(feeds: TensorMap, input: string, pixels: number): TensorMap {
  const t = feeds[input];
  if (!t) throw new Error(`The ViT's input ${input} is not among the feeds; feed it`);
  if ((t.dims[0] ?? 1) <= 1) return feeds;
  return {
    ...feeds,
    [input]: {
      ...t,
      data: (t.data as Float32Array).slice(0, pixels),
      dims: [1, ...t.dims.slice(1)],
    },
  };
}

function firstRow(t: { data: unknown; dims: readonly number[] }, width: number): Float32Array {
  return (t.data as Float32Array).slice(0, width);
}

/** The project's WGSL kernels as a target. */
export class WgslBackend implements Backend {
  /** Target id. */
  readonly id = "wgsl" as const;
  readonly #reference: ReferenceRun;
  readonly #host: string;

  /**
   * Creates the backend.
   *
   * @param options `reference`, the CPU runtime the kernels are checked against; `host`, the
   *   runtime whose WebGPU runs them, for the identity (e.g. "Deno 2.9.6").
   */
  constructor(options: { reference: ReferenceRun; host: string }) {
    this.#reference = options.reference;
    this.#host = options.host;
  }

  /** @returns Why WebGPU cannot run here, or undefined. */
  async probe(): Promise<string | undefined> {
    try {
      await acquireGpu();
      return undefined;
    } catch (e) {
      return oneLine(e);
    }
  }

  /** @returns The identity, with the adapter's facts. */
  async identity(): Promise<BackendIdentity> {
    const gpu = await acquireGpu();
    return {
      target: this.id,
      device: `${gpu.facts.description}${gpu.facts.isFallbackAdapter ? " (software adapter)" : ""}`,
      runtime:
        `sparsebench WGSL kernels on ${this.#host} WebGPU (whole ViTs; other models: FFN blocks, one token)`,
      adapter: gpu.facts,
    };
  }

  /**
   * Builds the kernels for a model's FFN blocks and checks them against ORT.
   *
   * @param model The variant's ONNX bytes (its graph gives the reference outputs).
   * @param options Label, feeds, the kernel plan and the dense model.
   * @returns The loaded model.
   */
  async load(model: Uint8Array, options: LoadOptions): Promise<LoadedModel> {
    if (!options.kernelPlan) {
      throw new Error(`Model ${options.label}: this method has no kernel form for the wgsl target`);
    }
    const t0 = performance.now();
    const { device, facts } = await acquireGpu();
    const tuning = defaultTuning(facts);
    const decoded = options.decoded ?? decodeModel(model, { source: options.label });
    const plan = options.kernelPlan;
    let whyNotVit = "";
    if (Object.keys(plan.inputs).length + Object.keys(plan.gates).length === 0) {
      // Any model that does not import runs the FFN-block path, as before the ViT path existed.
      let spec: VitSpec | undefined;
      try {
        spec = importVit(decoded);
      } catch (e) {
        whyNotVit = oneLine(e);
      }
      if (spec) return await this.#loadVit(spec, decoded, options, t0);
    }
    const dense = plan.weightsFromVariant ? decoded : options.dense ?? decoded;
    const units = buildUnits(dense, plan);

    // Reference: the variant's own graph on ORT, with every unit's input and output exposed.
    const variant = cloneModel(decoded);
    const outputs = new Set((variant.graph!.output ?? []).map((o) => o.name));
    for (const u of units) {
      for (const v of [u.input, u.output]) {
        if (!outputs.has(v)) {
          variant.graph!.output!.push({ name: v });
          outputs.add(v);
        }
      }
    }
    const ref = await this.#reference(encodeModel(variant), options.feeds);

    const pipelines: { unit: Unit; pipeline: Pipeline; x: Float32Array; want: Float32Array }[] = [];
    for (const u of units) {
      const width = u.kind === "chain" ? u.layers[0]!.cols : u.ffn.d;
      const outWidth = u.kind === "chain" ? u.layers[u.layers.length - 1]!.rows : u.ffn.d;
      const pipeline = u.kind === "chain"
        ? await createChain(device, `${options.label} ${u.name}`, u.layers, tuning)
        : await createGated(device, `${options.label} ${u.name}`, u.ffn, tuning);
      pipelines.push({
        unit: u,
        pipeline,
        x: firstRow(ref[u.input]!, width),
        want: firstRow(ref[u.output]!, outWidth),
      });
    }
    const dispatches: Dispatch[] = pipelines.flatMap((p) => p.pipeline.dispatches);
    const runAll = async (): Promise<TensorMap> => {
      for (const p of pipelines) p.pipeline.writeInput(p.x);
      await runOnce(device, dispatches);
      const out: TensorMap = {};
      for (const p of pipelines) {
        const data = await p.pipeline.read();
        out[p.unit.output] = { type: "float32", data, dims: [1, data.length] };
      }
      return out;
    };
    const first = await runAll();
    for (const p of pipelines) {
      const err = relativeError(first[p.unit.output]!.data as Float32Array, p.want);
      if (!(err <= TOLERANCE)) {
        throw new Error(
          `Model ${options.label}: kernels for ${p.unit.name} differ from ORT by ${
            err.toExponential(2)
          } (relative; limit ${TOLERANCE})`,
        );
      }
    }
    const coldMs = performance.now() - t0;
    const planned = Object.keys(options.kernelPlan.inputs).length;
    const covered = units.reduce(
      (n, u) => n + (u.kind === "chain" ? u.layers.filter((l) => l.input).length : 0),
      0,
    );
    const warnings = [`wgsl times ${units.length} FFN unit(s) for one token, not the whole model`];
    if (whyNotVit && analyzeGraph(decoded.graph!).attention.length > 0) {
      warnings.push(`wgsl cannot run this transformer whole (${whyNotVit}); FFN blocks only`);
    }
    if (planned > covered) {
      warnings.push(`${planned - covered} sparsified linear(s) outside FFN blocks are not timed`);
    }
    return {
      inputNames: Object.keys(options.feeds),
      outputNames: units.map((u) => u.output),
      coldMs,
      warnings,
      run: () => runAll(),
      sampler(_feeds: TensorMap, label: string): Sampler {
        for (const p of pipelines) p.pipeline.writeInput(p.x);
        // The kernels suite's timer: GPU timestamps where the device has them, else the wall
        // slope on the runner's clock.
        let timer: Promise<DispatchSampler> | undefined;
        return {
          label,
          async sample(clock: Clock = wallClock): Promise<number> {
            timer ??= createDispatchSampler(device, [dispatches], { timestamps: true });
            return (await (await timer).sample(() => clock.now())).ms;
          },
        };
      },
      async syncLatencyMs(): Promise<number> {
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          await runAll();
          times.push(performance.now() - t);
        }
        return times.sort((a, b) => a - b)[1]!;
      },
      release: () => Promise.resolve(),
    };
  }

  /**
   * Loads a ViT as a whole forward pass (see the module notes) and checks its logits against ORT.
   *
   * @param spec The imported variant.
   * @param decoded Its graph.
   * @param options The load options.
   * @param t0 When loading began (for the cold time).
   * @returns The loaded model.
   */
  async #loadVit(
    spec: VitSpec,
    decoded: ModelProto,
    options: LoadOptions,
    t0: number,
  ): Promise<LoadedModel> {
    const { device } = await acquireGpu();
    const forward = await createVitForward(device, spec, { label: options.label });
    const inputName = decoded.graph!.input![0]!.name!;
    const outputName = decoded.graph!.output![0]!.name!;
    const pixelCount = spec.image.channels * spec.image.height * spec.image.width;
    // ORT runs the variant graph with the kept tokens exposed, when it keeps some.
    const probe = cloneModel(decoded);
    const indices = spec.gatherAfter?.indices;
    if (indices) probe.graph!.output!.push({ name: indices });
    const probeBytes = encodeModel(probe);
    const reference = new WeakMap<
      TensorMap,
      Promise<{ logits: Float32Array; keep?: Uint32Array }>
    >();
    const referenceOf = (feeds: TensorMap) => {
      let r = reference.get(feeds);
      if (!r) {
        r = this.#reference(probeBytes, firstImage(feeds, inputName, pixelCount)).then((out) => {
          const logits = (out[outputName]!.data as Float32Array).slice(0, spec.head.outFeatures);
          if (!indices) return { logits };
          const raw = out[indices]!.data as ArrayLike<number | bigint>;
          return { logits, keep: Uint32Array.from(Array.from(raw, (v) => Number(v))) };
        });
        reference.set(feeds, r);
      }
      return r;
    };
    const prepare = async (feeds: TensorMap) => {
      const { keep } = await referenceOf(feeds);
      const pixels = (feeds[inputName]!.data as Float32Array).subarray(0, pixelCount);
      forward.write(pixels, keep ? { keep } : {});
      return keep;
    };
    const runOne = async (feeds: TensorMap): Promise<TensorMap> => {
      await prepare(feeds);
      await runOnce(device, forward.dispatches);
      const data = await forward.readLogits();
      return { [outputName]: { type: "float32", data, dims: [1, data.length] } };
    };
    const want = await referenceOf(options.feeds);
    const got = (await runOne(options.feeds))[outputName]!.data as Float32Array;
    const err = relativeError(got, want.logits);
    if (!(err <= TOLERANCE)) {
      throw new Error(
        `Model ${options.label}: the whole-ViT kernels differ from ORT's logits by ${
          err.toExponential(2)
        } (relative; limit ${TOLERANCE})`,
      );
    }
    const heads = [...new Set(spec.blocks.map((b) => b.heads))].join("/");
    const warnings = [
      `wgsl runs the whole ViT for one image: ${forward.dispatches.length} dispatches, ${spec.tokens} tokens, ${heads} heads per block`,
    ];
    if (want.keep) {
      warnings.push(
        `${want.keep.length} of ${spec.tokens} tokens kept after block ${
          spec.gatherAfter!.block
        } on the checked image; which ones is taken from ORT's run of the variant graph and not timed`,
      );
    }
    const batch = options.feeds[inputName]?.dims[0] ?? 1;
    if (batch > 1) warnings.push(`wgsl runs the first of ${batch} images of each input (batch 1)`);
    return {
      inputNames: [inputName],
      outputNames: [outputName],
      coldMs: performance.now() - t0,
      warnings,
      run: (feeds) => runOne(feeds),
      sampler(feeds: TensorMap, label: string): Sampler {
        let timer: Promise<DispatchSampler> | undefined;
        return {
          label,
          async sample(clock: Clock = wallClock): Promise<number> {
            // Written before every sample: another input may have run in between.
            await prepare(feeds);
            timer ??= createDispatchSampler(device, [forward.dispatches], { timestamps: true });
            return (await (await timer).sample(() => clock.now())).ms;
          },
        };
      },
      async syncLatencyMs(): Promise<number> {
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          await runOne(options.feeds);
          times.push(performance.now() - t);
        }
        return times.sort((a, b) => a - b)[1]!;
      },
      release: () => Promise.resolve(),
    };
  }
}
