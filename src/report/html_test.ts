import assert from "node:assert/strict";
import { escapeHtml, Html, html, jsonScript, scriptJson } from "./html.ts";

Deno.test("html`` escapes every interpolated string and keeps markup made by html``", () => {
  const evil = `"><img src=x onerror=alert(1)>'&`;
  const out = String(html`<td title="${evil}">${evil}${html`<b>${evil}</b>`}</td>`);
  assert.ok(!out.includes("<img"), out);
  assert.equal(
    out,
    `<td title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;<b>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;</b></td>`,
  );
  assert.equal(String(html`${[1, "<", null, undefined, [html`<i>`, ">"]]}`), "1&lt;<i>&gt;");
});

Deno.test("html`` refuses a value in an unquoted attribute", () => {
  assert.throws(() => html`<a href=${"x onmouseover=alert(1)"}>`, /quote the attribute/);
  assert.equal(String(html`<p>speedup = ${2}</p>`), "<p>speedup = 2</p>");
});

Deno.test("scriptJson() and jsonScript() keep a data block closed whatever the strings hold", () => {
  const value = { s: "</script><script>alert(1)</script><!--", u: "\u2028" };
  const text = scriptJson(value);
  assert.ok(!/[<>&\u2028]/.test(text));
  assert.deepEqual(JSON.parse(text), value);
  const block = String(jsonScript("d", value));
  assert.equal(block.match(/<\/script>/g)?.length, 1);
  assert.match(block, /^<script id="d" type="application\/json">/);
});

Deno.test("escapeHtml() and Html.trusted() are the only ways text becomes markup", () => {
  assert.equal(escapeHtml(null), "");
  assert.equal(escapeHtml(`<&>"'`), "&lt;&amp;&gt;&quot;&#39;");
  assert.equal(String(Html.trusted("<b>")), "<b>");
});
