import assert from "node:assert/strict";
import { acquireGpu } from "./gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { readBuffer, runOnce, storageBuffer, writeArray } from "./host.ts";
import { relativeError } from "./relative_error.ts";
import { fillBytes, fillCpu, fillRandom } from "./fill.ts";
import { addNormCpu, createAddNorm } from "./add_norm.ts";
import { createRopeCache, type KvDtype, ropeCacheCpu } from "./rope_cache.ts";
import { attentionCpu, createAttention } from "./attention.ts";
import { createNextToken, nextTokenCpu, stateWords } from "./next_token.ts";
import { createEmbed, embedCpu } from "./embed.ts";
import { createGlu, gluCpu } from "./glu.ts";
import { createThreshold, thresholdCpu } from "./threshold.ts";
import { createSkipGemv, skipGemvCpu } from "./skip_gemv.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`decode kernel tests skipped: ${(e as Error).message}`);
  return undefined;
});

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

async function readF32(buffer: GPUBuffer, n: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(gpu!.device, buffer, n * 4));
}

function close(out: Float32Array, ref: Float32Array, tol: number, what: string): void {
  for (let i = 0; i < out.length; i++) {
    assert.ok(Number.isFinite(out[i]!), `${what}: element ${i} is ${out[i]}`);
  }
  const e = relativeError(out, ref);
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(2)} > ${tol}`);
}

Deno.test({
  name: "fillRandom() writes the values fillCpu() computes, row-major, transposed and f16",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (
    const spec of [
      { rows: 37, cols: 24, seed: 5, scale: 0.5, offset: 0.25 },
      { rows: 37, cols: 24, seed: 5, scale: 0.5, offset: 0.25, transposed: true },
      { rows: 16, cols: 40, seed: 9, scale: 2, dtype: "f16" as const },
      { rows: 16, cols: 40, seed: 9, scale: 2, dtype: "f16" as const, transposed: true },
    ]
  ) {
    const buf = storageBuffer(device, "fill test", fillBytes(spec));
    await fillRandom(device, buf, spec);
    const raw = await readBuffer(device, buf, fillBytes(spec));
    const got = spec.dtype === "f16"
      ? Float32Array.from(new Float16Array(raw))
      : new Float32Array(raw);
    assert.deepEqual(Array.from(got), Array.from(fillCpu(spec)), JSON.stringify(spec));
  }
  // The transposed fill holds the same matrix.
  const a = fillCpu({ rows: 5, cols: 3, seed: 1, scale: 1 });
  const t = fillCpu({ rows: 5, cols: 3, seed: 1, scale: 1, transposed: true });
  assert.equal(a[2 * 3 + 1], t[1 * 5 + 2]);
});

Deno.test({
  name: "add_norm matches the reference: RMSNorm and LayerNorm, with and without split partials",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const n of [192, 1000]) {
    for (const kind of ["rms", "layer"] as const) {
      for (const splits of [0, 1, 3, 13]) {
        const x0 = random(n, n + splits);
        const add = random(n * Math.max(splits, 1), 2);
        const ab = random(n, 3);
        const w = random(n, 4);
        const b = random(n, 5);
        const x = storageBuffer(device, "x", x0);
        const step = await createAddNorm(device, {
          label: "t",
          n,
          kind,
          eps: 1e-5,
          x,
          weight: storageBuffer(device, "w", w),
          bias: storageBuffer(device, "b", b),
          ...(splits
            ? {
              addend: storageBuffer(device, "a", add),
              splits,
              addendBias: storageBuffer(device, "ab", ab),
            }
            : {}),
        });
        await runOnce(device, [step.dispatch]);
        const xr = x0.slice();
        const ref = addNormCpu(xr, {
          kind,
          weight: w,
          bias: b,
          eps: 1e-5,
          ...(splits ? { addend: add, splits, addendBias: ab } : {}),
        });
        close(await readF32(step.h, n), ref, 1e-5, `${kind} n=${n} splits=${splits}`);
        close(await readF32(x, n), xr, 1e-6, `${kind} residual`);
      }
    }
  }
});

/** The cache's contents as f32 (an f16 cache: two halves per word). */
async function readCache(buffer: GPUBuffer, n: number, kvDtype: KvDtype): Promise<Float32Array> {
  if (kvDtype === "f32") return await readF32(buffer, n);
  return Float32Array.from(new Float16Array(await readBuffer(gpu!.device, buffer, n * 2)));
}

/** A cache buffer holding `values` (rounded to f16 for an f16 cache). */
function cacheBuffer(values: Float32Array, kvDtype: KvDtype): GPUBuffer {
  return storageBuffer(gpu!.device, "cache", kvDtype === "f16" ? new Float16Array(values) : values);
}

/**
 * rope_cache then attention at several positions and forms, against ropeCacheCpu and attentionCpu
 * over the caches as stored.
 */
async function checkRopeAttention(
  shape: { heads: number; kvHeads: number; headDim: number },
  options: { kvDtype: KvDtype; tol: number },
): Promise<void> {
  const { device } = gpu!;
  const { kvDtype, tol } = options;
  const maxPositions = 150;
  const kvd = shape.kvHeads * shape.headDim;
  const n = (shape.heads + 2 * shape.kvHeads) * shape.headDim;
  const stored = (v: Float32Array) => (kvDtype === "f16" ? v.map((x) => Math.f16round(x)) : v);
  for (
    const [ropeBase, form] of [
      [undefined, "lanes"],
      [10000, "lanes"],
      [10000, "rows"],
      [10000, "fused"],
    ] as const
  ) {
    for (const pos of [0, 63, 64, 130]) {
      const kc0 = random(maxPositions * kvd, 7);
      const vc0 = random(maxPositions * kvd, 8);
      const qkv = random(2 * n, pos + 1);
      const bias = random(n, 9);
      const state = storageBuffer(
        device,
        "state",
        stateWords({ pos, wrapStart: 0, wrapEnd: 1000, prompt: 0 }),
      );
      const q = storageBuffer(device, "q", shape.heads * shape.headDim * 4);
      const kcache = cacheBuffer(kc0, kvDtype);
      const vcache = cacheBuffer(vc0, kvDtype);
      const rope = await createRopeCache(device, {
        label: "t",
        ...shape,
        ...(ropeBase !== undefined ? { ropeBase } : {}),
        qkv: storageBuffer(device, "qkv", qkv),
        splits: 2,
        bias: storageBuffer(device, "bias", bias),
        state,
        q,
        kcache,
        vcache,
        kvDtype,
      });
      const attn = await createAttention(device, {
        label: "t",
        ...shape,
        scale: 0.25,
        maxPositions,
        form: form === "rows" ? "rows" : "lanes",
        ...(form === "fused" ? { fused: true, chunk: 32 } : {}),
        q,
        kcache,
        vcache,
        state,
        kvDtype,
      });
      assert.equal(attn.dispatches.length, form === "fused" ? 1 : 2);
      await runOnce(device, [rope, ...attn.dispatches]);
      const kc = stored(kc0);
      const vc = stored(vc0);
      const qr = ropeCacheCpu(qkv, {
        ...shape,
        pos,
        ...(ropeBase !== undefined ? { ropeBase } : {}),
        kcache: kc,
        vcache: vc,
        bias,
        splits: 2,
        kvDtype,
      });
      const what = `${kvDtype} ${form} pos=${pos}`;
      close(await readF32(q, qr.length), qr, 1e-5, `q ${what}`);
      close(await readCache(kcache, kc.length, kvDtype), kc, tol, `k cache ${what}`);
      close(await readCache(vcache, vc.length, kvDtype), vc, tol, `v cache ${what}`);
      const ref = attentionCpu(qr, { ...shape, kcache: kc, vcache: vc, len: pos + 1, scale: 0.25 });
      close(await readF32(attn.out, ref.length), ref, tol, `attention ${what}`);
      // Again: the fused pass must have reset its arrival counters.
      await runOnce(device, attn.dispatches);
      close(await readF32(attn.out, ref.length), ref, tol, `attention again ${what}`);
    }
  }
}

Deno.test({
  name:
    "rope_cache and attention match the references (GQA, RoPE, several chunks, the fused combine run twice)",
  ignore: !gpu,
}, async () => {
  await checkRopeAttention({ heads: 4, kvHeads: 2, headDim: 16 }, { kvDtype: "f32", tol: 1e-5 });
});

Deno.test({
  name:
    "with an f16 KV cache, rope_cache stores f16-rounded k and v and attention over them matches the reference (GQA, lanes, rows, fused)",
  ignore: !gpu,
}, async () => {
  await checkRopeAttention({ heads: 4, kvHeads: 2, headDim: 32 }, { kvDtype: "f16", tol: 1e-3 });
});

Deno.test({
  name: "embed, glu and next_token match the references; next_token keeps prompt ids and wraps",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const d = 40;
  const table = random(10 * d, 1);
  const positions = random(8 * d, 2);
  const ids = Uint32Array.of(3, 7, 1, 0, 0, 0, 0, 0);
  const idsBuf = storageBuffer(device, "ids", ids);
  const state = storageBuffer(
    device,
    "state",
    stateWords({ pos: 1, wrapStart: 2, wrapEnd: 4, prompt: 3 }),
  );
  const x = storageBuffer(device, "x", d * 4);
  const embed = await createEmbed(device, {
    label: "t",
    d,
    table: storageBuffer(device, "E", table),
    positions: storageBuffer(device, "P", positions),
    ids: idsBuf,
    state,
    x,
  });
  await runOnce(device, [embed]);
  close(await readF32(x, d), embedCpu(table, 7, { d, positions, pos: 1 }), 1e-7, "embed");

  for (const gated of [true, false]) {
    for (const act of ["silu", "gelu", "relu", "gelu-tanh"] as const) {
      const ff = 300;
      const gu = random((gated ? 2 : 1) * ff * 3, 4);
      const bias = random((gated ? 2 : 1) * ff, 5);
      const thresholds = storageBuffer(device, "t", Float32Array.of(0, 0.3));
      const step = await createGlu(device, {
        label: "t",
        ff,
        gated,
        act,
        gu: storageBuffer(device, "gu", gu),
        splits: 3,
        bias: storageBuffer(device, "b", bias),
        ...(gated ? { gateThreshold: { thresholds, slot: 1 } } : {}),
      });
      await runOnce(device, [step.dispatch]);
      const ref = gluCpu(gu, {
        ff,
        gated,
        act,
        bias,
        splits: 3,
        ...(gated ? { gateThreshold: 0.3 } : {}),
      });
      close(await readF32(step.h, ff), ref, 1e-5, `glu ${act} gated=${gated}`);
    }
  }

  const vocab = 333;
  const logits = random(vocab, 6);
  const nll = storageBuffer(device, "nll", 8 * 4);
  const next = await createNextToken(device, {
    label: "t",
    vocab,
    logits: storageBuffer(device, "logits", logits),
    state,
    ids: idsBuf,
    nll,
    preds: storageBuffer(device, "preds", 8 * 4),
    withNll: true,
  });
  // pos 1 → 2 (prompt holds id 2: kept, nll written), 2 → 3 (generated), 3 → wraps to 2.
  const cpuState = { pos: 1, wrapStart: 2, wrapEnd: 4, prompt: 3 };
  const cpuIds = ids.slice();
  const r1 = nextTokenCpu(logits, cpuState, cpuIds);
  nextTokenCpu(logits, cpuState, cpuIds);
  nextTokenCpu(logits, cpuState, cpuIds);
  await runOnce(device, [next, next, next]);
  assert.deepEqual(
    Array.from(new Uint32Array(await readBuffer(device, idsBuf, 32))),
    Array.from(cpuIds),
  );
  assert.deepEqual(Array.from(new Uint32Array(await readBuffer(device, state, 16))), [
    cpuState.pos,
    2,
    4,
    3,
  ]);
  const gotNll = (await readF32(nll, 8))[1]!;
  assert.ok(Math.abs(gotNll - r1.nll!) < 1e-5, `nll ${gotNll} vs ${r1.nll}`);
});

Deno.test({
  name: "threshold and skip_gemv match the references: exact fractions, stat, f32 and f16",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  for (const [k, n] of [[192, 576], [640, 192], [1000, 64]] as const) {
    const x = random(k, k);
    const scale = Float32Array.from(random(k, 3), (v) => Math.abs(v) + 0.1);
    const xBuf = storageBuffer(device, "x", x);
    const thresholds = storageBuffer(device, "t", 4 * 4);
    const counts = storageBuffer(device, "counts", 4 * 4);
    for (
      const rule of [
        { kind: "fraction" as const, drop: 0 },
        { kind: "fraction" as const, drop: Math.round(k * 0.5) },
        { kind: "fraction" as const, drop: Math.round(k * 0.9), scale },
        { kind: "stat" as const, z: 0.5 },
      ]
    ) {
      const step = await createThreshold(device, {
        label: "t",
        n: k,
        rule,
        x: xBuf,
        thresholds,
        slot: 2,
      });
      await runOnce(device, [step]);
      const t = (await readF32(thresholds, 4))[2]!;
      const tRef = thresholdCpu(x, rule);
      // The fraction rule selects an element exactly; the statistic sums in another order.
      if (rule.kind === "fraction") assert.equal(t, tRef, `threshold fraction k=${k}`);
      else assert.ok(Math.abs(t - tRef) < 1e-5, `threshold stat k=${k}: ${t} vs ${tRef}`);
      for (
        const [dtype, compact, stage] of [
          ["f32", true, false],
          ["f16", true, false],
          ["f32", false, true],
          ["f16", false, false],
        ] as const
      ) {
        const wt = random(k * n, n + 1);
        const stored = dtype === "f16" ? Float32Array.from(new Float16Array(wt)) : wt;
        const skipRule = rule.kind === "stat"
          ? { kind: "value" as const }
          : { kind: "magnitude" as const, ...("scale" in rule ? { scale: rule.scale } : {}) };
        const g = await createSkipGemv(device, {
          label: "t",
          k,
          n,
          dtype,
          weightT: storageBuffer(
            device,
            "wt",
            dtype === "f16" ? new Float16Array(wt) : wt,
          ),
          x: xBuf,
          rule: skipRule,
          thresholds,
          slot: 2,
          rowsPerSplit: 100,
          compact,
          stage,
          counts,
        });
        writeArray(device, counts, new Uint32Array(4));
        await runOnce(device, [g.dispatch]);
        const parts = await readF32(g.partials, g.splits * n);
        const y = new Float32Array(n);
        for (let s = 0; s < g.splits; s++) for (let c = 0; c < n; c++) y[c]! += parts[s * n + c]!;
        const ref = skipGemvCpu(stored, x, { n, rule: skipRule, threshold: t });
        if (rule.kind === "fraction") assert.equal(ref.kept, k - rule.drop);
        const counted = new Uint32Array(await readBuffer(device, counts, 16))[2];
        assert.equal(counted, ref.kept, `kept count ${dtype} compact=${compact} stage=${stage}`);
        close(
          y,
          ref.y,
          1e-5,
          `skip_gemv ${dtype} compact=${compact} stage=${stage} ${rule.kind} ${k}x${n}`,
        );
      }
    }
  }
});

Deno.test({
  name:
    "skip_gemv with the norm fused in and its output added into the stream equals its reference, token after token",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const eps = 1e-5;
  for (const [k, n] of [[192, 576], [640, 192]] as const) {
    const x = Float32Array.from(random(k, k + 7), (v) => 3 * v);
    const gain = Float32Array.from(random(k, k + 8), (v) => 1 + 0.5 * v);
    const scale = Float32Array.from(random(k, k + 9), (v) => Math.abs(v) + 0.1);
    const bias = random(n, n + 3);
    const stream0 = random(n, n + 4);
    const xBuf = storageBuffer(device, "x", x);
    const gainBuf = storageBuffer(device, "gain", gain);
    const thresholds = storageBuffer(device, "t", new Float32Array([0, 0.6, 0, 0]));
    const counts = storageBuffer(device, "counts", 4 * 4);
    for (
      const [dtype, compact, wg, lanes, splits, normIn, residual, scaled] of [
        ["f32", false, 64, 32, 5, true, false, false],
        ["f16", false, 64, 16, 7, true, true, true],
        ["f16", true, 64, 16, 4, false, true, false],
        ["f32", true, 64, 64, 3, true, true, false],
        // The H200's launch shape: lanes × 2 vec4s fill a 256-thread workgroup's last sum.
        ["f16", false, 256, 128, 6, true, true, false],
      ] as const
    ) {
      const wt = random(k * n, n + 11);
      const stored = dtype === "f16" ? Float32Array.from(new Float16Array(wt)) : wt;
      const rule = { kind: "magnitude" as const, ...(scaled ? { scale } : {}) };
      const stream = storageBuffer(device, "stream", stream0);
      const what = `${dtype} compact=${compact} WG=${wg} L=${lanes} S=${splits} normIn=${normIn} ` +
        `residual=${residual} ${k}x${n}`;
      const g = await createSkipGemv(device, {
        label: "t",
        k,
        n,
        dtype,
        weightT: storageBuffer(device, "wt", dtype === "f16" ? new Float16Array(wt) : wt),
        x: xBuf,
        rule,
        thresholds,
        slot: 1,
        workgroupSize: wg,
        lanes,
        splits,
        compact,
        stage: false,
        counts,
        ...(normIn ? { normIn: { eps, gain: gainBuf } } : {}),
        ...(residual ? { residual: { into: stream, bias: storageBuffer(device, "b", bias) } } : {}),
      });
      assert.equal(g.splits, splits, what);
      const ref = skipGemvCpu(stored, x, {
        n,
        rule,
        threshold: 0.6,
        ...(normIn ? { normIn: { eps, gain } } : {}),
      });
      assert.ok(ref.kept > 0 && ref.kept < k, `${what}: the rule keeps some inputs, not all`);
      writeArray(device, counts, new Uint32Array(4));
      // Three tokens: the residual form must reset its arrival counters each time.
      for (let token = 1; token <= 3; token++) {
        await runOnce(device, [g.dispatch]);
        let y: Float32Array;
        let want: Float32Array;
        if (residual) {
          y = await readF32(stream, n);
          want = Float32Array.from(stream0, (s, c) => s + token * (ref.y[c]! + bias[c]!));
        } else {
          const parts = await readF32(g.partials, g.splits * n);
          y = new Float32Array(n);
          for (let s = 0; s < g.splits; s++) {
            for (let c = 0; c < n; c++) y[c]! += parts[s * n + c]!;
          }
          want = ref.y;
        }
        close(y, want, 1e-5, `${what} token ${token}`);
      }
      const counted = new Uint32Array(await readBuffer(device, counts, 16))[1];
      assert.equal(counted, 3 * ref.kept, `${what}: kept count`);
    }
  }
});
