/**
 * The CSV exporter: one row per cell, the fixed columns of {@linkcode CSV_COLUMNS} then the
 * suite-specific `extra` columns sorted by name. Written with papaparse, which quotes fields that
 * hold commas, quotes or newlines.
 *
 * @module
 */

// @ts-types="npm:@types/papaparse@5.5.2"
import Papa from "papaparse";
import { type CellResult, CSV_COLUMNS } from "./result.ts";

/**
 * Renders cells as CSV text.
 *
 * @example Usage
 * ```ts ignore
 * await Deno.writeTextFile("results.csv", toCsv(cells));
 * ```
 *
 * @param cells The cells.
 * @returns CSV with a header row.
 */
export function toCsv(cells: readonly CellResult[]): string {
  const extras = [...new Set(cells.flatMap((c) => Object.keys(c.extra)))].sort();
  const fields = [...CSV_COLUMNS, ...extras];
  const data = cells.map((c) =>
    fields.map((f) => {
      const v = f in c.extra ? c.extra[f] : (c as unknown as Record<string, unknown>)[f];
      if (v === null || v === undefined) return "";
      if (typeof v === "number") {
        return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
      }
      return String(v);
    })
  );
  return Papa.unparse({ fields, data }, { newline: "\n" }) + "\n";
}

/**
 * Parses CSV text written by {@linkcode toCsv} back into rows of strings keyed by column.
 *
 * @param text CSV text.
 * @returns Rows.
 */
export function parseCsv(text: string): Record<string, string>[] {
  const parsed = Papa.parse<Record<string, string>>(text.trim(), {
    header: true,
    skipEmptyLines: true,
  });
  if (parsed.errors.length > 0) {
    throw new SyntaxError(`Cannot parse CSV: ${parsed.errors[0]!.message}`);
  }
  return parsed.data;
}
