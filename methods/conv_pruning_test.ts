import assert from "node:assert/strict";
import { createBackend } from "../src/backends/mod.ts";
import { createRng } from "../lib/prng.ts";
import { GraphIndex, makeAttr } from "../src/onnx/graph.ts";
import { DataType, encodeModel, type ModelProto } from "../src/onnx/model.ts";
import { floatTensor } from "../src/onnx/tensor_data.ts";
import type { MethodContext, VariantPlan } from "../src/method.ts";
import { accumulateHessian, sparseGptPrune } from "./_obs.ts";
import { magnitudeMethod } from "./magnitude.ts";
import { sparseGptMethod } from "./sparsegpt.ts";
import { wandaMethod } from "./wanda.ts";

// conv1: 4 → 6 channels, 2 groups, 3x3, stride 2, asymmetric pads, dilation (1, 2);
// conv2: depthwise 3x3 over its 6 channels.
const N = 3;
const [C, H, W] = [4, 9, 11];
const [OUT, GROUPS, K] = [6, 2, 3];
const STRIDE = [2, 2];
const PADS = [1, 0, 1, 2];
const DIL = [1, 2];
const IPG = C / GROUPS;
const ROW = IPG * K * K;
const OH = Math.floor((H + PADS[0]! + PADS[2]! - DIL[0]! * (K - 1) - 1) / STRIDE[0]!) + 1;
const OW = Math.floor((W + PADS[1]! + PADS[3]! - DIL[1]! * (K - 1) - 1) / STRIDE[1]!) + 1;

function convModel(seed: number): ModelProto {
  const rng = createRng(seed);
  const vals = (n: number) => Array.from({ length: n }, () => rng.normal());
  const vi = (name: string, dims: number[]) => ({
    name,
    type: {
      tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    },
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "sparsebench-test",
    graph: {
      name: "conv",
      node: [
        {
          name: "conv1",
          opType: "Conv",
          input: ["x", "w1", "b1"],
          output: ["y1"],
          attribute: [
            makeAttr("group", GROUPS, { isInt: true }),
            makeAttr("kernel_shape", [K, K], { isInt: true }),
            makeAttr("strides", STRIDE, { isInt: true }),
            makeAttr("pads", PADS, { isInt: true }),
            makeAttr("dilations", DIL, { isInt: true }),
          ],
        },
        { name: "relu", opType: "Relu", input: ["y1"], output: ["a1"] },
        {
          name: "conv2",
          opType: "Conv",
          input: ["a1", "w2"],
          output: ["y2"],
          attribute: [
            makeAttr("group", OUT, { isInt: true }),
            makeAttr("pads", [1, 1, 1, 1], { isInt: true }),
          ],
        },
      ],
      initializer: [
        floatTensor("w1", [OUT, IPG, K, K], vals(OUT * ROW)),
        floatTensor("b1", [OUT], vals(OUT)),
        floatTensor("w2", [OUT, 1, 3, 3], vals(OUT * 9)),
      ],
      input: [vi("x", [1, C, H, W])],
      output: [vi("y1", [1, OUT, OH, OW]), vi("y2", [1, OUT, OH, OW])],
    },
  };
}

const x = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.sin(i * 12.9898) * 2);

/** Explicit im2col written out from the Conv definition: patches of group g, [N·OH·OW, ROW]. */
function referencePatches(g: number): Float64Array {
  const out = new Float64Array(N * OH * OW * ROW);
  let k = 0;
  for (let b = 0; b < N; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let ci = 0; ci < IPG; ci++) {
          for (let ky = 0; ky < K; ky++) {
            for (let kx = 0; kx < K; kx++) {
              const iy = oy * STRIDE[0]! - PADS[0]! + ky * DIL[0]!;
              const ix = ox * STRIDE[1]! - PADS[1]! + kx * DIL[1]!;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              out[k++] = inside ? x[((b * C + g * IPG + ci) * H + iy) * W + ix]! : 0;
            }
          }
        }
      }
    }
  }
  return out;
}

function weightOf(model: ModelProto, name: string): Float32Array {
  return new GraphIndex(model.graph!).constantFloats(name)!.data;
}

function context(sparsity: number): MethodContext {
  return {
    model: convModel(3),
    sparsity,
    params: {},
    seed: 1,
    capture: (_m, values) => {
      assert.deepEqual(values, ["x"], "only conv1's input should be captured");
      return Promise.resolve(new Map([["x", { data: x, width: W }]]));
    },
    valueShape: (name) => (name === "x" ? [1, C, H, W] : undefined),
  };
}

/** ‖(W − Wp)·Xᵀ‖² over the calibration patches of both groups. */
function reconstructionError(w: Float32Array, wp: Float32Array): number {
  const per = OUT / GROUPS;
  let err = 0;
  for (let g = 0; g < GROUPS; g++) {
    const p = referencePatches(g);
    for (let r = 0; r < N * OH * OW; r++) {
      for (let o = g * per; o < (g + 1) * per; o++) {
        let e = 0;
        for (let j = 0; j < ROW; j++) e += (w[o * ROW + j]! - wp[o * ROW + j]!) * p[r * ROW + j]!;
        err += e * e;
      }
    }
  }
  return err;
}

function zeroFraction(w: Float32Array): number {
  return w.filter((v) => v === 0).length / w.length;
}

async function runOnOrt(model: ModelProto): Promise<Float32Array> {
  const b = await createBackend("ort-node");
  const feeds = {
    x: { type: "float32" as const, data: x.slice(0, C * H * W), dims: [1, C, H, W] },
  };
  const m = await b.load(encodeModel(model), { label: "conv", feeds });
  return (await m.run(feeds)).y1!.data as Float32Array;
}

/** conv1's output on sample 0 from the explicit patches: patches · Wᵀ + b. */
function referenceOutput(w: Float32Array, bias: Float32Array): Float64Array {
  const per = OUT / GROUPS;
  const y = new Float64Array(OUT * OH * OW);
  for (let g = 0; g < GROUPS; g++) {
    const p = referencePatches(g);
    for (let o = g * per; o < (g + 1) * per; o++) {
      for (let r = 0; r < OH * OW; r++) {
        let s = bias[o]!;
        for (let j = 0; j < ROW; j++) s += w[o * ROW + j]! * p[r * ROW + j]!;
        y[o * OH * OW + r] = s;
      }
    }
  }
  return y;
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

Deno.test("the explicit im2col reference reproduces ORT's grouped, strided, dilated conv", async () => {
  const dense = convModel(3);
  const got = await runOnOrt(dense);
  assertClose(got, referenceOutput(weightOf(dense, "w1"), weightOf(dense, "b1")), 1e-4, "y1");
});

Deno.test("Wanda prunes a conv's filters by |W|·‖patch column‖ per output channel", async () => {
  const s = 0.5;
  const ctx = context(s);
  const dense = weightOf(ctx.model, "w1").slice();
  const plan = await wandaMethod.prepare(ctx);
  const got = weightOf(plan.model, "w1");
  const per = OUT / GROUPS;
  const want = dense.slice();
  for (let g = 0; g < GROUPS; g++) {
    const p = referencePatches(g);
    const norms = Array.from({ length: ROW }, (_, j) => {
      let q = 0;
      for (let r = 0; r < N * OH * OW; r++) q += p[r * ROW + j]! ** 2;
      return Math.sqrt(q);
    });
    for (let o = g * per; o < (g + 1) * per; o++) {
      const order = [...Array(ROW).keys()]
        .sort((a, b) =>
          Math.abs(dense[o * ROW + a]!) * norms[a]! - Math.abs(dense[o * ROW + b]!) * norms[b]!
        );
      for (const j of order.slice(0, Math.floor(ROW * s))) want[o * ROW + j] = 0;
    }
  }
  assert.deepEqual(got, want);
  checkPlan(plan, s);
  const y = await runOnOrt(plan.model);
  assertClose(y, referenceOutput(got, weightOf(plan.model, "b1")), 1e-4, "pruned y1");
});

function checkPlan(plan: VariantPlan, s: number): void {
  assert.equal(zeroFraction(weightOf(plan.model, "w1")), s);
  // The depthwise conv is pruned per layer by magnitude: floor(54 · s) zeros.
  assert.equal(zeroFraction(weightOf(plan.model, "w2")), Math.floor(OUT * 9 * s) / (OUT * 9));
  assert.equal(plan.notes?.depthwise_convs_by_magnitude, 1);
  const scales = Object.fromEntries(plan.nodeScales!.map((n) => [n.node, n.constant]));
  assert.deepEqual(Object.keys(scales), ["conv1", "conv2"]);
  assert.equal(scales.conv1, 1 - s);
}

Deno.test("SparseGPT on a conv is SparseGPT on its im2col patches and reconstructs better than magnitude", async () => {
  const s = 0.5;
  const ctx = context(s);
  const dense = weightOf(ctx.model, "w1").slice();
  const plan = await sparseGptMethod.prepare(ctx);
  const got = weightOf(plan.model, "w1");
  const per = OUT / GROUPS;
  const want = new Float32Array(dense.length);
  for (let g = 0; g < GROUPS; g++) {
    const p = Float32Array.from(referencePatches(g));
    const w64 = Float64Array.from(dense.subarray(g * per * ROW, (g + 1) * per * ROW));
    sparseGptPrune(w64, per, ROW, accumulateHessian(p, ROW), { sparsity: s });
    want.set(w64, g * per * ROW);
  }
  assertClose(got, want, 1e-5, "w1");
  checkPlan(plan, s);
  const mag = await magnitudeMethod.prepare(context(s));
  const magW = weightOf(mag.model, "w1");
  assert.equal(zeroFraction(magW), s);
  const errGpt = reconstructionError(dense, got);
  const errMag = reconstructionError(dense, magW);
  assert.ok(errGpt < errMag, `SparseGPT error ${errGpt} should be below magnitude's ${errMag}`);
  const y = await runOnOrt(plan.model);
  assertClose(y, referenceOutput(got, weightOf(plan.model, "b1")), 1e-4, "pruned y1");
});

Deno.test("the conv pruning methods still refuse a sparsity outside [0, 1) and unknown parameters", async () => {
  for (const m of [magnitudeMethod, wandaMethod, sparseGptMethod]) {
    await assert.rejects(m.prepare(context(1.2)), /sparsity/);
    await assert.rejects(m.prepare({ ...context(0.5), params: { bogus: 1 } }), /bogus/);
  }
});
