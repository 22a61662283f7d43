import assert from "node:assert/strict";
import { checkParams, defineMethod } from "./_method_spec.ts";
import type { MethodContext } from "../src/method.ts";

const SPECS = {
  k: { kind: "number", integer: true, min: 1, max: 8, default: 2, doc: "k" },
  a: { kind: "number", min: 0, minExclusive: true, default: 0.5, doc: "a" },
  form: { kind: "choice", values: ["x", "y"], default: "x", doc: "form" },
} as const;

Deno.test("checkParams() fills in defaults and keeps given values", () => {
  assert.deepEqual(checkParams("m", SPECS, {}), { k: 2, a: 0.5, form: "x" });
  assert.deepEqual(checkParams("m", SPECS, { k: 8, a: 3, form: "y" }), { k: 8, a: 3, form: "y" });
});

Deno.test("checkParams() refuses a value of the wrong type or range, saying the range and the default", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ k: 1.5 }, /^RangeError: m: k must be an integer ≥ 1 and ≤ 8, got 1\.5; set k .*default 2/],
    [{ k: 9 }, /k must be an integer ≥ 1 and ≤ 8, got 9/],
    [{ k: "2" }, /k must be an integer ≥ 1 and ≤ 8, got "2"/],
    [{ a: 0 }, /a must be a number > 0, got 0/],
    [{ a: Infinity }, /a must be a number > 0, got Infinity/],
    [
      { form: "z" },
      /^RangeError: m: form must be "x" or "y", got "z"; set it to one of them \(default "x"\)$/,
    ],
  ];
  for (const [given, message] of cases) {
    assert.throws(() => checkParams("m", SPECS, given), message, JSON.stringify(given));
  }
});

Deno.test("checkParams() refuses an unknown key, listing the valid ones", () => {
  assert.throws(
    () => checkParams("m", SPECS, { kk: 1 }),
    /^RangeError: m: unknown parameter "kk" \(valid: k, a, form\); fix or remove it$/,
  );
  assert.throws(() => checkParams("m", {}, { kk: 1 }), /m takes no parameters; remove "kk"/);
});

Deno.test("defineMethod() checks sparsity and parameters before calling prepare", async () => {
  let calls = 0;
  const method = defineMethod({
    id: "m",
    title: "t",
    paper: "p",
    skips: "s",
    needsSparsity: true,
    calibration: "none",
    params: { n: { kind: "number", default: 1, doc: "n" } },
    check: ({ n }) => (n < 3 ? undefined : "n must be below 3; set n to 1 or 2"),
    prepare(ctx) {
      calls++;
      return Promise.resolve({ model: ctx.model, sparse: [], selection: [] });
    },
  });
  const ctx = (sparsity: number | null, params = {}): MethodContext => ({
    model: {},
    sparsity,
    params,
    seed: 0,
    capture: () => Promise.reject(new Error("no capture in this test")),
    valueShape: () => undefined,
  });
  await assert.rejects(method.prepare(ctx(1)), /^RangeError: m: sparsity 1 is outside \[0, 1\)/);
  await assert.rejects(method.prepare(ctx(null)), /needs a target sparsity/);
  await assert.rejects(method.prepare(ctx(0.5, { n: 3 })), /^RangeError: m: n must be below 3/);
  assert.equal(calls, 0);
  await method.prepare(ctx(0, { n: 2 }));
  assert.equal(calls, 1);
  assert.equal(method.calibrated, false);
});
