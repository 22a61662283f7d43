import assert from "node:assert/strict";
import { acquireGpu } from "../../kernels/gpu_device.ts";
import { decodeModel } from "../onnx/model.ts";
import { createBackend } from "../backends/mod.ts";
import { relativeError } from "../../kernels/relative_error.ts";
import { repoPath } from "../../lib/repo_root.ts";
import { importDecoder } from "./onnx_import.ts";
import { type GpuWeights, uploadWeights } from "./weights.ts";
import { createDecoder } from "./engine.ts";
import {
  type DecoderSpec,
  DENSE_PLAN,
  type HostWeights,
  linearShapes,
  type SparsityPlan,
  uniformPlan,
} from "./spec.ts";
import { createRng } from "../../lib/prng.ts";
import { shapeByName } from "./synthetic.ts";
import { referenceDecode, type ReferenceHooks } from "./reference.ts";
import { thresholdCpu } from "../../kernels/threshold.ts";
import type { SkipGemvTuning } from "../../kernels/skip_gemv.ts";
import { evaluateWindows } from "./evaluate.ts";
import { loadDataset } from "../../datasets/mod.ts";
import type { TextDataset } from "../../datasets/types.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`decode engine tests skipped: ${(e as Error).message}`);
  return undefined;
});

const IDS = [40, 72, 69, 0, 83, 69, 65, 0, 73, 83, 0, 67, 65, 76, 77, 14];

async function ortLogits(file: string, ids: number[], input = "ids"): Promise<Float32Array> {
  const backend = await createBackend("ort-node");
  const feeds = {
    [input]: {
      type: "int64" as const,
      data: BigInt64Array.from(ids, BigInt),
      dims: [1, ids.length],
    },
  };
  const m = await backend.load(await Deno.readFile(repoPath(file)), { label: file, feeds });
  const out = await m.run(feeds);
  await m.release();
  return out[m.outputNames[0]!]!.data as Float32Array;
}

for (const file of ["models/lm-char.onnx", "models/lm-char-swiglu.onnx"]) {
  Deno.test({
    name: `the engine's logits on ${file} equal ORT's at every prompt position (f32 ≤ 1e-4)`,
    ignore: !gpu,
  }, async () => {
    const { device } = gpu!;
    const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
    const weights = uploadWeights(device, imported.spec, imported.weights, {
      dtype: "f32",
      layouts: ["row", "transposed"],
    });
    const ref = await ortLogits(file, IDS);
    const vocab = imported.spec.vocab;
    // Dense, and the input-sparse kernels with every row kept: both must equal ORT.
    for (
      const plan of [
        undefined,
        uniformPlan(imported.spec, "keep-all", { kind: "magnitude", threshold: -1 }),
      ]
    ) {
      const dec = await createDecoder(device, weights, {
        adapter: gpu!.facts,
        ...(plan ? { plan } : {}),
      });
      dec.writeIds(Uint32Array.from(IDS));
      dec.setState({
        pos: 0,
        wrapStart: 0,
        wrapEnd: imported.spec.maxPositions,
        prompt: IDS.length,
      });
      for (let t = 0; t < IDS.length; t++) {
        await dec.run(1);
        const got = await dec.readLogits();
        const e = relativeError(got, ref.subarray(t * vocab, (t + 1) * vocab));
        assert.ok(
          e <= 1e-4,
          `${plan?.method ?? "dense"} position ${t}: relative error ${e.toExponential(2)}`,
        );
      }
      dec.destroy();
    }
    weights.destroy();
  });
}

function randomHost(spec: DecoderSpec, seed: number): HostWeights {
  const rng = createRng(seed);
  const m = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  const ones = (n: number) => Float32Array.from({ length: n }, () => 1 + 0.1 * rng.normal());
  const sh = linearShapes(spec);
  return {
    embed: m(spec.vocab * spec.d, 1),
    layers: Array.from({ length: spec.layers }, () => ({
      norm1: { w: ones(spec.d) },
      norm2: { w: ones(spec.d) },
      qkv: { w: m(sh.block.qkv.k * sh.block.qkv.n, 1 / Math.sqrt(sh.block.qkv.k)) },
      o: { w: m(sh.block.o.k * sh.block.o.n, 1 / Math.sqrt(sh.block.o.k)) },
      up: { w: m(sh.block.up.k * sh.block.up.n, 1 / Math.sqrt(sh.block.up.k)) },
      down: { w: m(sh.block.down.k * sh.block.down.n, 1 / Math.sqrt(sh.block.down.k)) },
    })),
    finalNorm: { w: ones(spec.d) },
    head: { w: m(spec.vocab * spec.d, 1 / Math.sqrt(spec.d)) },
  };
}

Deno.test({
  name:
    "the engine equals its CPU reference on a LLaMA-architecture model (RMSNorm, RoPE, GQA, SwiGLU), dense (norms fused or not) and sparse (each GEMV form)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const spec = shapeByName("llama-tiny");
  const host = randomHost(spec, 3);
  const weights = uploadWeights(device, spec, host, {
    dtype: "f32",
    layouts: ["row", "transposed"],
  });
  const ids = [5, 17, 200, 3, 99, 42, 7, 130, 64, 1];
  const t = 0.4;
  const teal = uniformPlan(spec, "teal", { kind: "magnitude", threshold: t });
  const tealHooks: ReferenceHooks = {
    input: (_l, _p, x) => x.forEach((v, j) => (x[j] = Math.abs(v) > t ? v : 0)),
  };
  // Sparse o and up/gate, dense q/k/v and down: fused, each kind of GEMV meets each fused norm.
  const mixed: SparsityPlan = {
    method: "mixed",
    layers: teal.layers.map((r) => ({ o: r.o!, up: r.up! })),
  };
  // The GPU launch shape (several splits, so o's and down's last workgroups sum partials).
  const gpuSkip = {
    skipTuning: { workgroupSize: 64, lanes: 16, splits: 4, compact: false, stage: false },
    skipTuningResidual: { workgroupSize: 64, lanes: 16, splits: 3, compact: false, stage: false },
  };
  // The scan form in the same shares.
  const gpuScan = {
    skipTuning: { workgroupSize: 64, lanes: 16, splits: 4, scan: true },
    skipTuningResidual: { workgroupSize: 64, lanes: 16, splits: 3, scan: true },
  };
  const cases: {
    plan: SparsityPlan;
    hooks: ReferenceHooks;
    fuseNorms?: boolean;
    tuning?: { skipTuning: SkipGemvTuning; skipTuningResidual: SkipGemvTuning };
  }[] = [
    { plan: DENSE_PLAN, hooks: {}, fuseNorms: false },
    { plan: DENSE_PLAN, hooks: {}, fuseNorms: true },
    { plan: teal, hooks: tealHooks, fuseNorms: false, tuning: gpuSkip },
    { plan: teal, hooks: tealHooks, fuseNorms: true, tuning: gpuSkip },
    {
      plan: mixed,
      hooks: {
        input: (_l, p, x) => {
          if (p === "o" || p === "up") x.forEach((v, j) => (x[j] = Math.abs(v) > t ? v : 0));
        },
      },
      fuseNorms: true,
      tuning: gpuSkip,
    },
    { plan: teal, hooks: tealHooks, fuseNorms: true, tuning: gpuScan },
    { plan: teal, hooks: tealHooks },
    {
      plan: uniformPlan(spec, "topk", { kind: "fraction", sparsity: 0.5 }),
      hooks: {
        input: (_l, _p, x) => {
          const tt = thresholdCpu(x, { kind: "fraction", drop: Math.round(0.5 * x.length) });
          x.forEach((v, j) => (x[j] = Math.fround(Math.abs(v)) > tt ? v : 0));
        },
      },
    },
  ];
  const dispatches: number[] = [];
  for (const { plan, hooks, fuseNorms, tuning } of cases) {
    const ref = referenceDecode(spec, host, ids, hooks);
    const dec = await createDecoder(device, weights, {
      plan,
      adapter: gpu!.facts,
      ...(fuseNorms !== undefined ? { fuseNorms } : {}),
      ...tuning,
    });
    if (fuseNorms !== undefined) dispatches.push(dec.dispatchesPerToken);
    dec.writeIds(Uint32Array.from(ids));
    dec.setState({ pos: 0, wrapStart: 0, wrapEnd: spec.maxPositions, prompt: ids.length });
    for (let p = 0; p < ids.length; p++) {
      await dec.run(1);
      const e = relativeError(await dec.readLogits(), ref[p]!);
      assert.ok(
        e <= 1e-4,
        `${plan.method}${fuseNorms ? " (fused norms)" : ""} position ${p}: relative error ${
          e.toExponential(2)
        }`,
      );
    }
    dec.destroy();
  }
  // Fused, every norm goes: two per block and the final one, dense or sparse.
  assert.equal(dispatches[0]! - dispatches[1]!, 2 * spec.layers + 1);
  assert.equal(dispatches[2]! - dispatches[3]!, 2 * spec.layers + 1);
  assert.equal(dispatches[4], dispatches[3]);
  weights.destroy();
});

Deno.test({
  name:
    "with an f16 KV cache the engine's logits on llama-tiny are within 1e-2 of its CPU reference, token by token and after a prefill; f16 weights choose it by default",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const spec = shapeByName("llama-tiny");
  const host = randomHost(spec, 3);
  const weights = uploadWeights(device, spec, host, { dtype: "f32", layouts: ["row"] });
  const ids = [5, 17, 200, 3, 99, 42, 7, 130, 64, 1];
  const ref = referenceDecode(spec, host, ids);
  const maxContext = 64;
  const make = (kvDtype?: "f16" | "f32") =>
    createDecoder(device, weights, {
      adapter: gpu!.facts,
      maxContext,
      ...(kvDtype ? { kvDtype } : {}),
    });
  const dec = await make("f16");
  assert.equal(dec.kvDtype, "f16");
  dec.writeIds(Uint32Array.from(ids));
  dec.setState({ pos: 0, wrapStart: 0, wrapEnd: maxContext, prompt: ids.length });
  for (let p = 0; p < ids.length; p++) {
    await dec.run(1);
    const e = relativeError(await dec.readLogits(), ref[p]!);
    assert.ok(e <= 1e-2, `f16 KV position ${p}: relative error ${e.toExponential(2)}`);
  }
  // The prefill writes the f16 caches that the step then reads.
  dec.setState({ pos: 0, wrapStart: 0, wrapEnd: maxContext, prompt: ids.length });
  assert.ok(await dec.prefill(ids.length - 1));
  dec.setState({ pos: ids.length - 1, wrapStart: 0, wrapEnd: maxContext, prompt: ids.length });
  await dec.run(1);
  const e = relativeError(await dec.readLogits(), ref[ids.length - 1]!);
  assert.ok(e <= 1e-2, `f16 KV after a prefill: relative error ${e.toExponential(2)}`);
  // Half the KV bytes per token; f32 weights keep an f32 cache by default.
  const f32 = await make();
  assert.equal(f32.kvDtype, "f32");
  const kvBytes = 2 * 100 * spec.kvHeads * spec.headDim * spec.layers * 2;
  assert.equal(f32.bytesPerToken(100) - dec.bytesPerToken(100), kvBytes);
  f32.destroy();
  dec.destroy();
  weights.destroy();
  const half = uploadWeights(device, spec, host, {
    dtype: "f16",
    layouts: ["transposed"],
    headDtype: "f32",
  });
  const byDefault = await createDecoder(device, half, {
    adapter: gpu!.facts,
    maxContext,
    plan: uniformPlan(spec, "keep-all", { kind: "magnitude", threshold: -1 }),
    hasF16: gpu!.hasF16,
  });
  assert.equal(byDefault.kvDtype, "f16");
  byDefault.destroy();
  half.destroy();
});

Deno.test({
  name:
    "the engine's dense bpc on lm-char equals ORT's within 1e-3, and greedy decoding chains ids on the GPU",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const file = "models/lm-char.onnx";
  const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
  const weights = uploadWeights(device, imported.spec, imported.weights, {
    dtype: "f32",
    layouts: ["row"],
  });
  const text = (await loadDataset("english-text")) as TextDataset;
  const evalIds = text.splits.evaluation.ids;
  const windows = [0, 1, 2].map((w) => Uint32Array.from(evalIds.subarray(w * 128, w * 128 + 129)));
  const dec = await createDecoder(device, weights, { withNll: true, adapter: gpu!.facts });
  const got = await evaluateWindows(device, dec, windows);
  let nll = 0;
  for (const w of windows) {
    const logits = await ortLogits(file, Array.from(w.subarray(0, 128)));
    for (let p = 0; p < 128; p++) {
      const row = logits.subarray(p * 96, (p + 1) * 96);
      const m = Math.max(...row);
      let e = 0;
      for (const v of row) e += Math.exp(v - m);
      nll += m + Math.log(e) - row[w[p + 1]!]!;
    }
  }
  const ortBpc = nll / (3 * 128) / Math.LN2;
  assert.ok(Math.abs(got.bpc - ortBpc) < 1e-3, `engine bpc ${got.bpc} vs ORT ${ortBpc}`);
  // Greedy: each generated id is the CPU reference's argmax given the ids before it.
  const prompt = Array.from(windows[0]!.subarray(0, 8));
  dec.writeIds(Uint32Array.from(prompt));
  dec.setState({ pos: 0, wrapStart: 0, wrapEnd: 128, prompt: prompt.length });
  await dec.run(prompt.length - 1 + 6);
  const seq = Array.from(await dec.readIds(prompt.length + 6));
  assert.deepEqual(seq.slice(0, prompt.length), prompt);
  const ref = referenceDecode(imported.spec, imported.weights, seq.slice(0, -1));
  for (let p = prompt.length - 1; p < seq.length - 1; p++) {
    const row = ref[p]!;
    assert.equal(seq[p + 1], row.indexOf(Math.max(...row)), `generated id at ${p + 1}`);
  }
  dec.destroy();
  weights.destroy();
});

Deno.test({
  name: "with f16 weights the engine's logits on lm-char-swiglu are within 1e-2 of ORT's",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const file = "models/lm-char-swiglu.onnx";
  const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
  // The blocks' f16 weights go through the input-sparse GEMV (every row kept), which unpacks
  // halves itself; the dense f16 GEMV needs shader-f16, which CPU adapters lack.
  const weights = uploadWeights(device, imported.spec, imported.weights, {
    dtype: "f16",
    layouts: gpu!.hasF16 ? ["row", "transposed"] : ["transposed"],
    ...(gpu!.hasF16 ? {} : { headDtype: "f32" as const }),
  });
  const ref = await ortLogits(file, IDS);
  const vocab = imported.spec.vocab;
  const plan = uniformPlan(imported.spec, "keep-all", { kind: "magnitude", threshold: -1 });
  const dec = await createDecoder(device, weights, {
    plan,
    adapter: gpu!.facts,
    hasF16: gpu!.hasF16,
  });
  dec.writeIds(Uint32Array.from(IDS));
  dec.setState({ pos: 0, wrapStart: 0, wrapEnd: imported.spec.maxPositions, prompt: IDS.length });
  for (let t = 0; t < IDS.length; t++) {
    await dec.run(1);
    const e = relativeError(await dec.readLogits(), ref.subarray(t * vocab, (t + 1) * vocab));
    assert.ok(e <= 1e-2, `f16 position ${t}: relative error ${e.toExponential(2)}`);
  }
  dec.destroy();
  weights.destroy();
});

Deno.test({
  name:
    "a GPT-2 exported by transformers and either torch exporter (fused c_attn, tanh GELU, tied head) decodes to ORT's logits",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const exporter of ["torchscript", "dynamo"]) {
    const file = `src/onnx/testdata/gpt2.${exporter}.onnx`;
    const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
    const ids = Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % imported.spec.vocab);
    const ref = await ortLogits(file, ids, "input_ids");
    const weights = uploadWeights(device, imported.spec, imported.weights, {
      dtype: "f32",
      layouts: ["row"],
    });
    const dec = await createDecoder(device, weights, { adapter: gpu!.facts });
    dec.writeIds(Uint32Array.from(ids));
    dec.setState({ pos: 0, wrapStart: 0, wrapEnd: imported.spec.maxPositions, prompt: ids.length });
    const vocab = imported.spec.vocab;
    let done = 0;
    for (const t of [0, 1, 15, 31]) {
      await dec.run(t + 1 - done);
      done = t + 1;
      const e = relativeError(await dec.readLogits(), ref.subarray(t * vocab, (t + 1) * vocab));
      assert.ok(e <= 1e-4, `${exporter} position ${t}: relative error ${e.toExponential(2)}`);
    }
    dec.destroy();
    weights.destroy();
  }
  // What the engine cannot map fails in one line naming it.
  const mlp = decodeModel(await Deno.readFile(repoPath("src/onnx/testdata/mlp-gelu.dynamo.onnx")));
  assert.throws(
    () => importDecoder(mlp, { id: "mlp" }),
    /^Error: Cannot map this model onto the decode engine: [^\n]+$/,
  );
});

Deno.test({
  name:
    "a LLaMA exported by transformers and either torch exporter (RMSNorm, RoPE, grouped-query attention, SwiGLU) decodes to ORT's logits",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const exporter of ["torchscript", "dynamo"]) {
    const file = `src/onnx/testdata/llama.${exporter}.onnx`;
    const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
    assert.equal(imported.spec.norm, "rms");
    assert.deepEqual(imported.spec.positions, { kind: "rope", base: 10000 });
    assert.ok(imported.spec.kvHeads < imported.spec.heads);
    // The fixture was exported for 32 positions.
    const ids = Array.from({ length: 32 }, (_, i) => (i * 53 + 3) % imported.spec.vocab);
    const ref = await ortLogits(file, ids, "input_ids");
    const weights = uploadWeights(device, imported.spec, imported.weights, {
      dtype: "f32",
      layouts: ["row"],
    });
    // The GPU form (norms fused into the GEMVs) on one exporter's graph, the CPU form on both.
    for (const fuseNorms of exporter === "torchscript" ? [false, true] : [false]) {
      const dec = await createDecoder(device, weights, {
        adapter: gpu!.facts,
        maxContext: 64,
        fuseNorms,
      });
      dec.writeIds(Uint32Array.from(ids));
      dec.setState({ pos: 0, wrapStart: 0, wrapEnd: 64, prompt: ids.length });
      const vocab = imported.spec.vocab;
      for (let t = 0; t < ids.length; t++) {
        await dec.run(1);
        const e = relativeError(await dec.readLogits(), ref.subarray(t * vocab, (t + 1) * vocab));
        assert.ok(
          e <= 1e-4,
          `${exporter}${fuseNorms ? " fused" : ""} position ${t}: relative error ${
            e.toExponential(2)
          }`,
        );
      }
      dec.destroy();
    }
    weights.destroy();
  }
});

Deno.test({
  name:
    "Spark's trained LM imports with its predicted FFN, and the engine's logits and bpc on lm-char-spark-k8 equal ORT's (f32 ≤ 1e-4, bpc within 1e-3)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const file = "models/lm-char-spark-k8.onnx";
  const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
  // train_spark.py: r = 96 of 192 input dims, z = Φ⁻¹(1 − 0.08), in every block.
  assert.equal(imported.plan?.layers.length, 4);
  for (const rules of imported.plan!.layers) {
    assert.equal(rules.up?.kind, "predicted");
    if (rules.up?.kind === "predicted") {
      assert.equal(rules.up.r, 96);
      assert.ok(Math.abs(rules.up.z - 1.4051) < 1e-4, `z ${rules.up.z}`);
    }
  }
  const ref = await ortLogits(file, IDS);
  const vocab = imported.spec.vocab;
  // The CPU reference computes the same model (its dense run is another model).
  const cpu = referenceDecode(imported.spec, imported.weights, IDS.slice(0, 4), {
    plan: imported.plan!,
  });
  for (let t = 0; t < 4; t++) {
    const e = relativeError(cpu[t]!, ref.subarray(t * vocab, (t + 1) * vocab));
    assert.ok(e <= 1e-4, `CPU reference position ${t}: relative error ${e.toExponential(2)}`);
  }
  const weights = uploadWeights(device, imported.spec, imported.weights, {
    dtype: "f32",
    layouts: ["row", "transposed"],
  });
  // The GPU's launch shapes (one workgroup per gathered row, split-K down with its reduce, a
  // 256-thread selection) give the same logits as the adapter's own.
  const gpuShapes = await createDecoder(device, weights, {
    adapter: gpu!.facts,
    plan: imported.plan!,
    predictedTuning: {
      selectWorkgroupSize: 256,
      gather: { rowPerThread: false, workgroupSize: 128 },
      sparse: { workgroupSize: 256, reduceSlices: 8 },
    },
  });
  gpuShapes.writeIds(Uint32Array.from(IDS));
  gpuShapes.setState({ pos: 0, wrapStart: 0, wrapEnd: 128, prompt: IDS.length });
  await gpuShapes.run(8);
  const e7 = relativeError(await gpuShapes.readLogits(), ref.subarray(7 * vocab, 8 * vocab));
  assert.ok(e7 <= 1e-4, `GPU launch shapes, position 7: relative error ${e7.toExponential(2)}`);
  gpuShapes.destroy();
  const dec = await createDecoder(device, weights, {
    adapter: gpu!.facts,
    plan: imported.plan!,
    withNll: true,
  });
  assert.deepEqual(dec.kernels[0], { qkv: "gemv", o: "gemv", up: "predicted", down: "predicted" });
  dec.writeIds(Uint32Array.from(IDS));
  dec.setState({ pos: 0, wrapStart: 0, wrapEnd: imported.spec.maxPositions, prompt: IDS.length });
  let done = 0;
  for (const t of [0, 1, 7, 15]) {
    await dec.run(t + 1 - done);
    done = t + 1;
    const e = relativeError(await dec.readLogits(), ref.subarray(t * vocab, (t + 1) * vocab));
    assert.ok(e <= 1e-4, `position ${t}: relative error ${e.toExponential(2)}`);
  }
  const text = (await loadDataset("english-text")) as TextDataset;
  const evalIds = text.splits.evaluation.ids;
  const windows = [0, 1].map((w) => Uint32Array.from(evalIds.subarray(w * 128, w * 128 + 129)));
  const got = await evaluateWindows(device, dec, windows);
  let nll = 0;
  for (const w of windows) {
    const logits = await ortLogits(file, Array.from(w.subarray(0, 128)));
    for (let p = 0; p < 128; p++) {
      const row = logits.subarray(p * vocab, (p + 1) * vocab);
      const m = Math.max(...row);
      let e = 0;
      for (const v of row) e += Math.exp(v - m);
      nll += m + Math.log(e) - row[w[p + 1]!]!;
    }
  }
  const ortBpc = nll / (windows.length * 128) / Math.LN2;
  assert.ok(Math.abs(got.bpc - ortBpc) < 1e-3, `engine bpc ${got.bpc} vs ORT ${ortBpc}`);
  dec.destroy();
  weights.destroy();
});

Deno.test({
  name:
    "prefill with GEMMs gives the token-by-token prompt's logits at the last prompt position (llama-tiny, norms fused or not; lm-char; lm-char-swiglu) and refuses sparse plans",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const ids = [5, 17, 200, 3, 99, 42, 7, 130, 64, 1, 11, 23];
  const check = async (weights: GpuWeights, what: string, fuseNorms?: boolean) => {
    const prompt = ids.map((v) => v % weights.spec.vocab);
    const logitsOf = async (prefill: boolean) => {
      const dec = await createDecoder(device, weights, {
        adapter: gpu!.facts,
        maxContext: 64,
        ...(fuseNorms !== undefined ? { fuseNorms } : {}),
      });
      dec.writeIds(Uint32Array.from(prompt));
      dec.setState({ pos: 0, wrapStart: 0, wrapEnd: 64, prompt: prompt.length });
      if (prefill) {
        assert.equal(dec.prefillRefusal, undefined);
        assert.ok(await dec.prefill(prompt.length - 1));
        dec.setState({
          pos: prompt.length - 1,
          wrapStart: 0,
          wrapEnd: 64,
          prompt: prompt.length,
        });
        await dec.run(3);
      } else {
        await dec.run(prompt.length + 2);
      }
      const out = {
        ids: Array.from(await dec.readIds(prompt.length + 3)),
        logits: await dec.readLogits(),
      };
      dec.destroy();
      return out;
    };
    const stepwise = await logitsOf(false);
    const prefilled = await logitsOf(true);
    const e = relativeError(prefilled.logits, stepwise.logits);
    assert.ok(e <= 1e-4, `${what}: relative error ${e.toExponential(2)}`);
    assert.deepEqual(prefilled.ids, stepwise.ids, what);
  };
  const spec = shapeByName("llama-tiny");
  for (const fuseNorms of [false, true]) {
    const weights = uploadWeights(device, spec, randomHost(spec, 5), {
      dtype: "f32",
      layouts: ["row", "transposed"],
    });
    await check(weights, `llama-tiny${fuseNorms ? " (fused norms)" : ""}`, fuseNorms);
    if (!fuseNorms) {
      const sparse = await createDecoder(device, weights, {
        adapter: gpu!.facts,
        plan: uniformPlan(spec, "teal", { kind: "magnitude", threshold: 0.1 }),
      });
      assert.match(sparse.prefillRefusal ?? "", /sparse/);
      assert.equal(await sparse.prefill(3), false);
      sparse.destroy();
    }
    weights.destroy();
  }
  for (const file of ["models/lm-char.onnx", "models/lm-char-swiglu.onnx"]) {
    const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
    const weights = uploadWeights(device, imported.spec, imported.weights, {
      dtype: "f32",
      layouts: ["row"],
    });
    await check(weights, file);
    weights.destroy();
  }
});

Deno.test({
  name:
    "an f16 decoder's prefill with GEMMs gives the logits and next ids of the same decoder taking the prompt token by token (llama-tiny, norms fused or not)",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const spec = shapeByName("llama-tiny");
  const prompt = [5, 17, 200, 3, 99, 42, 7, 130, 64, 1, 11, 23].map((v) => v % spec.vocab);
  // Both paths read the same f16 halves. Without shader-f16 (CPU adapters) the token-by-token
  // step runs the blocks on the input-sparse GEMV over the transposed halves (every row kept) and
  // the head in f32, while the prefill's GEMM unpacks the row-major halves itself.
  const hasF16 = gpu!.hasF16;
  const weights = uploadWeights(device, spec, randomHost(spec, 6), {
    dtype: "f16",
    layouts: ["row", "transposed"],
    ...(hasF16 ? {} : { headDtype: "f32" as const }),
  });
  for (const fuseNorms of [false, true]) {
    const what = `f16 llama-tiny${fuseNorms ? " (fused norms)" : ""}`;
    const logitsOf = async (prefill: boolean) => {
      const dec = await createDecoder(device, weights, {
        adapter: gpu!.facts,
        maxContext: 64,
        fuseNorms,
        ...(hasF16 ? { hasF16 } : { denseKernel: "skip" as const }),
      });
      assert.equal(dec.kvDtype, "f16", what);
      dec.writeIds(Uint32Array.from(prompt));
      dec.setState({ pos: 0, wrapStart: 0, wrapEnd: 64, prompt: prompt.length });
      if (prefill) {
        assert.equal(dec.prefillRefusal, undefined, what);
        assert.ok(await dec.prefill(prompt.length - 1), what);
        dec.setState({ pos: prompt.length - 1, wrapStart: 0, wrapEnd: 64, prompt: prompt.length });
        await dec.run(3);
      } else {
        await dec.run(prompt.length + 2);
      }
      const out = {
        ids: Array.from(await dec.readIds(prompt.length + 3)),
        logits: await dec.readLogits(),
      };
      dec.destroy();
      return out;
    };
    const stepwise = await logitsOf(false);
    const prefilled = await logitsOf(true);
    const e = relativeError(prefilled.logits, stepwise.logits);
    // Within f16's rounding (2⁻¹¹): fused, the prefill reads rows with the norm weights folded in
    // and rounded to f16 once, which the transposed halves of a CPU adapter's step do not carry.
    assert.ok(e <= 1e-3, `${what}: relative error ${e.toExponential(2)}`);
    assert.deepEqual(prefilled.ids, stepwise.ids, what);
  }
  weights.destroy();
});
