/**
 * The Spark study's report: per active fraction of FFN neurons, the Spark-trained LM against
 * its dense twin and against the post-hoc methods on that twin (statistical top-k, TEAL, CATS,
 * Deja Vu, R-Sparse): bits per character, effective FLOPs, time on ORT, and one FFN decode step
 * on the WGSL kernels with each method's kernel plan, and the trained LMs decoded whole by the
 * decode engine (`spark-lm-decode`), beside the post-hoc methods on the twin through the same
 * engine at the same fractions. The findings answer the study's question: what training with the
 * predictor buys over sparsifying the dense model afterwards, in bits per character and in time.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { html } from "../src/report/html.ts";
import { percentLabel } from "../src/report/labels.ts";
import type { RunData } from "../src/report/run_data.ts";
import type { Finding, ReportSection, StudyReport } from "../src/report/study.ts";

const ACTIVE = [0.08, 0.25];
const POST_HOC = ["stat-topk", "teal", "cats", "deja-vu", "r-sparse"];
const SPARK_SUITE: Record<string, string> = { "0.08": "spark-k8", "0.25": "spark-k25" };

const done = (c: CellResult) => c.status === "completed";
const signed = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(3)}`;
const near = (a: number | null, b: number) => a !== null && Math.abs(a - b) < 1e-6;

function ci(c: CellResult): string {
  return c.speedup_ci_low !== null && c.speedup_ci_high !== null
    ? ` [${c.speedup_ci_low.toFixed(2)}, ${c.speedup_ci_high.toFixed(2)}]`
    : "";
}

function speed(c: CellResult | undefined): string {
  return c?.speedup !== null && c?.speedup !== undefined ? `${c.speedup.toFixed(2)}x${ci(c)}` : "—";
}

/** The model-suite cell of one method at one active fraction, on a target. */
function modelCell(
  cells: readonly CellResult[],
  method: string,
  active: number,
  target: string,
): CellResult | undefined {
  if (method === "spark") {
    const suite = SPARK_SUITE[String(active)];
    return cells.find((c) =>
      done(c) && c.suite === suite && c.method === "spark" && c.target === target
    );
  }
  return cells.find((c) =>
    done(c) && c.suite === "spark" && c.method === method && near(c.sparsity_target, 1 - active) &&
    c.target === target
  );
}

/** The decode cell of one method at one active fraction and shape. */
function decodeCell(
  cells: readonly CellResult[],
  method: string,
  active: number,
  shape: string,
): CellResult | undefined {
  return cells.find((c) =>
    done(c) && c.suite === "spark-decode" && c.method === method &&
    c.key.endsWith(`|${shape}/${method}@${active}`)
  );
}

function accuracyTarget(cells: readonly CellResult[]): string {
  return cells.some((c) => c.suite === "spark" && c.target === "ort-node" && c.accuracy !== null)
    ? "ort-node"
    : "ort-wasm";
}

const bpc = (c: CellResult | undefined) =>
  (c?.accuracy ?? null) === null ? "—" : c!.accuracy!.toFixed(3);
const flops = (c: CellResult | undefined) =>
  c?.flops_reduction ? `${c.flops_reduction.toFixed(2)}x` : "—";

/** The decode methods, in the order the findings list them. */
const DECODE = ["spark", "deja-vu", "stat-topk", "cats", "teal", "r-sparse"];

/**
 * The findings of the decode cells at one active fraction, one per shape. The study's speed
 * question, as in the twin's findings; R-Sparse's low-rank pair runs on every input, so its
 * FLOP ratio is stated beside its time.
 */
function decodeFindings(all: readonly CellResult[], a: number): Finding[] {
  const out: Finding[] = [];
  for (const shape of shapesOf(all)) {
    const decode = DECODE.map((m) => ({ m, c: decodeCell(all, m, a, shape) })).filter((r) =>
      r.c?.speedup !== null && r.c !== undefined
    );
    if (decode.length === 0) continue;
    const device = decode[0]!.c!.device;
    const dense = all.find((c) =>
      done(c) && c.suite === "spark-decode" && c.key.endsWith(`|${shape}/dense`)
    );
    const beyond = decode.filter((r) =>
      r.c!.speedup_ci_low !== null && r.c!.flops_reduction !== null &&
      r.c!.speedup_ci_low > r.c!.flops_reduction
    ).map((r) => r.m);
    const rSparse = decode.find((r) => r.m === "r-sparse")?.c;
    out.push({
      text: `${percentLabel(a)} active, one FFN decode step on the WGSL kernels (${shape}${
        device ? `, ${device}` : ""
      }), speedup over the dense FFN${
        dense?.time_median_ms ? ` (${dense.time_median_ms.toPrecision(3)} ms)` : ""
      }: ${decode.map((r) => `${r.m} ${speed(r.c)} (${r.c!.extra.kept_neurons} kept)`).join(", ")}${
        rSparse
          ? `; R-Sparse (sparse GEMV + rank ${
            String(rSparse.extra.ranks ?? "").split(",")[0]
          } GEMV pair per linear, ${rSparse.extra.dispatches} dispatches) does ${
            flops(rSparse)
          } fewer FLOPs and runs at ${speed(rSparse)}`
          : ""
      }${
        beyond.length
          ? `; ${
            beyond.join(", ")
          } beat their FLOP ratio (the dense FFN's GEMVs and the gathered kernels do not run at one efficiency on this adapter; a software adapter on shared cores is noisy: re-measure on a quiet machine or the H200)`
          : ""
      }.`,
    });
  }
  return out;
}

/** The whole-model decode cells (`spark-lm-decode`) of the trained models: the twin first. */
function lmDecodeCells(all: readonly CellResult[]): CellResult[] {
  return all.filter((c) =>
    done(c) && c.suite === "spark-lm-decode" && (c.method === "dense" || c.method === "spark")
  ).sort((a, b) =>
    (a.method === "dense" ? 0 : 1) - (b.method === "dense" ? 0 : 1) ||
    (b.sparsity_target ?? 0) - (a.sparsity_target ?? 0)
  );
}

/** The post-hoc methods the whole-model decode runs on the twin, in table order. */
const LM_POST_HOC = ["stat-topk", "teal", "cats"];

/** A whole-model decode cell: Spark's model, or a post-hoc method on the twin, at a fraction. */
function lmCell(all: readonly CellResult[], method: string, a: number): CellResult | undefined {
  return all.find((c) =>
    done(c) && c.suite === "spark-lm-decode" && c.method === method &&
    near(c.sparsity_target, Number((1 - a).toFixed(2)))
  );
}

const perToken = (c: CellResult) => `${Number(c.extra.ms_per_token).toPrecision(3)} ms/token`;
const ortBpc = (c: CellResult) =>
  typeof c.extra.bpc_ort === "number" ? c.extra.bpc_ort.toFixed(3) : "not run";
const keptLabel = (c: CellResult) =>
  c.sparsity_realized === null ? "all" : percentLabel(1 - c.sparsity_realized);

/** One finding for the whole-model decode: each Spark LM against the twin, both engine-run. */
function lmDecodeFindings(all: readonly CellResult[]): Finding[] {
  const cs = lmDecodeCells(all);
  const twin = cs.find((c) => c.method === "dense");
  const spark = cs.filter((c) => c.method === "spark");
  if (!twin || spark.length === 0) return [];
  return [{
    text:
      `Whole-model decode on the WGSL kernels (decode engine, ${twin.device}, context ${twin.extra.context}): the dense twin ${
        perToken(twin)
      }, ${bpc(twin)} bpc (engine; ORT ${ortBpc(twin)}); ${
        spark.map((c) =>
          `Spark at ${percentLabel(1 - c.sparsity_target!)} (${keptLabel(c)} of neurons kept) ${
            perToken(c)
          }, ${speed(c)} over the twin, ${bpc(c)} bpc (${
            signed(c.accuracy! - twin.accuracy!)
          }; ORT ${ortBpc(c)}), ${
            flops(c)
          } fewer FLOPs, ${c.extra.dispatches_per_token} dispatches per token against ${twin.extra.dispatches_per_token}, greedy agreement with the twin ${
            percentLabel(c.agreement ?? 0)
          }`
        ).join("; ")
      }.`,
  }];
}

/**
 * Per active fraction, the question answered on the engine: Spark's model against the post-hoc
 * methods on the twin, bpc (against the twin's) and speedup over the twin, both through the
 * same engine on the same windows.
 */
function lmVersusFindings(all: readonly CellResult[]): Finding[] {
  const twin = lmDecodeCells(all).find((c) => c.method === "dense");
  if (!twin) return [];
  const out: Finding[] = [];
  for (const a of ACTIVE) {
    const spark = lmCell(all, "spark", a);
    const post = LM_POST_HOC.map((m) => ({ m, c: lmCell(all, m, a) })).filter((r) => r.c);
    if (post.length === 0) continue;
    const delta = (c: CellResult) => signed(c.accuracy! - twin.accuracy!);
    const best = [...post].sort((x, y) => x.c!.accuracy! - y.c!.accuracy!)[0]!;
    const fastest = [...post].sort((x, y) => (y.c!.speedup ?? 0) - (x.c!.speedup ?? 0))[0]!;
    const sparkText = spark
      ? `Spark (trained) ${bpc(spark)} bpc (${delta(spark)} vs the twin's ${bpc(twin)}), ${
        keptLabel(spark)
      } of neurons kept, ${flops(spark)} fewer FLOPs, ${speed(spark)} over the twin`
      : "the Spark model's cell did not complete";
    const postText = post.map((r) =>
      `${r.m} ${bpc(r.c)} (${delta(r.c!)}, ${keptLabel(r.c!)} kept, ${flops(r.c)} fewer FLOPs, ${
        speed(r.c)
      })`
    ).join(", ");
    const f = fastest.c!;
    const order = !spark || spark.speedup_ci_low === null || f.speedup_ci_low === null
      ? "unresolved (no interval)"
      : spark.speedup_ci_low > f.speedup_ci_high!
      ? "Spark faster"
      : f.speedup_ci_low > spark.speedup_ci_high!
      ? "Spark slower"
      : "not resolved (the intervals overlap)";
    const gap = spark
      ? `; the best post-hoc method by bpc (${best.m}) is ${
        Math.abs(best.c!.accuracy! - spark.accuracy!).toFixed(3)
      } bpc ${
        best.c!.accuracy! >= spark.accuracy! ? "worse" : "better"
      } than Spark; speed against the fastest post-hoc method (${fastest.m}, ${speed(f)}) ${order}`
      : "";
    out.push({
      text: `${
        percentLabel(a)
      } active FFN neurons, whole-model decode on the WGSL kernels (${twin.device}): ${sparkText}; post-hoc on the twin's FFN down input: ${postText}${gap}.`,
    });
  }
  return out;
}

/** The question's table: per fraction, Spark's model and the post-hoc methods on the twin. */
function lmVersusSection(all: readonly CellResult[]): ReportSection[] {
  const twin = lmDecodeCells(all).find((c) => c.method === "dense");
  const rows = ACTIVE.flatMap((a) =>
    ["spark", ...LM_POST_HOC].map((m) => ({ m, a, c: lmCell(all, m, a) }))
  ).filter((r) => r.c);
  if (!twin || !rows.some((r) => r.m !== "spark")) return [];
  return [{
    title: "Spark vs post-hoc sparsity on the twin, whole-model decode at equal active fraction",
    body: html`
      <p>Every row through the decode engine on the same evaluation windows (${String(
        twin.eval_samples ?? "",
      )} windows, ${String(
        twin.extra.eval_positions ?? "",
      )} positions); the dense twin ${bpc(twin)} bpc, ${Number(twin.extra.ms_per_token)
        .toPrecision(3)} ms/token. Post-hoc methods act on the twin's FFN down input only (TEAL
            included, so that only FFN neurons are dropped); their gate and up GEMVs run in
            full. Kept = neurons kept per token, counted by the kernels; speedup over the twin
            with samples interleaved, 95 % bootstrap intervals.</p>
      <table>
        <thead>
          <tr>
            <th>method</th>
            <th>target active</th>
            <th>kept</th>
            <th>bpc</th>
            <th>Δ vs twin</th>
            <th>FLOPs fewer</th>
            <th>ms/token</th>
            <th>speedup</th>
            <th>agreement</th>
          </tr>
        </thead>
        <tbody>${rows.map(({ m, a, c }) =>
          html`
            <tr>
              <td>${m === "spark" ? `Spark (trained, ${c!.model})` : `${m} on the twin`}</td>
              <td>${percentLabel(a)}</td>
              <td>${keptLabel(c!)}</td>
              <td>${bpc(c)}</td>
              <td>${signed(c!.accuracy! - twin.accuracy!)}</td>
              <td>${flops(c)}</td>
              <td>${Number(c!.extra.ms_per_token).toPrecision(3)}</td>
              <td>${speed(c)}</td>
              <td>${c!.agreement === null ? "—" : percentLabel(c!.agreement)}</td>
            </tr>
          `
        )}</tbody>
      </table>
    `,
  }];
}

/** The whole-model decode table. */
function lmDecodeSection(all: readonly CellResult[]): ReportSection[] {
  const cs = lmDecodeCells(all);
  if (cs.length === 0) return [];
  return [{
    title: "The trained LMs decoded whole on the WGSL kernels",
    body: html`
      <p>Each model through the decode engine token by token (Spark's FFN as trained: predictor
            GEMV on the first r inputs → statistical top-k → gathered gate/up rows → down over the
            kept rows); speedup over the dense twin through the same engine, samples interleaved
            with the twin's, 95 % bootstrap intervals; bpc computed by the engine over the
            evaluation windows, ORT's on the same windows beside it; kept = neurons kept per token,
            counted on the GPU.</p>
      <table>
        <thead>
          <tr>
            <th>model</th>
            <th>ms/token</th>
            <th>speedup</th>
            <th>bpc (engine)</th>
            <th>bpc (ORT)</th>
            <th>kept</th>
            <th>FLOPs fewer</th>
            <th>dispatches</th>
            <th>agreement</th>
          </tr>
        </thead>
        <tbody>${cs.map((c) =>
          html`
            <tr>
              <td>${c.model}</td>
              <td>${Number(c.extra.ms_per_token).toPrecision(3)}</td>
              <td>${speed(c)}</td>
              <td>${bpc(c)}</td>
              <td>${ortBpc(c)}</td>
              <td>${keptLabel(c)}</td>
              <td>${flops(c)}</td>
              <td>${String(c.extra.dispatches_per_token)}</td>
              <td>${c.agreement === null ? "—" : percentLabel(c.agreement)}</td>
            </tr>
          `
        )}</tbody>
      </table>
    `,
  }];
}

function findings(cells: readonly CellResult[], run: RunData): Finding[] {
  const lm = cells.some((c) => c.suite === "spark-lm-decode")
    ? [...lmDecodeFindings(run.cells), ...lmVersusFindings(run.cells)]
    : [];
  return [...modelFindings(cells, run), ...lm];
}

function modelFindings(cells: readonly CellResult[], run: RunData): Finding[] {
  const all = run.cells;
  // A run of the decode suite alone states its decode findings on that suite's cells; with the
  // twin's suite in the run they come with the model comparisons there.
  if (!all.some((c) => c.suite === "spark")) {
    return cells.some((c) => c.suite === "spark-decode")
      ? ACTIVE.flatMap((a) => decodeFindings(all, a))
      : [];
  }
  if (!cells.some((c) => c.suite === "spark")) return [];
  const t = accuracyTarget(all);
  const twin = all.find((c) =>
    done(c) && c.suite === "spark" && c.method === "dense" && c.target === t
  );
  if (!twin) {
    return [{ text: "spark: the dense twin's cell did not complete; nothing to compare." }];
  }
  const out: Finding[] = [];
  for (const a of ACTIVE) {
    const spark = modelCell(all, "spark", a, t);
    const rows = POST_HOC.map((m) => ({ m, c: modelCell(all, m, a, t) })).filter((r) => r.c);
    if (!spark && rows.length === 0) continue;
    const best = rows.filter((r) =>
      r.c!.accuracy !== null
    ).sort((x, y) => x.c!.accuracy! - y.c!.accuracy!)[0];
    const sparkText = spark
      ? `Spark trained at ${percentLabel(a)} active reaches ${bpc(spark)} bpc (${
        signed(spark.accuracy! - twin.accuracy!)
      } vs the twin's ${bpc(twin)}) with ${flops(spark)} fewer FLOPs (predictor counted)`
      : `the Spark model at ${percentLabel(a)} did not complete`;
    const post = rows.map((r) => `${r.m} ${bpc(r.c)} (${flops(r.c)})`).join(", ");
    const gap = spark && best
      ? `; the best post-hoc method (${best.m}) is ${
        Math.abs(best.c!.accuracy! - spark.accuracy!).toFixed(3)
      } bpc ${best.c!.accuracy! >= spark.accuracy! ? "worse" : "better"} than Spark`
      : "";
    out.push({
      text: `${
        percentLabel(a)
      } active FFN neurons on ${t}: ${sparkText}; post-hoc on the twin: ${post}${gap}.`,
    });
    out.push(...decodeFindings(all, a));
    // The Spark graph against itself with nothing declared: ORT computes every neuron and
    // masks either way. Times of different suites are not compared: on shared cores they
    // were taken minutes apart.
    const ort = ["ort-node", "ort-wasm"].map((target) => {
      const s = modelCell(all, "spark", a, target);
      return s?.speedup !== null && s?.speedup !== undefined ? `${target} ${speed(s)}` : undefined;
    }).filter((x) => x);
    if (ort.length) {
      out.push({
        text: `${percentLabel(a)}: on ORT the Spark graph computes every neuron and masks, so its ${
          flops(modelCell(all, "spark", a, t))
        } fewer FLOPs buy no time (${
          ort.join(", ")
        } over a full 128-character window); the saving needs the gathered kernels above.`,
      });
    }
  }
  return out;
}

function shapesOf(cells: readonly CellResult[]): string[] {
  const shapes = new Set<string>();
  for (const c of cells) {
    if (c.suite !== "spark-decode") continue;
    const m = c.key.split("|")[1]?.split("/")[0];
    if (m) shapes.add(m);
  }
  return [...shapes];
}

/** A run of the decode suite alone: per method and fraction, each shape's speedup and FLOPs. */
function decodeSection(all: readonly CellResult[]): ReportSection[] {
  const shapes = shapesOf(all);
  const rows = ACTIVE.flatMap((a) =>
    DECODE.map((m) => ({ m, cs: shapes.map((s) => decodeCell(all, m, a, s)) }))
      .filter((r) => r.cs.some((c) => c)).map(({ m, cs }) =>
        html`<tr><td>${m}</td><td>${percentLabel(a)}</td>${
          cs.map((c) =>
            html`
              <td>${speed(c)}</td>
              <td>${flops(c)}</td>
            `
          )
        }</tr>`
      )
  );
  return [{
    title: "One FFN decode step per method's kernel plan",
    body: html`
      <p>Each plan against the dense FFN of its shape on the WGSL kernels, samples paired with
            the dense FFN's, 95 % bootstrap intervals; FLOPs fewer counts each plan's own work
            (predictors, selection and R-Sparse's low-rank GEMVs included).</p>
      <table>
        <thead>
          <tr><th>method</th><th>target active</th>${shapes.map((s) =>
            html`
              <th>speedup ${s}</th>
              <th>FLOPs fewer ${s}</th>
            `
          )}</tr>
        </thead>
        <tbody>${rows}</tbody>
      </table>
    `,
  }];
}

function sections(cells: readonly CellResult[], run: RunData): ReportSection[] {
  const lm = cells.some((c) => c.suite === "spark-lm-decode")
    ? [...lmVersusSection(run.cells), ...lmDecodeSection(run.cells)]
    : [];
  return [...modelSections(cells, run), ...lm];
}

function modelSections(cells: readonly CellResult[], run: RunData): ReportSection[] {
  const all = run.cells;
  if (!all.some((c) => c.suite === "spark")) {
    return cells.some((c) => c.suite === "spark-decode") ? decodeSection(all) : [];
  }
  if (!cells.some((c) => c.suite === "spark")) return [];
  const t = accuracyTarget(all);
  const twin = all.find((c) =>
    done(c) && c.suite === "spark" && c.method === "dense" && c.target === t
  );
  const shapes = shapesOf(all);
  const rows = ACTIVE.flatMap((a) =>
    ["spark", ...POST_HOC].map((m) => {
      const c = modelCell(all, m, a, t);
      const node = modelCell(all, m, a, "ort-node");
      return html`<tr><td>${m === "spark" ? "Spark (trained)" : m}</td><td>${
        percentLabel(a)
      }</td><td>${bpc(c)}</td><td>${
        c?.accuracy !== null && c?.accuracy !== undefined && twin?.accuracy
          ? (c.accuracy - twin.accuracy).toFixed(3)
          : "—"
      }</td><td>${flops(c)}</td><td>${
        c?.sparsity_realized !== null && c?.sparsity_realized !== undefined
          ? percentLabel(1 - c.sparsity_realized)
          : "—"
      }</td><td>${speed(node)}</td>${
        shapes.map((s) => html`<td>${speed(decodeCell(all, m, a, s))}</td>`)
      }</tr>`;
    })
  );
  return [{
    title: "Spark vs post-hoc sparsity at equal active fractions",
    body: html`
      <p>Dense twin: ${bpc(twin)} bpc on ${t}. Active = fraction of the sparsified
            work kept (1 − realised sparsity over the linears each method shrinks). ORT speedups are
            each model suite's own (masked graphs compute every neuron); decode speedups are one FFN
            step on the WGSL kernels against the dense FFN of that shape, with 95 % bootstrap
            intervals.</p>
      <table>
        <thead>
          <tr><th>method</th><th>target active</th><th>bpc</th><th>Δ vs twin</th>
            <th>FLOPs fewer</th><th>realised active</th><th>ort-node speedup</th>${shapes.map((s) =>
              html`<th>decode ${s}</th>`
            )}</tr>
        </thead>
        <tbody>${rows}</tbody>
      </table>
    `,
  }];
}

/** The Spark study. */
export const sparkReport: StudyReport = {
  name: "spark",
  covers: (id) =>
    id === "spark" || id === "spark-k8" || id === "spark-k25" || id === "spark-decode" ||
    id === "spark-lm-decode",
  findings,
  sections,
  // A decode cell runs a plan on seeded random weights, so Spark's is not the trained model.
  label: (c) =>
    c.suite === "spark-lm-decode"
      ? c.method === "spark"
        ? `Spark (trained), ${c.model}, whole model`
        : c.method === "dense"
        ? "dense twin, whole model"
        : `${c.method} ${
          percentLabel(1 - (c.sparsity_target ?? 0))
        } active on the twin, whole model`
      : c.suite !== "spark-decode"
      ? c.method === "spark" ? "Spark (trained)" : undefined
      : c.sparsity_target !== null
      ? `${c.method} ${percentLabel(1 - c.sparsity_target)} active`
      : c.method === "spark"
      ? "Spark's plan"
      : undefined,
};
