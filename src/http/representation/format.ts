/**
 * The representations of the 2010-04-01 API: XML by default, JSON with `.json`, CSV with `.csv`
 * ("Twilio's 2010 APIs … respond as XML by default, but can also return JSON, CSV"; see
 * reference/twilio-api.md §1.1). The suffix is taken off the path before routing.
 */
export type Format = 'xml' | 'json' | 'csv';

const SUFFIX: Record<Format, string> = { xml: '', json: '.json', csv: '.csv' };

export const CONTENT_TYPE: Record<Format, string> = {
  xml: 'application/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** The suffix that URIs carry in a representation: none in XML, `.json` in JSON, `.csv` in CSV. */
export function suffixOf(format: Format): string {
  return SUFFIX[format];
}

const FORMAT_SUFFIX = /\.(json|csv|xml)$/;

/** Splits `/a/b.json?x=1` into the path without suffix, the format and the query string. */
export function splitFormat(url: string): { path: string; format: Format; query: string } {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  const match = FORMAT_SUFFIX.exec(path);
  if (!match) return { path, format: 'xml', query };
  return { path: path.slice(0, -match[0].length), format: match[1] as Format, query };
}
