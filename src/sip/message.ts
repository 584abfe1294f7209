/**
 * The SIP message model (RFC 3261 §7): a request (§7.1) or a response (§7.2), headers and a
 * body, plus typed accessors for the headers the transaction and dialog layers read.
 *
 * Accessors return `undefined` instead of throwing, because a message can be built by code as
 * well as parsed; `parseSipMessage` guarantees the mandatory ones are present and valid.
 */
import {
  parseCSeq,
  parseNameAddr,
  parseVia,
  type CSeq,
  type NameAddr,
  type Via,
} from './header-values.js';
import { splitHeaderList } from './header-params.js';
import { SipHeaders } from './headers.js';

export interface SipRequest {
  kind: 'request';
  method: string;
  /** The Request-URI as written; parse it with `parseSipUri` when needed. */
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export function createRequest(
  method: string,
  uri: string,
  headers: Iterable<readonly [string, string]> = [],
  body: Buffer | string = Buffer.alloc(0),
): SipRequest {
  return { kind: 'request', method, uri, headers: new SipHeaders(headers), body: toBuffer(body) };
}

/** A response with the reason phrase of §21 when none is given. */
export function createResponse(
  status: number,
  headers: Iterable<readonly [string, string]> = [],
  reason: string = reasonPhrase(status),
  body: Buffer | string = Buffer.alloc(0),
): SipResponse {
  return { kind: 'response', status, reason, headers: new SipHeaders(headers), body: toBuffer(body) };
}

/**
 * A response to `request` with Via, From, To, Call-ID and CSeq copied as §8.2.6.2 requires;
 * `toTag` is added to To when it has none (the UAS's dialog tag).
 */
export function responseTo(request: SipRequest, status: number, toTag?: string, reason?: string): SipResponse {
  const response = createResponse(status, [], reason ?? reasonPhrase(status));
  for (const via of request.headers.getAll('Via')) response.headers.append('Via', via);
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
    const value = request.headers.get(name);
    if (value !== undefined) response.headers.append(name, value);
  }
  const to = response.headers.get('To');
  if (toTag !== undefined && to !== undefined && parseNameAddr(to)?.tag === undefined) {
    response.headers.set('To', `${to};tag=${toTag}`);
  }
  return response;
}

function toBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** All Via values, top first. */
export function vias(message: SipMessage): Via[] {
  return message.headers.getAll('Via').flatMap((value) => {
    const via = parseVia(value);
    return via ? [via] : [];
  });
}

export function topVia(message: SipMessage): Via | undefined {
  const first = message.headers.get('Via');
  return first === undefined ? undefined : parseVia(first);
}

export function fromHeader(message: SipMessage): NameAddr | undefined {
  return parseOptional(message.headers.get('From'), parseNameAddr);
}

export function toHeader(message: SipMessage): NameAddr | undefined {
  return parseOptional(message.headers.get('To'), parseNameAddr);
}

export function callId(message: SipMessage): string | undefined {
  return message.headers.get('Call-ID')?.trim();
}

export function cseq(message: SipMessage): CSeq | undefined {
  return parseOptional(message.headers.get('CSeq'), parseCSeq);
}

/** Contact values; a `*` (REGISTER removal, §10.2.2) is left out. */
export function contacts(message: SipMessage): NameAddr[] {
  return message.headers.getAll('Contact').flatMap((value) => {
    const addr = value.trim() === '*' ? undefined : parseNameAddr(value);
    return addr ? [addr] : [];
  });
}

/** Max-Forwards (§20.22): 0–255, `undefined` when absent or not a number. */
export function maxForwards(message: SipMessage): number | undefined {
  const value = message.headers.get('Max-Forwards')?.trim();
  if (value === undefined || !/^\d{1,3}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 255 ? n : undefined;
}

export interface ContentType {
  /** `application/sdp`, lower-cased. */
  mediaType: string;
  params: Map<string, string>;
}

export function contentType(message: SipMessage): ContentType | undefined {
  const value = message.headers.get('Content-Type');
  if (value === undefined) return undefined;
  const [type, ...rest] = value.split(';');
  const mediaType = (type ?? '').trim().toLowerCase();
  if (!/^[a-z0-9!#$&.+^_`{}~-]+\/[a-z0-9!#$&.+^_`{}~*-]+$/.test(mediaType)) return undefined;
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, ''));
  }
  return { mediaType, params };
}

/** Values of a list header (Allow, Supported, Require), split and trimmed. */
export function listValues(message: SipMessage, name: string): string[] {
  return message.headers.getAll(name).flatMap(splitHeaderList);
}

function parseOptional<T>(value: string | undefined, parse: (v: string) => T | undefined): T | undefined {
  return value === undefined ? undefined : parse(value);
}

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued',
  183: 'Session Progress', 200: 'OK', 202: 'Accepted', 300: 'Multiple Choices',
  301: 'Moved Permanently', 302: 'Moved Temporarily', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 407: 'Proxy Authentication Required',
  408: 'Request Timeout', 413: 'Request Entity Too Large', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending',
  500: 'Server Internal Error', 501: 'Not Implemented', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

/** The reason phrase RFC 3261 §21 suggests for a status code. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? REASONS[Math.floor(status / 100) * 100] ?? 'Unknown';
}
