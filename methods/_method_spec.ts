/**
 * What a method needs, declared once on the method itself: its paper, what the sparse model skips,
 * whether it takes a target sparsity, what it reads from the calibration split, and every parameter
 * with its type, range and default. `defineMethod` turns that declaration into a `SparsityMethod`
 * whose `prepare` refuses bad input (a sparsity outside [0, 1) or where none is taken, an unknown
 * parameter, a value of the wrong type or range) with one line naming the fix, before any work.
 *
 * @module
 */

import type { MethodContext, SparsityMethod, VariantPlan } from "../src/method.ts";

/** A numeric parameter. */
export interface NumberParam {
  kind: "number";
  /** What it sets. */
  doc: string;
  /** Its value when the suite leaves it out. */
  default: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Lowest value allowed. */
  min?: number;
  /** Whether `min` itself is excluded. */
  minExclusive?: boolean;
  /** Highest value allowed (inclusive). */
  max?: number;
}

/** A parameter taking one of a few strings. */
export interface ChoiceParam<V extends string = string> {
  kind: "choice";
  /** What it sets. */
  doc: string;
  /** The values allowed. */
  values: readonly V[];
  /** Its value when the suite leaves it out. */
  default: V;
}

/** One parameter a method accepts. */
export type ParamSpec = NumberParam | ChoiceParam;

/** The checked values of a method's parameters, defaults filled in. */
export type ParamValues<P extends Record<string, ParamSpec>> = {
  [K in keyof P]: P[K] extends ChoiceParam<infer V> ? V : number;
};

/**
 * What a method reads from the calibration split: `none`; `inputs` (layer inputs whose statistics
 * shape the result, e.g. a Hessian or input norms); `thresholds` (thresholds set so that the
 * realised sparsity meets the target, which lands within ±2 points of it on the evaluation split).
 */
export type CalibrationUse = "none" | "inputs" | "thresholds";

/** A sparsity method with what it needs, as `defineMethod` builds it. */
export interface DescribedMethod extends SparsityMethod {
  /** The paper it follows (authors, venue, year). */
  paper: string;
  /** What work the sparse model skips, and where it is skipped. */
  skips: string;
  /** What it reads from the calibration split. */
  calibration: CalibrationUse;
  /** Every parameter it accepts, by name. */
  params: Readonly<Record<string, ParamSpec>>;
}

/** A method's declaration (see `defineMethod`). */
export interface MethodDefinition<P extends Record<string, ParamSpec>, S extends boolean> {
  /** Method id, as suites name it. */
  id: string;
  /** One-line description. */
  title: string;
  /** The paper it follows. */
  paper: string;
  /** What work the sparse model skips. */
  skips: string;
  /** Whether it takes a target sparsity in [0, 1) (otherwise it must be given none). */
  needsSparsity: S;
  /** What it reads from the calibration split. */
  calibration: CalibrationUse;
  /** Its parameters. */
  params: P;
  /**
   * Checks that need several parameters at once.
   *
   * @param params The values, each already checked alone.
   * @returns A one-line problem naming the fix, or undefined when they fit together.
   */
  check?: (params: ParamValues<P>) => string | undefined;
  /**
   * Builds the variant from checked input.
   *
   * @param ctx The method context.
   * @param input The target sparsity (null for methods without one) and the parameters.
   * @returns The variant.
   */
  prepare(
    ctx: MethodContext,
    input: { sparsity: S extends true ? number : null; params: ParamValues<P> },
  ): Promise<VariantPlan>;
}

function checkSparsity(id: string, needed: boolean, s: number | null): void {
  if (!needed) {
    if (s !== null) {
      throw new RangeError(
        `${id} takes no target sparsity (its parameters set it); drop "sparsity" from its variant`,
      );
    }
    return;
  }
  if (s === null) {
    throw new RangeError(`Method ${id} needs a target sparsity (set "sparsity" in the suite)`);
  }
  if (!(s >= 0 && s < 1)) {
    throw new RangeError(
      `${id}: sparsity ${s} is outside [0, 1); set it to the fraction to drop, e.g. 0.5`,
    );
  }
}

function describeRange(p: NumberParam): string {
  const lo = p.min === undefined ? "" : `${p.minExclusive ? ">" : "≥"} ${p.min}`;
  const hi = p.max === undefined ? "" : `≤ ${p.max}`;
  return [p.integer ? "an integer" : "a number", lo, lo && hi ? "and" : "", hi]
    .filter((x) => x).join(" ");
}

/** A given value as a message shows it: strings quoted, everything else as written. */
function shown(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function checkNumber(id: string, key: string, p: NumberParam, v: unknown): number {
  const ok = typeof v === "number" && Number.isFinite(v) && (!p.integer || Number.isInteger(v)) &&
    (p.min === undefined || (p.minExclusive ? v > p.min : v >= p.min)) &&
    (p.max === undefined || v <= p.max);
  if (!ok) {
    throw new RangeError(
      `${id}: ${key} must be ${describeRange(p)}, got ${
        shown(v)
      }; set ${key} to such a value (default ${p.default})`,
    );
  }
  return v as number;
}

/**
 * Checks a method's parameters against their declarations and fills in the defaults.
 *
 * @param id Method id (for the messages).
 * @param specs The declarations.
 * @param given The suite's parameters.
 * @returns The values.
 * @throws {RangeError} One line naming the fix, for an unknown key or a bad value.
 */
export function checkParams<P extends Record<string, ParamSpec>>(
  id: string,
  specs: P,
  given: Readonly<Record<string, unknown>>,
): ParamValues<P> {
  const names = Object.keys(specs);
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(specs, key)) continue;
    throw new RangeError(
      names.length === 0
        ? `${id} takes no parameters; remove "${key}" from its variant's params`
        : `${id}: unknown parameter "${key}" (valid: ${names.join(", ")}); fix or remove it`,
    );
  }
  const out: Record<string, number | string> = {};
  for (const [key, p] of Object.entries(specs)) {
    const v = given[key];
    if (v === undefined) out[key] = p.default;
    else if (p.kind === "number") out[key] = checkNumber(id, key, p, v);
    else if (typeof v === "string" && p.values.includes(v)) out[key] = v;
    else {
      throw new RangeError(
        `${id}: ${key} must be ${p.values.map((x) => `"${x}"`).join(" or ")}, got ${
          shown(v)
        }; set it to one of them (default "${p.default}")`,
      );
    }
  }
  return out as ParamValues<P>;
}

/**
 * Builds a method from its declaration: `prepare` checks the sparsity and the parameters first,
 * then calls the declaration's `prepare` with the checked values.
 *
 * @param def The declaration.
 * @returns The method.
 */
export function defineMethod<const P extends Record<string, ParamSpec>, const S extends boolean>(
  def: MethodDefinition<P, S>,
): DescribedMethod {
  return {
    id: def.id,
    title: def.title,
    paper: def.paper,
    skips: def.skips,
    needsSparsity: def.needsSparsity,
    calibration: def.calibration,
    calibrated: def.calibration === "thresholds",
    params: def.params,
    async prepare(ctx) {
      checkSparsity(def.id, def.needsSparsity, ctx.sparsity);
      const params = checkParams(def.id, def.params, ctx.params);
      const problem = def.check?.(params);
      if (problem) throw new RangeError(`${def.id}: ${problem}`);
      const sparsity = ctx.sparsity as S extends true ? number : null;
      return await def.prepare(ctx, { sparsity, params });
    },
  };
}
