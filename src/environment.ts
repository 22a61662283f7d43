/**
 * What a run records about the machine and software it ran on (`run.json`'s `environment`).
 *
 * @module
 */

import os from "node:os";

/** The environment of a run. */
export interface Environment {
  /** Deno, V8 and TypeScript versions. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** TypeScript version. */
  typescript: string;
  /** Operating system and architecture. */
  os: string;
  /** CPU model name, or "unknown". */
  cpuModel: string;
  /** Logical cores. */
  cpuCores: number;
  /** Total memory in GiB, when readable. */
  memoryGiB?: number;
  /** Host name, when readable. */
  hostname?: string;
  /** Git commit of the repository and whether the tree had uncommitted changes. */
  git: { commit: string; dirty: boolean } | { commit: "unknown"; dirty?: undefined };
  /** Versions of the npm packages that matter to the figures. */
  packages: Record<string, string>;
}

/**
 * The CPU model name (Deno refuses /proc/cpuinfo without --allow-all; `os.cpus()` needs only
 * --allow-sys).
 *
 * @returns E.g. "AMD EPYC 9554 64-Core Processor", or "unknown".
 */
export function cpuModel(): string {
  try {
    return os.cpus()[0]?.model.trim() || "unknown";
  } catch {
    return "unknown";
  }
}

async function gitState(root: string): Promise<Environment["git"]> {
  const git = async (args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd: root, stdout: "piped", stderr: "null" })
      .output();
    if (!out.success) throw new Error(`git ${args[0]} failed`);
    return new TextDecoder().decode(out.stdout).trim();
  };
  try {
    const commit = await git(["rev-parse", "HEAD"]);
    const status = await git(["status", "--porcelain", "--untracked-files=no"]);
    return { commit, dirty: status.length > 0 };
  } catch {
    // Machines without the repository's .git (the GPU machine gets a copy of the tree) can say
    // which commit they run through the environment.
    const given = Deno.env.get("SPARSEBENCH_GIT_COMMIT");
    return given ? { commit: given, dirty: false } : { commit: "unknown" };
  }
}

/**
 * Captures the environment.
 *
 * @param root Repository root (with trailing slash), for the git commit and package versions.
 * @returns The environment.
 */
export async function captureEnvironment(root: string): Promise<Environment> {
  const packages: Record<string, string> = {};
  for (const name of ["onnxruntime-web", "onnxruntime-node", "papaparse", "chart.js"]) {
    try {
      packages[name] =
        JSON.parse(await Deno.readTextFile(`${root}node_modules/${name}/package.json`)).version;
    } catch {
      packages[name] = "not installed";
    }
  }
  let memoryGiB: number | undefined;
  try {
    memoryGiB = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
  } catch {
    memoryGiB = undefined;
  }
  let hostname: string | undefined;
  try {
    hostname = Deno.hostname();
  } catch {
    hostname = undefined;
  }
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    cpuModel: cpuModel(),
    cpuCores: navigator.hardwareConcurrency,
    ...(memoryGiB !== undefined ? { memoryGiB } : {}),
    ...(hostname !== undefined ? { hostname } : {}),
    git: await gitState(root),
    packages,
  };
}
