/**
 * CSV as the 2010 API wrote it: a header row naming the columns, then one row per item
 * (RFC 4180 quoting). Column names are the PascalCase of the JSON keys; the caller leaves out
 * maps such as `subresource_uris`, which have no place in a flat row.
 *
 * A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a
 * formula by the spreadsheet that opens the file (a label such as `=HYPERLINK(…)` set through
 * the API, say), so it is written as OWASP's CSV Injection page advises: a single quote before
 * it, and the whole cell in double quotes. Spreadsheets show such a cell as the text it is;
 * a program reading the CSV sees the leading `'` (`'+15005550006`) and should drop it. Numbers
 * Conclave itself writes are left as they are.
 */
import { pascalCase } from './resource-shape.js';

const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) return `"'${text.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvTable(keys: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [keys.map(pascalCase).join(',')];
  for (const row of rows) lines.push(keys.map((key) => cell(row[key])).join(','));
  return lines.join('\r\n') + '\r\n';
}
