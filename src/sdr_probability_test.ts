import assert from "node:assert/strict";
import { binomial, falseMatchExact, falseMatchLog, ratio } from "./sdr_probability.ts";

Deno.test("falseMatchExact() reproduces the values of Numenta's SDR notebook", () => {
  const three = (p: number) => Number(p.toPrecision(3));
  assert.equal(three(falseMatchExact({ n: 200000, a: 2000, s: 20, theta: 10 }).value), 1.65e-15);
  assert.equal(three(falseMatchExact({ n: 100000, a: 2000, s: 10, theta: 10 }).value), 1.0e-17);
  // Hawkins & Ahmad: 200K cells, 1 % active, 10 synapses, threshold 10 -> 9.8e-21.
  assert.equal(
    Number(falseMatchExact({ n: 200000, a: 2000, s: 10, theta: 10 }).value.toPrecision(2)),
    9.8e-21,
  );
});

Deno.test("falseMatchExact() agrees with the independent log-space computation to 3 significant digits over a grid", () => {
  let checked = 0;
  for (const n of [256, 1024, 2048, 16384, 200000, 1000000]) {
    for (const frac of [0.005, 0.02, 0.05]) {
      const a = Math.max(2, Math.round(n * frac));
      if (a > 4000) continue; // keeps the test fast; large a is covered by the next test
      for (const s of [8, 16, 24, 40]) {
        for (const theta of [1, 4, Math.ceil(s / 2), s]) {
          if (theta > Math.min(s, a)) continue;
          const exact = falseMatchExact({ n, a, s, theta });
          const log = falseMatchLog({ n, a, s, theta });
          if (exact.value === 0) continue;
          // Three significant digits: relative difference well under 5e-4.
          const rel = Math.abs(10 ** (exact.log10 - log) - 1);
          assert.ok(
            rel < 5e-4,
            `n=${n} a=${a} s=${s} θ=${theta}: exact ${exact.text} vs log-space 1e${log.toFixed(6)}`,
          );
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 150, `${checked} grid points`);
});

Deno.test("falseMatchExact() keeps 3 digits far below 1e-25, with n up to 10^6", () => {
  const p = falseMatchExact({ n: 1_000_000, a: 2000, s: 40, theta: 20 });
  assert.ok(p.log10 < -40, p.text);
  const rel = Math.abs(
    10 ** (p.log10 - falseMatchLog({ n: 1_000_000, a: 2000, s: 40, theta: 20 })) - 1,
  );
  assert.ok(rel < 5e-4);
});

Deno.test("the union case is the same formula with s·m synapses, and error grows with m", () => {
  const one = falseMatchExact({ n: 2048, a: 40, s: 20, theta: 10 });
  const four = falseMatchExact({ n: 2048, a: 40, s: 20, theta: 10, m: 4 });
  assert.equal(four.text, falseMatchExact({ n: 2048, a: 40, s: 80, theta: 10 }).text);
  assert.ok(four.value > one.value);
});

Deno.test("binomial() and ratio() are exact, and bad parameters are refused", () => {
  assert.equal(binomial(52, 5), 2598960n);
  assert.equal(binomial(5, 7), 0n);
  assert.equal(ratio(1n, 3n).text, "3.33333e-1");
  assert.throws(
    () => falseMatchExact({ n: 10, a: 20, s: 5, theta: 2 }),
    /more active cells than cells/,
  );
  assert.throws(() => falseMatchExact({ n: 100, a: 20, s: 5, theta: 0 }), /theta=0/);
  assert.equal(falseMatchExact({ n: 100, a: 3, s: 5, theta: 4 }).value, 0);
});
