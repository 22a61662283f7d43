/**
 * HTML built with escaping by construction: markup is written as `html` tagged templates, and
 * every value interpolated into one is escaped unless it is itself markup made by `html`. No
 * report code concatenates strings into HTML, so a hostile string in a run folder (a method id,
 * an error message, a device name) can only ever appear as text.
 *
 * @module
 */

/** A piece of markup made by {@linkcode html} (or from this project's own constant text). */
export class Html {
  readonly #text: string;

  private constructor(text: string) {
    this.#text = text;
  }

  /**
   * Wraps text the project itself wrote (constant markup, an inlined library's source) as markup.
   * Never pass a value read from a run folder.
   *
   * @param text Trusted markup.
   * @returns The markup.
   */
  static trusted(text: string): Html {
    return new Html(text);
  }

  /** The markup. */
  toString(): string {
    return this.#text;
  }
}

/** What may be interpolated into {@linkcode html}: markup, or values that become escaped text. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./html.ts";
 * console.log(escapeHtml('<b a="1">')); // "&lt;b a=&quot;1&quot;&gt;"
 * ```
 *
 * @param s Any value (null and undefined become "").
 * @returns Escaped text.
 */
export function escapeHtml(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(value);
}

/**
 * The tag for markup: `html\`<td>${value}</td>\`` escapes `value` unless it is markup; arrays
 * are joined. Attribute values must be quoted (an interpolation right after `=` throws), so a
 * value can never add an attribute of its own.
 *
 * @example
 * ```ts
 * import { html } from "./html.ts";
 * const name = "<img src=x onerror=alert(1)>";
 * console.log(String(html`<td title="${name}">${name}</td>`));
 * ```
 *
 * @param strings The template's literal parts.
 * @param values The interpolated values.
 * @returns The markup.
 * @throws {SyntaxError} When a value would land in an unquoted attribute.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    if (/\s[\w-]+=\s*$/.test(out)) {
      throw new SyntaxError(`html: quote the attribute before value ${i} ("${out.slice(-20)}")`);
    }
    out += render(values[i]!) + strings[i + 1]!;
  }
  return Html.trusted(out);
}

/**
 * JSON that is safe inside a `<script type="application/json">` element: no `<`, `>` or `&`
 * (so no `</script>` and no comment opener), and no line separators that old parsers reject.
 *
 * @param value Any JSON value.
 * @returns Script-safe JSON text.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * A data block: `<script type="application/json">` holding a value, which the page script
 * reads with `JSON.parse(el.textContent)`. Browsers never execute it, so CSP needs no hash.
 *
 * @param id The element id.
 * @param value The data.
 * @returns The markup.
 */
export function jsonScript(id: string, value: unknown): Html {
  return html`<script id="${id}" type="application/json">${
    Html.trusted(scriptJson(value))
  }</script>`;
}
