/**
 * Lexical helpers shared by the SIP header parsers: comma lists, `;name=value` parameters and
 * `host[:port]` (RFC 3261 §25.1 grammar: `COMMA`, `generic-param`, `hostport`, `quoted-string`).
 *
 * They never throw: callers get `undefined` for text that does not fit the grammar, so the
 * message parser can report "malformed" instead of crashing on hostile input.
 */

/** Header parameters keep their order; a flag parameter (`;lr`, `;rport`) has the value null. */
export type SipParams = Map<string, string | null>;

/**
 * Splits a header value on commas that are outside quoted strings and angle brackets
 * (RFC 3261 §7.3.1: a multi-valued header may be written as a comma-separated list; a comma
 * inside `"..."` or `<...>` belongs to a display name or URI).
 */
export function splitHeaderList(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (inQuotes) {
      if (c === '\\') i++; // quoted-pair: the next character is literal
      else if (c === '"') inQuotes = false;
    } else if (c === '"') inQuotes = true;
    else if (c === '<') inAngle = true;
    else if (c === '>') inAngle = false;
    else if (c === ',' && !inAngle) {
      items.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  items.push(value.slice(start).trim());
  return items.filter((item) => item.length > 0);
}

/** Parses `;a=1;b;c="x;y"` (the leading `;` optional). Names are lower-cased (§7.3.1). */
export function parseParams(text: string): SipParams | undefined {
  const params: SipParams = new Map();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ';' || text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    let nameEnd = i;
    while (nameEnd < n && !';= \t'.includes(text[nameEnd] as string)) nameEnd++;
    const name = text.slice(i, nameEnd).toLowerCase();
    if (name.length === 0) return undefined;
    i = nameEnd;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] !== '=') {
      params.set(name, null);
      continue;
    }
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] === '"') {
      const end = closingQuote(text, i);
      if (end < 0) return undefined;
      params.set(name, text.slice(i, end + 1));
      i = end + 1;
    } else {
      let end = i;
      while (end < n && text[end] !== ';') end++;
      const value = text.slice(i, end).trim();
      if (value.length === 0) return undefined;
      params.set(name, value);
      i = end;
    }
  }
  return params;
}

export function serializeParams(params: SipParams): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

/** Index of the `"` closing the quoted string opened at `open`, honouring `\` escapes; -1 if none. */
export function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

export interface HostPort {
  host: string;
  port?: number;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*|[0-9.]+)$/;

/** `example.com:5060`, `10.0.0.1`, `[::1]:5070` (RFC 3261 §25.1 `hostport`). */
export function parseHostPort(text: string): HostPort | undefined {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(0, close + 1);
    rest = text.slice(close + 1);
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
  }
  if (!HOST.test(host)) return undefined;
  if (rest === '') return { host };
  if (!/^:\d{1,5}$/.test(rest)) return undefined;
  const port = Number(rest.slice(1));
  if (port > 65535) return undefined;
  return { host, port };
}

export function serializeHostPort(hp: HostPort): string {
  return hp.port === undefined ? hp.host : `${hp.host}:${hp.port}`;
}
