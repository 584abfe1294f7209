/**
 * An ordered, case-insensitive SIP header collection (RFC 3261 §7.3).
 *
 * Names compare case-insensitively and compact forms (§7.3.3, §20) are expanded to their long
 * form on the way in, so `v:` and `Via:` are the same header. Each stored entry is one value:
 * comma lists of multi-valued headers are split by the parser (§7.3.1), which keeps Via and
 * Route order intact and makes "top Via" simply the first entry.
 */

/** Compact forms of RFC 3261 §7.3.3 plus the extensions that SIP phones commonly send. */
const COMPACT: Record<string, string> = {
  i: 'Call-ID',
  f: 'From',
  t: 'To',
  v: 'Via',
  m: 'Contact',
  l: 'Content-Length',
  c: 'Content-Type',
  k: 'Supported',
  s: 'Subject',
  e: 'Content-Encoding',
  o: 'Event', // RFC 6665 §8.2.1
  r: 'Refer-To', // RFC 3515 §2.1
  u: 'Allow-Events', // RFC 6665
  x: 'Session-Expires', // RFC 4028
  b: 'Referred-By', // RFC 3892
};

/** The canonical spelling of headers we know, so serialised messages look conventional. */
const CANONICAL = new Map<string, string>(
  [
    'Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Authentication-Info',
    'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding',
    'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Expires',
    'From', 'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'MIME-Version', 'Organization',
    'Priority', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'Record-Route',
    'Reply-To', 'Require', 'Retry-After', 'Route', 'Server', 'Subject', 'Supported', 'Timestamp',
    'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate', 'Event',
    'Refer-To', 'Allow-Events', 'Session-Expires', 'Referred-By', 'RSeq', 'RAck',
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * Headers whose value is a comma-separated list (RFC 3261 §7.3.1 and the `#` rules of §25.1).
 * Authorization-style headers are not here: their commas separate auth parameters.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'content-encoding',
  'content-language', 'allow-events', 'in-reply-to', 'alert-info', 'call-info', 'error-info',
  'warning', 'reply-to',
]);

/** Long lower-case key of a header name: `V` → `via`, `Call-Id` → `call-id`. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  const expanded = lower.length === 1 ? COMPACT[lower] : undefined;
  return expanded === undefined ? lower : expanded.toLowerCase();
}

/** The spelling used when writing the header out. */
export function canonicalHeaderName(name: string): string {
  return CANONICAL.get(headerKey(name)) ?? name;
}

export interface SipHeader {
  name: string;
  value: string;
}

export class SipHeaders {
  private readonly entries: SipHeader[] = [];

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [name, value] of init) this.append(name, value);
  }

  /** Adds one value after the existing ones (order matters for Via, Route, Record-Route). */
  append(name: string, value: string): this {
    this.entries.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Adds one value before the existing ones: how a proxy or UAC pushes a new top Via. */
  prepend(name: string, value: string): this {
    this.entries.unshift({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Replaces every value of the header with one value. */
  set(name: string, value: string): this {
    const key = headerKey(name);
    const at = this.entries.findIndex((e) => headerKey(e.name) === key);
    this.delete(name);
    const entry = { name: canonicalHeaderName(name), value };
    if (at < 0) this.entries.push(entry);
    else this.entries.splice(at, 0, entry);
    return this;
  }

  delete(name: string): this {
    const key = headerKey(name);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (headerKey((this.entries[i] as SipHeader).name) === key) this.entries.splice(i, 1);
    }
    return this;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The first value, or undefined. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    return this.entries.find((e) => headerKey(e.name) === key)?.value;
  }

  /** Every value, in order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    return this.entries.filter((e) => headerKey(e.name) === key).map((e) => e.value);
  }

  [Symbol.iterator](): IterableIterator<SipHeader> {
    return this.entries.map((e) => ({ ...e }))[Symbol.iterator]();
  }

  get size(): number {
    return this.entries.length;
  }

  clone(): SipHeaders {
    return new SipHeaders(this.entries.map((e) => [e.name, e.value] as const));
  }
}
