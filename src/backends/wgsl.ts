/**
 * The `wgsl` target: the project's own kernels running the feed-forward blocks of a model for one
 * token, dense or skipping what the variant's kernel plan says, so activation sparsity shows the
 * speedup that skipping buys (ORT's masked graphs still multiply every weight).
 *
 * Scope, recorded in every result's warnings: FFN blocks only (consecutive blocks that share a
 * linear, as in an MLP, form one chain), one token (the first row of the timed input), weights
 * from the dense model's initializers. Before timing, each chain's output is checked against ORT
 * on the CPU (onnxruntime-node in Deno, ORT-web's wasm build in a browser) running the variant's own
 * graph on the same input: relative error ≤ 1e-4.
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
      runtime: `sparsebench WGSL kernels on ${this.#host} WebGPU (FFN blocks, one token)`,
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
    const dense = options.kernelPlan.weightsFromVariant ? decoded : options.dense ?? decoded;
    const units = buildUnits(dense, options.kernelPlan);

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
}
