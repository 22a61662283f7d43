/**
 * `recsae`: RecSAE (Wang et al. 2024) on a sequential recommender, measured on ORT. A top-k SAE
 * (recsae-words: k = 32 of 2,048 latents) reads the hidden state of SASRec (sasrec-words:
 * embedding 64, one layer, one head, history 20), both trained here on the word-sequence
 * substitute for interaction logs (datasets/word_sequences.ts; see the model cards). Reports:
 *
 * - reconstruction: FVU, the dead-latent ratio, HR@10 / NDCG@10 over the full 2,000-item
 *   catalogue with SASRec's hidden state and with the SAE's reconstruction in its place;
 * - the concept dictionary: each latent gets the word-list concept (at the history's latest word,
 *   or at the word to recommend) that best predicts its activation on building sequences (train
 *   split); on new sequences (evaluation split) the concept predicts the latent's activation:
 *   precision, recall, and confidence = their F1;
 * - ablation: zeroing a concept's latents on the sequences where they fire moves probability off
 *   the concept's signature items (the 20 that SASRec favours most where the concept is), beside
 *   zeroing another active latent of the same sequences;
 * - the decoder as an input-sparse GEMV (≥ 98.4 % of its inputs zero), dense vs sparse on every
 *   target.
 *
 * Every figure carries a 95 % interval: bootstrap over sequences (or latents), Wilson for the
 * proportions, paired bootstrap for speedups.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell, CustomSuiteContext } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import type { TargetId } from "../src/backend.ts";
import type { TimingPolicy } from "../src/timing.ts";
import { createRng } from "../lib/prng.ts";
import { repoPath } from "../lib/repo_root.ts";
import { decodeModel } from "../src/onnx/model.ts";
import { CONCEPT_FILES } from "../datasets/word_sequences.ts";
import { readFloats } from "../src/onnx/tensor_data.ts";
import {
  bootstrap,
  buildDictionary,
  cooccurrence,
  type DictionaryEntry,
  type DictionaryRule,
  type Estimate,
  fvuParts,
  hitAndNdcg,
  meanCi,
  topIndices,
  validate,
  type Validation,
} from "./recsae_metrics.ts";
import { HIDDEN, LATENTS, RECSAE_PINS, RecsaeRun } from "./recsae_run.ts";
import {
  type DecoderCase,
  decoderSpeedup,
  type DecoderTiming,
  timeOrtDecoder,
  timeWgslDecoder,
} from "./recsae_decoder.ts";

/** The dictionary's acceptance rule (see `DictionaryRule`). */
export const DICTIONARY_RULE: DictionaryRule = { minFires: 20, minF1: 0.1, minLift: 2 };
/** Latents ablated per concept label, the most confident first. */
const ABLATED_LATENTS = 6;
/** Evaluation sequences per ablated latent, at most. */
const ABLATION_SEQUENCES = 200;

type RecsaeCell = CustomCell & {
  measure: (ctx: CustomSuiteContext) => Promise<Partial<CellResult>>;
};

const r4 = (v: number) => Number(v.toFixed(4));
const r6 = (v: number) => Number(v.toPrecision(6));
const ci = (name: string, e: Estimate) => ({
  [name]: r6(e.value),
  [`${name}_low`]: r6(e.low),
  [`${name}_high`]: r6(e.high),
});

/** One run's state: the models' outputs, the dictionary, the decoder timings. */
class Study {
  readonly run: RecsaeRun;
  #dictionary: { entries: DictionaryEntry[]; validations: Validation[]; alive: number } | undefined;
  readonly #timings = new Map<string, Promise<DecoderTiming | string>>();

  constructor(quick: boolean) {
    this.run = new RecsaeRun(quick);
  }

  base(): Partial<CellResult> {
    return {
      model: RECSAE_PINS.sae.id,
      model_sha256: RECSAE_PINS.sae.sha256,
      dataset: "word-sequences",
      dataset_hash: RECSAE_PINS.dataHash,
    };
  }

  async quality(ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
    await this.run.prepare(ctx.progress);
    const ev = this.run.evaluation;
    const n = ev.targets.length;
    const parts = fvuParts(ev.hidden, ev.recon, HIDDEN);
    const fvu = bootstrap(n, (rows) => {
      let e = 0;
      let v = 0;
      for (const i of rows) {
        e += parts[i]!.error;
        v += parts[i]!.variance;
      }
      return e / v;
    });
    const per = (ranks: Int32Array) => Array.from(ranks, (r) => hitAndNdcg(r, 10));
    const orig = per(ev.rankOriginal);
    const rec = per(ev.rankRecon);
    const hrO = meanCi(orig.map((x) => x.hit), 1);
    const hrR = meanCi(rec.map((x) => x.hit), 2);
    const ndO = meanCi(orig.map((x) => x.ndcg), 3);
    const ndR = meanCi(rec.map((x) => x.ndcg), 4);
    const dHr = meanCi(rec.map((x, i) => x.hit - orig[i]!.hit), 5);
    const dead = (sets: { off: Uint32Array; idx: Uint16Array }[]) => {
      const fired = new Uint8Array(LATENTS);
      for (const s of sets) for (const j of s.idx) fired[j] = 1;
      return 1 - fired.reduce((a, b) => a + b, 0) / LATENTS;
    };
    const activePerSeq = ev.acts.idx.length / n;
    return {
      ...this.base(),
      metric: "hr@10",
      accuracy: hrR.value,
      accuracy_dense: hrO.value,
      gate: hrR.value >= 0.99 * hrO.value ? "pass" : "fail",
      eval_samples: n,
      sparsity_realized: 1 - activePerSeq / LATENTS,
      notes: JSON.stringify({
        recommender: RECSAE_PINS.sasrec.id,
        recommender_sha256: RECSAE_PINS.sasrec.sha256,
        build_sequences: this.run.build.targets.length,
      }),
      extra: {
        ...ci("fvu", fvu),
        dead_ratio: r4(dead([ev.acts])),
        dead_ratio_with_build: r4(dead([ev.acts, this.run.build.acts])),
        active_latents_mean: r4(activePerSeq),
        ...ci("hr10_original", hrO),
        ...ci("hr10_recon", hrR),
        ...ci("hr10_delta", dHr),
        ...ci("ndcg10_original", ndO),
        ...ci("ndcg10_recon", ndR),
      },
    };
  }

  async dictionary(ctx: CustomSuiteContext) {
    await this.run.prepare(ctx.progress);
    if (!this.#dictionary) {
      const build = cooccurrence(this.run.build.acts, this.run.build.labels, LATENTS);
      const entries = buildDictionary(build, DICTIONARY_RULE);
      const evaluation = cooccurrence(
        this.run.evaluation.acts,
        this.run.evaluation.labels,
        LATENTS,
      );
      const alive = build.fires.filter((f) => f >= DICTIONARY_RULE.minFires).length;
      this.#dictionary = { entries, validations: validate(entries, evaluation), alive };
    }
    return this.#dictionary;
  }

  async conceptsCell(ctx: CustomSuiteContext, label?: number): Promise<Partial<CellResult>> {
    const d = await this.dictionary(ctx);
    const labels = this.run.labels;
    const vs = label === undefined
      ? d.validations
      : d.validations.filter((v) => v.entry.concept === label);
    const ev = this.run.evaluation;
    // A concept absent from the new sequences (or a latent silent there) has no precision (or
    // recall): such entries leave the mean rather than count as zero.
    const defined = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
    const summary = (xs: Validation[]) => ({
      ...ci("precision", meanCi(defined(xs.map((v) => v.precision.value)), 11)),
      ...ci("recall", meanCi(defined(xs.map((v) => v.recall.value)), 12)),
      ...ci("confidence", meanCi(defined(xs.map((v) => v.confidence)), 13)),
      build_precision: r4(mean(xs.map((v) => v.entry.build.precision))),
      build_recall: r4(mean(xs.map((v) => v.entry.build.recall))),
    });
    const extra: CellResult["extra"] = {
      latents: vs.length,
      alive_latents: d.alive,
      ...(vs.length > 0 ? summary(vs) : {}),
    };
    if (label === undefined) {
      extra.interpreted_ratio = r4(vs.length / Math.max(1, d.alive));
      extra.per_label = JSON.stringify(Object.fromEntries(
        labels.map((l, i) => [l.id, d.validations.filter((v) => v.entry.concept === i).length]),
      ));
    } else {
      const l = labels[label]!;
      extra.label = l.id;
      extra.concept = this.run.data.concepts[l.concept]!.name;
      extra.position = l.position;
      extra.catalogue_words = this.run.data.concepts[l.concept]!.words.length;
      extra.base_rate = r4(mean(Array.from(ev.labels[label]!)));
      const best = [...vs].sort((a, b) => b.confidence - a.confidence)[0];
      if (best) {
        extra.best_latent = best.entry.latent;
        Object.assign(extra, ci("best_precision", best.precision), ci("best_recall", best.recall));
        extra.best_confidence = r4(best.confidence);
      }
    }
    return {
      ...this.base(),
      metric: "confidence",
      accuracy: vs.length > 0 ? mean(defined(vs.map((v) => v.confidence))) : null,
      eval_samples: ev.targets.length,
      extra,
    };
  }

  async ablationCell(ctx: CustomSuiteContext, label: number): Promise<Partial<CellResult>> {
    const d = await this.dictionary(ctx);
    const l = this.run.labels[label]!;
    // What the concept predicts: its signature items (those SASRec favours where the concept is,
    // on the building sequences) lose probability once the concept's latents are gone.
    const mask = this.run.build.signatures[label]!;
    const mine = d.validations.filter((v) => v.entry.concept === label)
      .sort((a, b) => b.entry.build.f1 - a.entry.build.f1)
      .slice(0, ABLATED_LATENTS);
    if (mine.length === 0) {
      return { status: "skipped", error: `no latent has the concept ${l.id} in the dictionary` };
    }
    const ofLabel = new Set(mine.map((v) => v.entry.latent));
    for (const v of d.validations) if (v.entry.concept === label) ofLabel.add(v.entry.latent);
    const ev = this.run.evaluation;
    const items = this.run.data.items.length;
    const rng = createRng(100 + label);
    const dShare: number[] = [];
    const dShareControl: number[] = [];
    const dMass: number[] = [];
    const dMassControl: number[] = [];
    for (const v of mine) {
      const j = v.entry.latent;
      const seqs: number[] = [];
      for (let s = 0; s < ev.acts.count && seqs.length < ABLATION_SEQUENCES; s++) {
        for (let i = ev.acts.off[s]!; i < ev.acts.off[s + 1]!; i++) {
          if (ev.acts.idx[i] === j) {
            seqs.push(s);
            break;
          }
        }
      }
      const b = seqs.length;
      if (b === 0) continue; // silent on the evaluation sequences: nothing to ablate
      const hidden = new Float32Array(b * HIDDEN);
      seqs.forEach((s, r) =>
        hidden.set(ev.hidden.subarray(s * HIDDEN, (s + 1) * HIDDEN), r * HIDDEN)
      );
      const ones = new Float32Array(b * LATENTS).fill(1);
      const ablate = ones.slice();
      const control = ones.slice();
      seqs.forEach((s, r) => {
        ablate[r * LATENTS + j] = 0;
        const others: number[] = [];
        for (let i = ev.acts.off[s]!; i < ev.acts.off[s + 1]!; i++) {
          if (!ofLabel.has(ev.acts.idx[i]!)) others.push(ev.acts.idx[i]!);
        }
        if (others.length > 0) control[r * LATENTS + others[rng.int(others.length)]!] = 0;
      });
      const base = (await this.run.saeOf(hidden, ones)).logits;
      const abl = (await this.run.saeOf(hidden, ablate)).logits;
      const ctl = (await this.run.saeOf(hidden, control)).logits;
      for (let r = 0; r < b; r++) {
        const row = (x: Float32Array) => x.subarray(r * items, (r + 1) * items);
        const s0 = conceptShare(row(base), mask);
        dShare.push(conceptShare(row(abl), mask) - s0);
        dShareControl.push(conceptShare(row(ctl), mask) - s0);
        const m0 = conceptMass(row(base), mask);
        dMass.push(conceptMass(row(abl), mask) - m0);
        dMassControl.push(conceptMass(row(ctl), mask) - m0);
      }
    }
    if (dShare.length === 0) {
      return {
        status: "skipped",
        error: `the latents of ${l.id} fire on none of the evaluation sequences`,
      };
    }
    const share = meanCi(dShare, 21);
    const shareControl = meanCi(dShareControl, 22);
    const mass = meanCi(dMass, 23);
    const massControl = meanCi(dMassControl, 24);
    return {
      ...this.base(),
      metric: "signature_mass_delta",
      accuracy: mass.value,
      eval_samples: dShare.length,
      extra: {
        label: l.id,
        concept: this.run.data.concepts[l.concept]!.name,
        position: l.position,
        latents: mine.map((v) => v.entry.latent).join(" "),
        signature: this.run.data.items.filter((_, i) => mask[i]).slice(0, 10).join(" "),
        ...ci("top10_share_delta", share),
        ...ci("top10_share_delta_control", shareControl),
        ...ci("mass_delta", mass),
        ...ci("mass_delta_control", massControl),
        as_predicted: mass.high < 0 && mass.high < massControl.low ? "yes" : "no",
      },
    };
  }

  async decoderCase(ctx: CustomSuiteContext): Promise<DecoderCase> {
    await this.run.prepare(ctx.progress);
    const model = decodeModel(await Deno.readFile(repoPath(RECSAE_PINS.sae.path)));
    const init = (name: string) => {
      const t = model.graph?.initializer?.find((x) => x.name === name);
      if (!t) throw new Error(`${RECSAE_PINS.sae.path} has no initializer ${name}; re-export it`);
      return readFloats(t);
    };
    const ev = this.run.evaluation;
    const z = new Float32Array(LATENTS);
    const { latents } = await this.run.saeOf(
      ev.hidden.subarray(0, HIDDEN),
      new Float32Array(LATENTS).fill(1),
    );
    z.set(latents);
    return { decT: init("sae.dec_t"), bias: init("sae.b_dec"), latents: LATENTS, width: HIDDEN, z };
  }

  timing(target: string, ctx: CustomSuiteContext): Promise<DecoderTiming | string> {
    if (!this.#timings.has(target)) {
      this.#timings.set(
        target,
        (async () => {
          const c = await this.decoderCase(ctx);
          ctx.progress(`recsae: decoder dense vs sparse on ${target}`);
          const rounds = ctx.quick ? 5 : 11;
          if (target === "wgsl") return await timeWgslDecoder(c, { rounds });
          if (target === "wgsl-list") return await timeWgslDecoder(c, { rounds, input: "list" });
          return await timeOrtDecoder(target, c, policyFor(target, ctx.quick));
        })(),
      );
    }
    return this.#timings.get(target)!;
  }

  async decoderCell(
    target: string,
    sparse: boolean,
    ctx: CustomSuiteContext,
  ): Promise<Partial<CellResult>> {
    const t = await this.timing(target, ctx);
    if (typeof t === "string") return { status: "skipped", error: t };
    if (t.denseMs.length === 0) {
      throw new Error(
        `decoder on ${target}: no round gave positive samples; rerun on a quieter machine`,
      );
    }
    const s = decoderSpeedup(t);
    const own = sparse ? s.sparse : s.dense;
    const active = (await this.decoderCase(ctx)).z.filter((v) => v !== 0).length;
    return {
      ...this.base(),
      sparsity_target: sparse ? 1 - active / LATENTS : null,
      sparsity_realized: sparse ? 1 - active / LATENTS : null,
      flops_dense: 2 * LATENTS * HIDDEN,
      flops_effective: sparse ? 2 * active * HIDDEN : 2 * LATENTS * HIDDEN,
      flops_reduction: sparse ? LATENTS / active : 1,
      weight_bytes_effective: (sparse ? active : LATENTS) * HIDDEN * 4,
      time_median_ms: own.medianMs,
      time_p10_ms: own.p10Ms,
      time_p90_ms: own.p90Ms,
      time_mad_ms: own.madMs,
      runs: own.count,
      outliers: own.outliers,
      speedup: sparse ? s.speedup.value : 1,
      speedup_ci_low: sparse ? s.speedup.low : null,
      speedup_ci_high: sparse ? s.speedup.high : null,
      dense_paired_median_ms: s.dense.medianMs,
      time_basis: "interleaved",
      samples_ms: sparse ? t.sparseMs : t.denseMs,
      dense_samples_ms: t.denseMs,
      extra: {
        kernel: sparse ? t.forms.sparse : t.forms.dense,
        shape: `${LATENTS}x${HIDDEN}`,
        active_inputs: active,
        timing: t.source,
        rel_error: r6(sparse ? t.errors.sparse : t.errors.dense),
        ideal_speedup: r4(LATENTS / active),
        ...(t.droppedRounds ? { dropped_rounds: t.droppedRounds } : {}),
      },
    };
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The share of the 10 best-scored items in a mask. */
function conceptShare(scores: Float32Array, mask: Uint8Array): number {
  return topIndices(scores, 10).filter((i) => mask[i]).length / 10;
}

/** The softmax probability of the items in a mask. */
function conceptMass(scores: Float32Array, mask: Uint8Array): number {
  let max = -Infinity;
  for (const v of scores) max = Math.max(max, v);
  let all = 0;
  let mine = 0;
  scores.forEach((v, i) => {
    const e = Math.exp(v - max);
    all += e;
    if (mask[i]) mine += e;
  });
  return mine / all;
}

function policyFor(target: string, quick: boolean): TimingPolicy {
  if (target === "ort-webgpu") {
    return { warmupRuns: 2, minRuns: quick ? 5 : 9, minTimeMs: 0, maxRuns: 15, maxTimeMs: 20000 };
  }
  return quick
    ? { warmupRuns: 5, minRuns: 20, minTimeMs: 300, maxRuns: 200, maxTimeMs: 3000 }
    : { warmupRuns: 20, minRuns: 60, minTimeMs: 2000, maxRuns: 2000, maxTimeMs: 10000 };
}

const TARGETS: TargetId[] = ["ort-wasm", "ort-node", "ort-webgpu", "wgsl"];

export default defineSuite({
  kind: "custom",
  id: "recsae",
  title:
    "RecSAE: a top-k SAE on SASRec's hidden state (word sequences): FVU, dead latents, HR@10, concepts, ablation, sparse decoder",
  description:
    "sasrec-words + recsae-words (k 32 of 2048) on ORT wasm: FVU, dead-latent ratio, HR/NDCG@10 original vs reconstructed, word-list concept dictionary validated on new sequences (precision, recall, confidence), latent ablation; the decoder dense vs input-sparse on every target.",
  targets: TARGETS,
  inDefault: false,
  seed: 7,
  files: [
    RECSAE_PINS.sasrec.path,
    RECSAE_PINS.sae.path,
    "datasets/word_sequences.ts",
    "suites/recsae_run.ts",
    "suites/recsae_metrics.ts",
    "suites/recsae_decoder.ts",
    "kernels/sparse_gemv_active.wgsl",
    "kernels/gemv.wgsl",
  ],
  plan(ctx): Promise<RecsaeCell[]> {
    const study = new Study(ctx.quick);
    const cells: RecsaeCell[] = [];
    const add = (
      key: string,
      target: string,
      method: string,
      label: string,
      measure: RecsaeCell["measure"],
    ) => cells.push({ key, target, method, label, measure });
    add(
      "quality",
      "ort-wasm",
      "sae-reconstruction",
      "FVU, dead latents, HR@10",
      (c) => study.quality(c),
    );
    add(
      "concepts/all",
      "ort-wasm",
      "concept-dictionary",
      "concept dictionary",
      (c) => study.conceptsCell(c),
    );
    // The run's label order: each word list at "last" then at "next".
    const labels = CONCEPT_FILES.flatMap((c) => [`${c.name}@last`, `${c.name}@next`]);
    labels.forEach((id, i) =>
      add(
        `concepts/${id}`,
        "ort-wasm",
        "concept-dictionary",
        `concepts ${id}`,
        (c) => study.conceptsCell(c, i),
      )
    );
    labels.forEach((id, i) =>
      add(
        `ablation/${id}`,
        "ort-wasm",
        "latent-ablation",
        `ablation ${id}`,
        (c) => study.ablationCell(c, i),
      )
    );
    for (const t of TARGETS.filter((t) => ctx.targets.includes(t))) {
      add(
        `decoder/${t}/dense`,
        t,
        "decoder-dense",
        `decoder dense ${t}`,
        (c) => study.decoderCell(t, false, c),
      );
      add(
        `decoder/${t}/sparse`,
        t,
        "decoder-input-sparse",
        `decoder sparse ${t}`,
        (c) => study.decoderCell(t, true, c),
      );
      if (t === "wgsl") {
        add(
          "decoder/wgsl/sparse-list",
          t,
          "decoder-input-sparse-list",
          "decoder sparse wgsl (active list)",
          (c) => study.decoderCell("wgsl-list", true, c),
        );
      }
    }
    return Promise.resolve(cells);
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    if (!("measure" in cell)) {
      throw new Error(`recsae: cell ${cell.key} was not planned by this suite; plan the run again`);
    }
    return await (cell as RecsaeCell).measure(ctx);
  },
});
