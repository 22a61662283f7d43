/**
 * `deno task sdr-prob --n N --a A --s S --theta T [--m M]`: the exact probability that a segment
 * with s synapses (per pattern, m patterns) and threshold θ falsely matches a random SDR with a
 * active cells out of n, for checking single values by hand.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { falseMatchExact, falseMatchLog } from "../src/sdr_probability.ts";

/**
 * Runs the CLI.
 *
 * @param args Arguments.
 * @returns Exit code.
 */
export function main(args: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        n: { type: "string" },
        a: { type: "string" },
        s: { type: "string" },
        theta: { type: "string" },
        m: { type: "string", default: "1" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(
      "Usage: deno task sdr-prob --n N --a A --s S --theta T [--m M]\n\nExact P(false match) = Σ_{b=θ}^{s} C(s,b)·C(n−s,a−b)/C(n,a), with s·m synapses for a union of m patterns.",
    );
    return 0;
  }
  const missing = (["n", "a", "s", "theta"] as const).filter((k) => values[k] === undefined);
  if (missing.length) {
    console.error(`Error: missing ${missing.map((k) => `--${k}`).join(", ")} (see --help)`);
    return 2;
  }
  const num = (k: "n" | "a" | "s" | "theta" | "m") => {
    const v = Number(values[k]);
    if (!Number.isInteger(v)) {
      throw new RangeError(`Invalid --${k} ${values[k]}: must be an integer`);
    }
    return v;
  };
  try {
    const p = { n: num("n"), a: num("a"), s: num("s"), theta: num("theta"), m: num("m") };
    const exact = falseMatchExact(p);
    console.log(
      `P(false match) = ${exact.text}  (exact; log10 ${exact.log10.toFixed(6)}; log-space check ${
        falseMatchLog(p).toFixed(6)
      })`,
    );
    return 0;
  } catch (e) {
    console.error(`Error: ${(e as Error).message}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(main(Deno.args));
