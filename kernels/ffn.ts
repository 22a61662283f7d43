/**
 * Feed-forward pipelines for one token, built from the kernels: a chain of linears (a plain FFN
 * is up → act → down; an MLP is a longer chain), each either dense (`gemv`) or input-sparse
 * (`select` → `sparse_gemv` → `reduce`), and the gated FFN (act(x·Wg) ⊙ x·Wu → down): dense or
 * input-sparse per projection (gate, up → `mul` → down, each a dense or input-sparse linear), or
 * with the gate selecting neurons (`gemv` → `select` → `gather_gemv` → `sparse_gemv`).
 * Each pipeline has a CPU reference that follows the same steps in double precision.
 *
 * @module
 */

import { type Dispatch, readBuffer, storageBuffer, writeArray } from "./host.ts";
import { activateCpu, type Activation } from "./activation.ts";
import { createGatherGemv, gatherGemvCpu } from "./gather_gemv.ts";
import { createGemv, gemvCpu } from "./gemv.ts";
import { createMul, mulCpu } from "./mul.ts";
import { createSelect, selectCpu, type SelectRule } from "./select.ts";
import {
  createMaskedSparseGemv,
  createSparseGemv,
  sparseGemvCpu,
  transpose,
} from "./sparse_gemv.ts";
import type { Tuning } from "./tuning.ts";

/** One linear of a chain. */
export interface ChainLayer {
  /** Name (the ONNX linear's name). */
  name: string;
  /** Output features. */
  rows: number;
  /** Input features. */
  cols: number;
  /** Weight [rows, cols] row-major (PyTorch's Linear layout). */
  weight: Float32Array;
  /** Bias [rows]. */
  bias?: Float32Array;
  /** Activation after this layer. */
  act: Activation;
  /**
   * Selection on this layer's input, making it input-sparse. With `preActivation`, the rule sees
   * the previous layer's output before its activation, and the activation is applied to the
   * selected values (Spark's statistical top-k acts on the pre-activation).
   */
  input?: { rule: SelectRule; preActivation?: boolean };
}

/** A gated FFN: down(act(x·Wgᵀ) ⊙ (x·Wuᵀ)). */
export interface GatedFfn {
  /** Model width. */
  d: number;
  /** Hidden width. */
  h: number;
  /** Gate weight [h, d]. */
  gate: Float32Array;
  /** Up weight [h, d]. */
  up: Float32Array;
  /** Down weight [d, h]. */
  down: Float32Array;
  /** Gate activation. */
  act: Activation;
  /** Selection of neurons by the gate: on act(g) (`activation`, CATS) or on g (`pre-activation`). */
  select?: { rule: SelectRule; on: "activation" | "pre-activation" };
  /**
   * Input sparsity of the three projections (TEAL, WINA): gate and up skip input channels of x,
   * down skips hidden channels of act(g) ⊙ u. Exclusive with `select`.
   */
  inputs?: { gate?: SelectRule; up?: SelectRule; down?: SelectRule };
}

/** A pipeline on the device. */
export interface Pipeline {
  /** Dispatches of one run, in order. */
  dispatches: Dispatch[];
  /** Writes the input vector. */
  writeInput(x: Float32Array): void;
  /** Reads the output vector. */
  read(): Promise<Float32Array>;
  /** Reads how many inputs each sparse layer kept, in layer order (for densities). */
  readCounts(): Promise<number[]>;
}

/**
 * CPU reference of a chain.
 *
 * @param layers The chain.
 * @param x Input.
 * @returns Output.
 */
export function chainCpu(layers: readonly ChainLayer[], x: Float32Array): Float32Array {
  let v = x;
  let pendingAct: Activation = "none";
  layers.forEach((l, i) => {
    const next = layers[i + 1];
    const deferAct = next?.input?.preActivation === true;
    let out: Float32Array;
    if (l.input) {
      const sel = selectCpu(v, l.input.rule);
      out = sparseGemvCpu(transpose(l.weight, l.rows, l.cols), sel, {
        n: l.rows,
        ...(l.bias ? { bias: l.bias } : {}),
        actOnVals: l.input.preActivation ? pendingAct : "none",
        act: deferAct ? "none" : l.act,
      });
    } else {
      const input = pendingAct !== "none" ? v.map((u) => activateCpu(pendingAct, u)) : v;
      out = gemvCpu(l.weight, input, {
        rows: l.rows,
        cols: l.cols,
        ...(l.bias ? { bias: l.bias } : {}),
        act: deferAct ? "none" : l.act,
      });
    }
    pendingAct = deferAct ? l.act : "none";
    v = out;
  });
  return v;
}

/** One linear built on the device: its dispatches, output and (input-sparse) kept count. */
interface DeviceLinear {
  dispatches: Dispatch[];
  y: GPUBuffer;
  count?: GPUBuffer;
}

async function linearOnDevice(
  device: GPUDevice,
  name: string,
  l: ChainLayer,
  input: GPUBuffer,
  options: { pendingAct: Activation; act: Activation; tuning?: Tuning },
): Promise<DeviceLinear> {
  const { pendingAct, act, tuning } = options;
  if (l.input) {
    const rule = l.input.rule;
    const fixedThreshold = rule.kind === "magnitude" || rule.kind === "value";
    if (fixedThreshold && !l.input.preActivation && (tuning?.masked ?? true)) {
      // A fixed threshold needs no compaction: the masked kernel tests each input as it goes.
      const sg = await createMaskedSparseGemv(device, {
        label: name,
        k: l.cols,
        n: l.rows,
        weightT: transpose(l.weight, l.rows, l.cols),
        ...(l.bias ? { bias: l.bias } : {}),
        x: input,
        rule,
        act,
        ...(tuning?.sparse ?? {}),
      });
      return { dispatches: sg.dispatches, y: sg.y };
    }
    const sel = await createSelect(device, { label: name, n: l.cols, rule, input });
    const sg = await createSparseGemv(device, {
      label: name,
      k: l.cols,
      n: l.rows,
      weightT: transpose(l.weight, l.rows, l.cols),
      ...(l.bias ? { bias: l.bias } : {}),
      idx: sel.idx,
      vals: sel.vals,
      count: sel.count,
      actOnVals: l.input.preActivation ? pendingAct : "none",
      act,
      ...(tuning?.sparse ?? {}),
    });
    return { dispatches: [sel.dispatch, ...sg.dispatches], y: sg.y, count: sel.count };
  }
  if (pendingAct !== "none") {
    throw new RangeError(`${name}: a dense layer cannot take a deferred activation`);
  }
  const g = await createGemv(device, {
    label: name,
    rows: l.rows,
    cols: l.cols,
    weight: l.weight,
    ...(l.bias ? { bias: l.bias } : {}),
    act,
    input,
    ...(tuning?.gemv ?? {}),
  });
  return { dispatches: [g.dispatch], y: g.y };
}

/**
 * Builds a chain on the device. A layer whose successor selects on the pre-activation leaves its
 * activation to that successor.
 *
 * @param device The device.
 * @param label Label.
 * @param layers The chain.
 * @returns The pipeline.
 */
export async function createChain(
  device: GPUDevice,
  label: string,
  layers: readonly ChainLayer[],
  tuning?: Tuning,
): Promise<Pipeline> {
  const first = layers[0]!;
  const padded = Math.ceil(first.cols / 4) * 4;
  const x = storageBuffer(device, `${label} x`, padded * 4);
  const dispatches: Dispatch[] = [];
  const counts: GPUBuffer[] = [];
  let input = x;
  let pendingAct: Activation = "none";
  let y: GPUBuffer = x;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    const deferAct = layers[i + 1]?.input?.preActivation === true;
    const built = await linearOnDevice(device, `${label} ${l.name}`, l, input, {
      pendingAct,
      act: deferAct ? "none" : l.act,
      ...(tuning ? { tuning } : {}),
    });
    dispatches.push(...built.dispatches);
    if (built.count) counts.push(built.count);
    y = built.y;
    pendingAct = deferAct ? l.act : "none";
    input = y;
  }
  const outRows = layers[layers.length - 1]!.rows;
  return {
    dispatches,
    writeInput(v: Float32Array) {
      const p = new Float32Array(padded);
      p.set(v.subarray(0, first.cols));
      writeArray(device, x, p);
    },
    async read() {
      return new Float32Array(await readBuffer(device, y, outRows * 4));
    },
    async readCounts() {
      const out: number[] = [];
      for (const c of counts) out.push(new Uint32Array(await readBuffer(device, c, 4))[0]!);
      return out;
    },
  };
}

/**
 * CPU reference of a gated FFN.
 *
 * @param f The FFN.
 * @param x Input.
 * @returns Output.
 */
export function gatedCpu(f: GatedFfn, x: Float32Array): Float32Array {
  if (f.inputs || !f.select) {
    const inputs = f.inputs ?? {};
    const one =
      (name: string, rows: number, cols: number, weight: Float32Array) =>
      (v: Float32Array, act: Activation, rule?: SelectRule) =>
        chainCpu([{ name, rows, cols, weight, act, ...(rule ? { input: { rule } } : {}) }], v);
    const g = one("gate", f.h, f.d, f.gate)(x, f.act, inputs.gate);
    const u = one("up", f.h, f.d, f.up)(x, "none", inputs.up);
    return one("down", f.d, f.h, f.down)(mulCpu(g, u), "none", inputs.down);
  }
  const pre = f.select.on === "pre-activation";
  const g = gemvCpu(f.gate, x, { rows: f.h, cols: f.d, act: pre ? "none" : f.act });
  const sel = selectCpu(g, f.select.rule);
  const h = gatherGemvCpu(f.up, x, sel.idx, {
    cols: f.d,
    act: f.act,
    vals: sel.vals,
    actOnVals: pre,
  });
  return sparseGemvCpu(transpose(f.down, f.d, f.h), { idx: sel.idx, vals: h }, { n: f.d });
}

/**
 * Builds a gated FFN on the device.
 *
 * @param device The device.
 * @param label Label.
 * @param f The FFN.
 * @returns The pipeline.
 */
export async function createGated(
  device: GPUDevice,
  label: string,
  f: GatedFfn,
  tuning?: Tuning,
): Promise<Pipeline> {
  const padded = Math.ceil(f.d / 4) * 4;
  const x = storageBuffer(device, `${label} x`, padded * 4);
  const write = (v: Float32Array) => {
    const p = new Float32Array(padded);
    p.set(v.subarray(0, f.d));
    writeArray(device, x, p);
  };
  // Dense runs the same gemv → mul → gemv steps as input sparsity, so the two differ only in
  // what they skip (a fused gate+up kernel would make the dense baseline a different kernel).
  if (f.inputs || !f.select) {
    const inputs = f.inputs ?? {};
    if (f.select) {
      throw new RangeError(`${label}: gate selection and input sparsity exclude each other`);
    }
    const linear =
      (name: string, rows: number, cols: number, weight: Float32Array, rule?: SelectRule) =>
      (input: GPUBuffer, act: Activation) =>
        linearOnDevice(
          device,
          `${label} ${name}`,
          {
            name,
            rows,
            cols,
            weight,
            act,
            ...(rule ? { input: { rule } } : {}),
          },
          input,
          { pendingAct: "none", act, ...(tuning ? { tuning } : {}) },
        );
    const g = await linear("gate", f.h, f.d, f.gate, inputs.gate)(x, f.act);
    const u = await linear("up", f.h, f.d, f.up, inputs.up)(x, "none");
    const m = await createMul(device, { label: `${label} gate*up`, n: f.h, a: g.y, b: u.y });
    const d = await linear("down", f.d, f.h, f.down, inputs.down)(m.y, "none");
    const counts = [g.count, u.count, d.count].filter((c): c is GPUBuffer => c !== undefined);
    return {
      dispatches: [...g.dispatches, ...u.dispatches, m.dispatch, ...d.dispatches],
      writeInput: write,
      read: async () => new Float32Array(await readBuffer(device, d.y, f.d * 4)),
      readCounts: async () => {
        const out: number[] = [];
        for (const c of counts) out.push(new Uint32Array(await readBuffer(device, c, 4))[0]!);
        return out;
      },
    };
  }
  const pre = f.select.on === "pre-activation";
  const gate = await createGemv(device, {
    label: `${label} gate`,
    rows: f.h,
    cols: f.d,
    weight: f.gate,
    ...(tuning?.gemv ?? {}),
    act: pre ? "none" : f.act,
    input: x,
  });
  const sel = await createSelect(device, {
    label: `${label} gate select`,
    n: f.h,
    rule: f.select.rule,
    input: gate.y,
  });
  const gg = await createGatherGemv(device, {
    ...(tuning?.gather ?? {}),
    label: `${label} up`,
    rows: f.h,
    cols: f.d,
    weight: f.up,
    act: f.act,
    mulVals: true,
    actOnVals: pre,
    vals: sel.vals,
    x,
    idx: sel.idx,
    count: sel.count,
  });
  const sg = await createSparseGemv(device, {
    label: `${label} down`,
    k: f.h,
    n: f.d,
    weightT: transpose(f.down, f.d, f.h),
    idx: sel.idx,
    vals: gg.y,
    ...(tuning?.sparse ?? {}),
    count: sel.count,
  });
  return {
    dispatches: [gate.dispatch, sel.dispatch, gg.dispatch, ...sg.dispatches],
    writeInput: write,
    read: () => sg.read(),
    readCounts: async () => [new Uint32Array(await readBuffer(device, sel.count, 4))[0]!],
  };
}
