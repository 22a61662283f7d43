/**
 * Planning: which cells a run holds. A model suite's cells are its targets × its variants (dense
 * first, each sparsity of a grid its own variant), after `--quick`, `--target`, `--variant` and
 * `--sparsity`; their keys let `--resume` tell what is finished.
 *
 * @module
 */

import type { TargetId } from "./backend.ts";
import type { ModelSuite, VariantSpec } from "./suite.ts";
import type { TimingPolicy } from "./timing.ts";

/** A variant after expansion of its sparsity grid. */
export interface Variant {
  /** Method id; `dense` for the baseline. */
  method: string;
  /** Method parameters. */
  params: Record<string, number | string | boolean>;
  /** Target sparsity, or null for dense and parameter-free methods. */
  sparsity: number | null;
}

/** What the user narrowed a run to; empty or absent lists keep everything. */
export interface CellFilter {
  /** Targets to keep. */
  targets?: readonly TargetId[];
  /** Method ids to keep besides dense. */
  methods?: readonly string[];
  /** Grid sparsities to keep; variants without a sparsity target are kept. */
  sparsities?: readonly number[];
  /** Keeps only the work units (see {@linkcode unitKey}) this shard of the run owns. */
  keep?: (unit: string) => boolean;
}

/**
 * The key of a unit of work: a model suite's variant on all its targets (so a variant is
 * prepared once per shard), or a custom suite's cell.
 *
 * @param suite Suite id.
 * @param v The variant, or a custom cell's key.
 * @returns The key.
 */
export function unitKey(
  suite: string,
  v: { method: string; params: Record<string, unknown>; sparsity: number | null } | string,
): string {
  return typeof v === "string"
    ? `${suite}|${v}`
    : `${suite}|${v.method}|${JSON.stringify(v.params)}|${v.sparsity ?? "-"}`;
}

/**
 * The key of a model-suite cell.
 *
 * @param suite Suite id.
 * @param target Target id.
 * @param v Variant.
 * @returns The key.
 */
export function cellKey(
  suite: string,
  target: string,
  v: { method: string; params: Record<string, unknown>; sparsity: number | null },
): string {
  return `${suite}|${target}|${v.method}|${JSON.stringify(v.params)}|${v.sparsity ?? "-"}`;
}

/**
 * The label of a variant in progress lines and errors, e.g. `teal@0.5`.
 *
 * @param v Variant.
 * @returns The label.
 */
export function variantLabel(v: Variant): string {
  return v.sparsity === null ? v.method : `${v.method}@${v.sparsity}`;
}

/**
 * The variants of a suite after `--quick`, `--variant` and `--sparsity`, dense first.
 *
 * @example
 * ```ts
 * import { expandVariants } from "./plan.ts";
 * import { SUITES } from "../suites/mod.ts";
 * const suite = SUITES.find((s) => s.suite.id === "mlp-mnist")!.suite;
 * if (suite.kind === "model") {
 *   console.log(expandVariants(suite, true, { methods: ["teal"] })); // dense, then teal@0.5
 * }
 * ```
 *
 * @param suite The suite.
 * @param quick Quick mode.
 * @param options `methods`: method ids to keep; `sparsities`: grid points to keep (variants
 *   without a sparsity target are kept).
 * @returns Variants.
 */
export function expandVariants(
  suite: ModelSuite,
  quick: boolean,
  options: { methods?: readonly string[]; sparsities?: readonly number[] } = {},
): Variant[] {
  const methods = options.methods ?? [];
  const sparsities = options.sparsities ?? [];
  const out: Variant[] = [{ method: "dense", params: {}, sparsity: null }];
  for (const spec of suiteVariantSpecs(suite, quick)) {
    if (methods.length > 0 && !methods.includes(spec.method)) continue;
    const params = spec.params ?? {};
    if (spec.sparsity && spec.sparsity.length > 0) {
      for (const s of spec.sparsity) {
        if (sparsities.length > 0 && !sparsities.includes(s)) continue;
        out.push({ method: spec.method, params, sparsity: s });
      }
    } else out.push({ method: spec.method, params, sparsity: null });
  }
  return out;
}

/**
 * A model suite's variant specs, after `--quick`.
 *
 * @param suite The suite.
 * @param quick Quick mode.
 * @returns The specs.
 */
export function suiteVariantSpecs(suite: ModelSuite, quick: boolean): VariantSpec[] {
  return quick && suite.quick?.variants ? suite.quick.variants : suite.variants;
}

/**
 * A model suite's targets, after `--quick`.
 *
 * @param suite The suite.
 * @param quick Quick mode.
 * @returns Targets.
 */
export function suiteTargets(suite: ModelSuite, quick: boolean): TargetId[] {
  return quick && suite.quick?.targets ? suite.quick.targets : suite.targets;
}

/**
 * A suite's own targets narrowed to the wanted ones.
 *
 * @param own The suite's targets.
 * @param wanted `--target` values (empty or absent: all).
 * @returns Targets.
 */
export function selectTargets(own: readonly TargetId[], wanted?: readonly TargetId[]): TargetId[] {
  return wanted && wanted.length > 0 ? own.filter((t) => wanted.includes(t)) : [...own];
}

/**
 * The timing policy of a suite on a target.
 *
 * @param suite The suite.
 * @param target The target.
 * @param quick Quick mode.
 * @returns The merged policy.
 */
export function timingPolicy(suite: ModelSuite, target: TargetId, quick: boolean): TimingPolicy {
  return {
    ...suite.timing,
    ...(suite.targetTiming?.[target] ?? {}),
    ...(quick ? suite.quick?.timing ?? {} : {}),
    ...(quick ? suite.quick?.targetTiming?.[target] ?? {} : {}),
  };
}

/**
 * The cells of a model suite, as target × variant pairs.
 *
 * @param suite The suite.
 * @param quick Quick mode.
 * @param filter What the user narrowed the run to.
 * @returns Targets and variants.
 */
export function planModelSuite(
  suite: ModelSuite,
  quick: boolean,
  filter: CellFilter = {},
): { targets: TargetId[]; variants: Variant[] } {
  const variants = expandVariants(suite, quick, {
    ...(filter.methods ? { methods: filter.methods } : {}),
    ...(filter.sparsities ? { sparsities: filter.sparsities } : {}),
  });
  const keep = filter.keep;
  return {
    targets: selectTargets(suiteTargets(suite, quick), filter.targets),
    variants: keep ? variants.filter((v) => keep(unitKey(suite.id, v))) : variants,
  };
}

/**
 * Warnings for filter values that match nothing in a suite (a typo, or a grid point the suite
 * does not have), so a run does not silently shrink to dense alone.
 *
 * @param suite The suite.
 * @param quick Quick mode.
 * @param filter What the user narrowed the run to.
 * @returns One warning per value that matches nothing, naming the values that exist.
 */
export function unmatchedFilterWarnings(
  suite: ModelSuite,
  quick: boolean,
  filter: CellFilter,
): string[] {
  const specs = suiteVariantSpecs(suite, quick);
  const out: string[] = [];
  const methods = [...new Set(specs.map((s) => s.method))];
  for (const m of filter.methods ?? []) {
    if (!methods.includes(m)) {
      out.push(
        `suite ${suite.id} has no variant "${m}" (it has: ${
          methods.join(", ")
        }); drop --variant ${m} or pick another suite`,
      );
    }
  }
  const kept = specs.filter((s) => !filter.methods?.length || filter.methods.includes(s.method));
  const grid = [...new Set(kept.flatMap((s) => s.sparsity ?? []))].sort((a, b) => a - b);
  for (const s of filter.sparsities ?? []) {
    if (!grid.includes(s)) {
      out.push(
        `suite ${suite.id} has no sparsity ${s} for the variants kept (grid: ${
          grid.join(", ") || "none"
        }); use one of those with --sparsity`,
      );
    }
  }
  const own = suiteTargets(suite, quick);
  for (const t of filter.targets ?? []) {
    if (!own.includes(t)) {
      out.push(
        `suite ${suite.id} does not run on target ${t} (its targets: ${own.join(", ")})`,
      );
    }
  }
  return out;
}
