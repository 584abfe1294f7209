/**
 * Typed values of the headers every transaction and dialog needs: Via (RFC 3261 §20.42,
 * §18.2.1 received, RFC 3581 rport), From/To/Contact name-addr (§20.10, §20.20, §20.39), CSeq
 * (§20.16). Each parser returns `undefined` for a value that does not fit the grammar.
 */
import {
  closingQuote,
  parseHostPort,
  parseParams,
  serializeHostPort,
  serializeParams,
  type SipParams,
} from './header-params.js';
import { parseSipUri, type SipUri } from './sip-uri.js';

/** The RFC 3261 branch prefix (§8.1.1.7): branches starting with it are unique per transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  /** `UDP`, `TCP`, `TLS`, `WS`... upper-cased. */
  transport: string;
  host: string;
  port?: number;
  params: SipParams;
  branch?: string;
  received?: string;
  /** RFC 3581: `true` when the flag is present without a value (a request asking for it). */
  rport?: number | true;
}

const VIA = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+([^;\s]+(?:\s*:\s*\d+)?)\s*(;.*)?$/is;

export function parseVia(value: string): Via | undefined {
  const m = VIA.exec(value.trim());
  if (!m) return undefined;
  const hostPort = parseHostPort((m[2] as string).replace(/\s+/g, ''));
  if (!hostPort) return undefined;
  const params = m[3] === undefined ? new Map() : parseParams(m[3]);
  if (!params) return undefined;
  const via: Via = { transport: (m[1] as string).toUpperCase(), host: hostPort.host, params };
  if (hostPort.port !== undefined) via.port = hostPort.port;
  const branch = params.get('branch');
  if (typeof branch === 'string') via.branch = branch;
  const received = params.get('received');
  if (typeof received === 'string') via.received = received;
  if (params.has('rport')) {
    const rport = params.get('rport');
    if (rport === null || rport === undefined) via.rport = true;
    else if (/^\d{1,5}$/.test(rport)) via.rport = Number(rport);
    else return undefined;
  }
  return via;
}

export function serializeVia(via: Via): string {
  return `SIP/2.0/${via.transport} ${serializeHostPort(via)}${serializeParams(via.params)}`;
}

/** `host:port` of a Via, the "sent-by" that transaction matching compares (§17.2.3). */
export function sentBy(via: Via): string {
  return `${via.host.toLowerCase()}:${via.port ?? (via.transport === 'TLS' ? 5061 : 5060)}`;
}

export interface NameAddr {
  displayName?: string;
  /** The URI exactly as written (it may be a tel: or other scheme). */
  uri: string;
  /** The parsed URI when it is sip: or sips:. */
  sipUri?: SipUri;
  /** Header parameters (`tag`, `expires`, `q`), not the URI's own parameters. */
  params: SipParams;
  tag?: string;
}

/**
 * From, To, Contact, Route values: `"Alice" <sip:a@b>;tag=1`, `Alice <sip:a@b>`, or the bare
 * addr-spec `sip:a@b;tag=1` in which, per §20.10, every `;` parameter belongs to the header.
 */
export function parseNameAddr(value: string): NameAddr | undefined {
  const text = value.trim();
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  let i = 0;
  if (text.startsWith('"')) {
    const end = closingQuote(text, 0);
    if (end < 0) return undefined;
    displayName = text.slice(1, end).replace(/\\(.)/g, '$1');
    i = end + 1;
  }
  const open = text.indexOf('<', i);
  if (open >= 0) {
    const between = text.slice(i, open).trim();
    if (displayName !== undefined && between.length > 0) return undefined;
    if (displayName === undefined && between.length > 0) displayName = between;
    const close = text.indexOf('>', open);
    if (close < 0) return undefined;
    uri = text.slice(open + 1, close).trim();
    rest = text.slice(close + 1);
  } else {
    if (displayName !== undefined) return undefined;
    const semi = text.indexOf(';');
    uri = semi < 0 ? text : text.slice(0, semi);
    rest = semi < 0 ? '' : text.slice(semi);
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(uri)) return undefined;
  rest = rest.trim();
  if (rest.length > 0 && !rest.startsWith(';')) return undefined;
  const params = parseParams(rest);
  if (!params) return undefined;
  const result: NameAddr = { uri, params };
  if (displayName !== undefined) result.displayName = displayName;
  const sipUri = parseSipUri(uri);
  if (sipUri) result.sipUri = sipUri;
  const tag = params.get('tag');
  if (typeof tag === 'string') result.tag = tag;
  return result;
}

export function serializeNameAddr(addr: NameAddr): string {
  const display =
    addr.displayName === undefined ? '' : `"${addr.displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${display}<${addr.uri}>${serializeParams(addr.params)}`;
}

export interface CSeq {
  seq: number;
  method: string;
}

const CSEQ = /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/;

/** CSeq: a 32-bit sequence number below 2**31 (§8.1.1.5) and a method token. */
export function parseCSeq(value: string): CSeq | undefined {
  const m = CSEQ.exec(value.trim());
  if (!m) return undefined;
  const seq = Number(m[1]);
  if (seq >= 2 ** 31) return undefined;
  return { seq, method: m[2] as string };
}
