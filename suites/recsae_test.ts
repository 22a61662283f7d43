import assert from "node:assert/strict";
import {
  buildDictionary,
  cooccurrence,
  fvu,
  hitAndNdcg,
  meanCi,
  rankOf,
  type SparseActivations,
  topIndices,
  validate,
  wilson,
} from "./recsae_metrics.ts";
import { activeList, decoderCpu, decoderModels } from "./recsae_decoder.ts";
import { createBackend } from "../src/backends/mod.ts";
import { createRng } from "../lib/prng.ts";
import { recsaeReport, withCi } from "./recsae_report.ts";
import { emptyCell } from "../src/result.ts";
import { RECSAE_PINS } from "./recsae_run.ts";
import { sha256File } from "../lib/sha256.ts";
import { repoPath } from "../lib/repo_root.ts";
import { loadWordSequences } from "../datasets/word_sequences.ts";

Deno.test("fvu() is 0 for a perfect reconstruction and 1 for the mean row", () => {
  const h = Float32Array.of(1, 2, 3, 4, 5, 9);
  assert.equal(fvu(h, h, 2), 0);
  const mean = Float32Array.of(3, 5, 3, 5, 3, 5);
  assert.ok(Math.abs(fvu(h, mean, 2) - 1) < 1e-12);
});

Deno.test("rankOf() and hitAndNdcg() score a target over the whole catalogue", () => {
  const scores = Float32Array.of(0.1, 0.9, 0.5, 0.7);
  assert.equal(rankOf(scores, 1), 0);
  assert.equal(rankOf(scores, 2), 2);
  assert.deepEqual(hitAndNdcg(0), { hit: 1, ndcg: 1 });
  assert.deepEqual(hitAndNdcg(2, 2), { hit: 0, ndcg: 0 });
  assert.ok(Math.abs(hitAndNdcg(2).ndcg - 0.5) < 1e-12);
});

Deno.test("topIndices() returns the k best, best first, equal to a full sort", () => {
  const rng = createRng(3);
  const x = Float32Array.from({ length: 500 }, () => rng.normal());
  const want = [...x.keys()].sort((a, b) => x[b]! - x[a]!).slice(0, 10);
  assert.deepEqual(topIndices(x, 10), want);
});

Deno.test("meanCi() brackets the mean; wilson() brackets the proportion and has no interval at n = 0", () => {
  const rng = createRng(1);
  const xs = Array.from({ length: 400 }, () => rng.normal() + 2);
  const m = meanCi(xs);
  assert.ok(m.low < m.value && m.value < m.high && m.high - m.low < 0.5);
  const w = wilson(30, 100);
  assert.ok(w.low < 0.3 && w.high > 0.3);
  assert.ok(Number.isNaN(wilson(0, 0).value));
});

Deno.test("the concept dictionary gives a latent the concept it fires with, and validation scores it on new sequences", () => {
  // Latent 0 fires exactly on concept 1; latent 1 fires everywhere; latent 2 never.
  const make = (n: number, seed: number) => {
    const rng = createRng(seed);
    const labels = [new Uint8Array(n), new Uint8Array(n)];
    const off = new Uint32Array(n + 1);
    const idx: number[] = [];
    for (let s = 0; s < n; s++) {
      labels[0]![s] = rng.int(2);
      labels[1]![s] = rng.int(10) === 0 ? 1 : 0;
      if (labels[1]![s]) idx.push(0);
      idx.push(1);
      off[s + 1] = idx.length;
    }
    const acts: SparseActivations = { count: n, off, idx: Uint16Array.from(idx) };
    return cooccurrence(acts, labels, 3);
  };
  const dict = buildDictionary(make(2000, 1), { minFires: 20, minF1: 0.1, minLift: 2 });
  assert.deepEqual(dict.map((e) => [e.latent, e.concept]), [[0, 1]]);
  const [v] = validate(dict, make(1000, 2));
  assert.equal(v!.precision.value, 1);
  assert.equal(v!.recall.value, 1);
  assert.equal(v!.confidence, 1);
});

Deno.test("the decoder's dense and sparse ORT graphs equal the CPU reference", async () => {
  const rng = createRng(5);
  const latents = 256;
  const width = 16;
  const decT = Float32Array.from({ length: latents * width }, () => rng.normal());
  const bias = Float32Array.from({ length: width }, () => rng.normal());
  const z = new Float32Array(latents);
  for (let i = 0; i < 8; i++) z[rng.int(latents)] = 1 + rng.int(5);
  const list = activeList(z);
  const want = decoderCpu({ decT, bias, latents, width, z });
  const models = decoderModels({ decT, bias, latents, width }, list.idx.length);
  const backend = await createBackend("ort-wasm");
  const dense = await backend.load(models.dense, {
    label: "dense",
    feeds: { z: { type: "float32", data: z, dims: [1, latents] } },
  });
  const sparseFeeds = {
    idx: {
      type: "int64" as const,
      data: BigInt64Array.from(list.idx, BigInt),
      dims: [list.idx.length],
    },
    vals: { type: "float32" as const, data: list.vals, dims: [1, list.idx.length] },
  };
  const sparse = await backend.load(models.sparse, { label: "sparse", feeds: sparseFeeds });
  const a = (await dense.run({ z: { type: "float32", data: z, dims: [1, latents] } })).y!
    .data as Float32Array;
  const b = (await sparse.run(sparseFeeds)).y!.data as Float32Array;
  for (let i = 0; i < width; i++) {
    assert.ok(Math.abs(a[i]! - want[i]!) < 1e-4 && Math.abs(b[i]! - want[i]!) < 1e-4);
  }
  await dense.release();
  await sparse.release();
});

Deno.test("the RecSAE report states FVU, dead latents, HR@10 both ways and concept precision/recall", () => {
  const cell = (key: string, method: string, extra: Record<string, number | string>) => ({
    ...emptyCell({
      key,
      suite: "recsae",
      model: "recsae-words",
      model_sha256: "",
      dataset: "word-sequences",
      dataset_hash: "",
      target: "ort-wasm",
      device: "cpu",
      method,
      params: "{}",
      sparsity_target: null,
      metric: "hr@10",
    }),
    eval_samples: 100,
    extra,
  });
  const q = cell("recsae|quality", "sae-reconstruction", {
    fvu: 0.1,
    fvu_low: 0.09,
    fvu_high: 0.11,
    dead_ratio: 0.2,
    dead_ratio_with_build: 0.05,
    hr10_original: 0.3,
    hr10_recon: 0.29,
  });
  const all = cell("recsae|concepts/all", "concept-dictionary", {
    latents: 10,
    alive_latents: 100,
    precision: 0.4,
    recall: 0.3,
    confidence: 0.2,
  });
  assert.equal(withCi(q, "fvu"), "0.1000 [0.0900, 0.1100]");
  const text = recsaeReport.findings!([q, all], {} as never).map((f) => f.text).join(" ");
  for (
    const want of [
      "FVU 0.1000",
      "5.0 % of latents are dead",
      "HR@10 0.3000",
      "0.2900",
      "precision 0.4000",
      "recall 0.3000",
    ]
  ) {
    assert.ok(text.includes(want), `${want} missing from: ${text}`);
  }
});

Deno.test("the recsae pins match the model files, their cards and the word sequences", async () => {
  for (const pin of [RECSAE_PINS.sasrec, RECSAE_PINS.sae]) {
    assert.equal(await sha256File(repoPath(pin.path)), pin.sha256, pin.path);
    const card = await Deno.readTextFile(repoPath(`models/${pin.id}.md`));
    const block = card.match(/```json\n([\s\S]*?)\n```/);
    assert.ok(block, `models/${pin.id}.md has no json block`);
    const facts = JSON.parse(block[1]!);
    assert.equal(facts.sha256, pin.sha256);
    assert.equal(facts.bytes, (await Deno.stat(repoPath(pin.path))).size);
    assert.equal(facts.dataset_hash, RECSAE_PINS.dataHash);
  }
  assert.equal((await loadWordSequences()).hash, RECSAE_PINS.dataHash);
});
