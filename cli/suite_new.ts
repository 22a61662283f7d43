/**
 * `deno task suite new --model FILE.onnx --data SPEC --id NAME`: writes `suites/user/NAME.ts`, a
 * suite of the user's model with the model (sha256, wherever it lives on disk) and the data
 * (content hash and how to rebuild it) pinned, and registers it in `suites/user/mod.ts`, so
 * `deno task bench --suite NAME` reruns the same cells, on this machine or another.
 *
 * @module
 */

import { relative } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { oneLine } from "../lib/one_line.ts";
import { buildUserSuite } from "../src/user/user_suite.ts";
import { parseShapeFlags } from "./inspect.ts";

const HELP = `Usage: deno task suite new --model FILE.onnx --data SPEC --id NAME [options]

Writes suites/user/NAME.ts: the model pinned by sha256, the data by content hash, the methods
that apply to the model over the default grid; rerun it with deno task bench --suite NAME.

  --model FILE    the ONNX model (anywhere on disk; a path inside the repository is kept relative)
  --data SPEC     random, random:N, a folder of .npy arrays, or a dataset id
  --id NAME       suite id: lowercase letters, digits and "-"
  --shape N=AxB   shape of an input with dynamic dimensions (repeatable)
  --output NAME   output to compare (default: the first)
  --normalize M,S images of a dataset id become (x - M) / S
  --dir DIR       where to write (default: suites/user)
  --force         replace an existing suite file`;

/**
 * The text of a generated suite file.
 *
 * @param suite The suite as built.
 * @param command The command that made it.
 * @param engine Import path of `src/suite.ts` from the file's folder.
 * @returns TypeScript source.
 */
export function suiteSource(suite: unknown, command: string, engine: string): string {
  return `/**
 * A user's suite, written by \`${command}\`.
 * The model and data are pinned by content; rerun with \`deno task bench --suite ${
    (suite as { id: string }).id
  }\`.
 *
 * @module
 */

import { defineSuite } from "${engine}";
import type { ModelSuite } from "${engine}";

const suite: ModelSuite = ${JSON.stringify(suite, null, 2)};

export default defineSuite(suite);
`;
}

/**
 * The registry of the suites in a folder (every `.ts` file but `mod.ts` and tests).
 *
 * @param files File names, e.g. `gpt2_random.ts`.
 * @param folder The folder, relative to the repository root.
 * @param engine Import path of `src/suite.ts` from the folder.
 * @returns TypeScript source of `mod.ts`.
 */
export function registrySource(files: readonly string[], folder: string, engine: string): string {
  const names = [...files].filter((f) =>
    f.endsWith(".ts") && f !== "mod.ts" && !f.endsWith("_test.ts")
  )
    .sort();
  const ident = (f: string) => `s_${f.slice(0, -3).replace(/[^A-Za-z0-9]/g, "_")}`;
  return `/**
 * The suites of users' models (written by \`deno task suite new\`); regenerated with each new one.
 *
 * @module
 */

import type { Suite } from "${engine}";
${names.map((f) => `import ${ident(f)} from "./${f}";`).join("\n")}

/** The suites, with their files. */
export const USER_SUITES: readonly { suite: Suite; file: string }[] = [
${names.map((f) => `  { suite: ${ident(f)}, file: "${folder}/${f}" },`).join("\n")}
];
`;
}

/**
 * Runs the CLI.
 *
 * @param args Arguments (the first is the subcommand, `new`).
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        model: { type: "string" },
        data: { type: "string" },
        id: { type: "string" },
        shape: { type: "string", multiple: true, default: [] },
        output: { type: "string" },
        normalize: { type: "string" },
        dir: { type: "string", default: `${REPO_ROOT}suites/user` },
        force: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals[0] !== "new" || !v.model || !v.data || !v.id) {
    console.error(`Error: give new --model FILE --data SPEC --id NAME (see --help)`);
    return 2;
  }
  if (!/^[a-z0-9][a-z0-9-]*$/.test(v.id)) {
    console.error(`Error: invalid --id "${v.id}": use lowercase letters, digits and "-"`);
    return 2;
  }
  try {
    let normalize: { mean: number; std: number } | undefined;
    if (v.normalize) {
      const [mean, std] = v.normalize.split(",").map(Number);
      if (!Number.isFinite(mean) || !(std! > 0)) {
        throw new RangeError(`--normalize "${v.normalize}": use MEAN,STD`);
      }
      normalize = { mean: mean!, std: std! };
    }
    const built = await buildUserSuite({
      model: v.model,
      data: v.data,
      id: v.id,
      shapes: parseShapeFlags(v.shape),
      ...(v.output ? { output: v.output } : {}),
      ...(normalize ? { normalize } : {}),
    }, { root: REPO_ROOT, cwd: Deno.cwd() });
    const suite = { ...built.suite, id: v.id };
    const file = `${v.dir}/${v.id.replace(/-/g, "_")}.ts`;
    const exists = await Deno.stat(file).then(() => true, () => false);
    if (exists && !v.force) {
      console.error(`Error: ${file} exists; pick another --id or pass --force to replace it`);
      return 2;
    }
    const command = ["deno task suite new", ...args.slice(1).filter((a) => !a.startsWith("--dir"))]
      .join(" ");
    await Deno.mkdir(v.dir, { recursive: true });
    const engine = relative(v.dir, `${REPO_ROOT}src/suite.ts`);
    await Deno.writeTextFile(file, suiteSource(suite, command, engine));
    const files: string[] = [];
    for await (const e of Deno.readDir(v.dir)) if (e.isFile) files.push(e.name);
    await Deno.writeTextFile(
      `${v.dir}/mod.ts`,
      registrySource(files, relative(REPO_ROOT, v.dir), engine),
    );
    // The files are committed, so they are written as `deno fmt` (the gate checks it) leaves them.
    const fmt = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", file, `${v.dir}/mod.ts`],
      cwd: REPO_ROOT,
    }).output();
    if (!fmt.success) console.error(`warning: deno fmt failed; run \`deno fmt ${file}\``);
    for (const line of built.findings) console.log(line);
    if (built.suite.model.path.startsWith("/")) {
      console.log(
        `note: the model lies outside the repository; the suite finds it at ${built.suite.model.path} and checks its sha256`,
      );
    }
    console.log(`wrote ${file}; run it with: deno task bench --suite ${v.id}`);
    return 0;
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
