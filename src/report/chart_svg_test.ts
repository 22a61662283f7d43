import assert from "node:assert/strict";
import { chartSvg, tickLabel } from "./chart_svg.ts";
import type { ChartSpec } from "./chart_spec.ts";

const line: ChartSpec = {
  id: "demo-speedup",
  title: "demo: speedup <over> dense & more",
  kind: "line",
  datasets: [
    {
      label: `TEAL "50 %" <script>`,
      data: [{ x: 0.25, y: 1.1, low: 1.0, high: 1.2 }, { x: 0.5, y: 1.5, low: 1.3, high: 1.7 }],
    },
    { label: "CATS", data: [{ x: 0.25, y: 0.9 }, { x: 0.5, y: 1.0 }] },
    { label: "ideal", data: [{ x: 0, y: 1 }, { x: 0.5, y: 2 }], dashed: true },
  ],
  xTitle: "sparsity",
  yTitle: "speedup (x)",
  logY: true,
  refLines: [{ y: 1, label: "1.0x (dense)" }],
};

/** Every opened element is closed, in order: the file parses as XML. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === "/") continue;
    if (m[1] === "/") assert.equal(stack.pop(), m[2], `unbalanced </${m[2]}>`);
    else stack.push(m[2]!);
  }
  assert.deepEqual(stack, []);
}

Deno.test("chartSvg() draws a standalone SVG: a line per series, error bars, reference lines, escaped labels", () => {
  const svg = chartSvg(line);
  assert.ok(
    svg.startsWith(
      `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"`,
    ),
  );
  assertBalanced(svg);
  assert.equal(svg.match(/<polyline /g)?.length, 3, "two series and the dashed ideal");
  assert.equal(svg.match(/<circle /g)?.length, 4, "points of the two solid series only");
  assert.equal(svg.match(/<path d="M/g)?.length, 2, "one error bar per point with an interval");
  assert.ok(svg.includes("1.0x (dense)"));
  assert.ok(svg.includes("demo: speedup &lt;over&gt; dense &amp; more"));
  assert.ok(svg.includes("TEAL &quot;50 %&quot; &lt;script&gt;"));
  assert.ok(!svg.includes("<script"), "no label becomes markup");
  assert.ok(!/NaN|Infinity|undefined/.test(svg));
});

Deno.test("chartSvg() puts the reference line and a point of the same value at the same height", () => {
  const svg = chartSvg({
    id: "acc",
    title: "accuracy",
    kind: "scatter",
    datasets: [{ label: "a", data: [{ x: 1, y: 0.9 }, { x: 2, y: 0.5 }] }],
    refLines: [{ y: 0.9, label: "dense" }],
  });
  const cy = /<circle cx="[\d.]+" cy="([\d.]+)" r="3" /.exec(svg)?.[1];
  const refY = /<line x1="64" x2="944" y1="([\d.]+)" y2="\1" stroke="#555"/.exec(svg)?.[1];
  assert.ok(cy && refY);
  assert.ok(Math.abs(Number(cy) - Number(refY)) < 0.2, `${cy} vs ${refY}`);
});

Deno.test("chartSvg() draws bars from zero with one label per category", () => {
  const svg = chartSvg({
    id: "flops",
    title: "FLOPs",
    kind: "bar",
    labels: ["TEAL 50 %", "CATS 50 %", "top-k 50 %"],
    datasets: [{ label: "FLOPs reduction", data: [2, 1.2, null] }],
    yTitle: "x fewer FLOPs",
  });
  assertBalanced(svg);
  assert.equal(svg.match(/<rect x=/g)?.length, 1 + 2, "the plot frame and two bars (null skipped)");
  for (const l of ["TEAL 50 %", "CATS 50 %", "top-k 50 %"]) assert.ok(svg.includes(`>${l}</text>`));
  assert.ok(!svg.includes(">-"), "no negative tick on a chart of positive bars");
});

Deno.test("tickLabel() prints log ticks as 1, 2 and 5 per decade, short and exponential at the ends", () => {
  assert.equal(tickLabel(1e-6, true), "1e-6");
  assert.equal(tickLabel(3e-6, true), "");
  assert.equal(tickLabel(0.2, true), "0.2");
  assert.equal(tickLabel(50000, false), "5e4");
  assert.equal(tickLabel(0.30000000000000004, false), "0.3");
  assert.equal(tickLabel(0, false), "0");
});
