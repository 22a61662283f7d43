/**
 * `deno task list`: the suites, their targets, and which targets run on this machine.
 *
 * @module
 */

import { TARGET_IDS } from "../src/backend.ts";
import { createBackend } from "../src/backends/mod.ts";
import { SUITES } from "../suites/mod.ts";
import { METHODS } from "../methods/mod.ts";

/**
 * Prints suites and target availability.
 *
 * @returns Exit code.
 */
export async function main(): Promise<number> {
  console.log("Targets on this machine:");
  for (const id of TARGET_IDS) {
    const backend = await createBackend(id);
    const why = await backend.probe();
    if (why) console.log(`  ${id.padEnd(11)} unavailable: ${why}`);
    else console.log(`  ${id.padEnd(11)} ${(await backend.identity()).device}`);
  }
  console.log("\nSuites (* = in the embedded default, run quick by `deno task bench`):");
  for (const { suite } of SUITES) {
    console.log(`  ${suite.inDefault ? "*" : " "} ${suite.id.padEnd(20)} ${suite.title}`);
    console.log(`      targets: ${suite.targets.join(", ")}`);
    if (suite.kind === "model") {
      const methods = [...new Set(suite.variants.map((v) => v.method))];
      console.log(
        `      model: ${suite.model.id}; dataset: ${suite.dataset.id}; methods: dense, ${
          methods.join(", ")
        }`,
      );
    }
  }
  console.log(`\nMethods: ${[...METHODS.values()].map((m) => m.id).join(", ")}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
