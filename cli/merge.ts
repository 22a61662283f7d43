/**
 * `deno task merge RUN_DIR... [--out DIR]`: joins the shard runs of one run (`bench --shard K/N`)
 * into a new run folder, refusing runs of different code, arguments or pins, and reporting
 * missing shards and duplicated cells. Exit code 0 when every shard was there, 3 when some were
 * missing (the merged run is still written), 2 when the runs cannot be merged.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { toCsv } from "../src/export_csv.ts";
import { readJournal } from "../src/journal.ts";
import { mergeShards, type ShardRun } from "../src/merge.ts";
import { writeRunReport } from "../src/report/run_report.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
import { RunDir } from "../src/run_dir.ts";
import { parseRunRecord } from "../src/run_record.ts";
import { oneLine } from "../lib/one_line.ts";

async function readShard(dir: string): Promise<ShardRun> {
  const path = dir.replace(/\/+$/, "");
  let text: string;
  try {
    text = await Deno.readTextFile(`${path}/run.json`);
  } catch {
    throw new Error(`${path} is not a run folder: run.json not found`);
  }
  const record = parseRunRecord(text, `${path}/run.json`);
  const journal = await Deno.readTextFile(`${path}/cells.jsonl`).catch(() => "");
  const read = readJournal(journal);
  for (const d of read.dropped) console.error(`warning: ${path}/cells.jsonl ${d}`);
  return { record, cells: read.cells };
}

/**
 * Merges shard runs into a new run folder.
 *
 * @param args Command-line arguments.
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { out: { type: "string", default: "results" }, help: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    console.error(`Error: ${oneLine(e)} (see --help)`);
    return 2;
  }
  if (values.help || positionals.length === 0) {
    console.log("Usage: deno task merge RUN_DIR... [--out DIR]  (joins the shards of one run)");
    return values.help ? 0 : 2;
  }
  let merged;
  try {
    merged = mergeShards(await Promise.all(positionals.map(readShard)));
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return 2;
  }
  const dir = await RunDir.createNew(values.out);
  try {
    for (const c of merged.cells) await dir.record(c);
    await dir.writeAtomic(
      "run.json",
      JSON.stringify({ runId: dir.id, ...merged.record }, null, 2) + "\n",
    );
    await dir.writeAtomic("results.csv", toCsv(dir.cells));
    await dir.writeAtomic("results.json", JSON.stringify(dir.cells, null, 1) + "\n");
  } finally {
    await dir.close();
  }
  for (const k of merged.duplicated) console.error(`warning: cell ${k} is in two shards`);
  try {
    console.log(`report: ${await writeRunReport(dir.path, { studies: STUDY_REPORTS })}`);
  } catch (e) {
    console.error(`warning: no HTML report (${oneLine(e)}); run \`deno task report ${dir.path}\``);
  }
  console.log(`${merged.cells.length} cells from ${positionals.length} shard(s)`);
  console.log(`results: ${dir.path}`);
  if (merged.missingShards.length > 0) {
    console.error(
      `incomplete: shard(s) ${merged.missingShards.join(", ")} missing; run them and merge again`,
    );
    return 3;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
