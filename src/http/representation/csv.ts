/**
 * CSV as the 2010 API wrote it: a header row naming the columns, then one row per item
 * (RFC 4180 quoting). Column names are the PascalCase of the JSON keys; the caller leaves out
 * maps such as `subresource_uris`, which have no place in a flat row.
 */
import { pascalCase } from './resource-shape.js';

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvTable(keys: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [keys.map(pascalCase).join(',')];
  for (const row of rows) lines.push(keys.map((key) => cell(row[key])).join(','));
  return lines.join('\r\n') + '\r\n';
}
