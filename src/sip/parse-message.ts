/**
 * The SIP message parser (RFC 3261 §7, §7.3.1 folding, §7.5 leading CRLFs, §18.3 framing,
 * §20 compact forms, §25 grammar).
 *
 * It never throws. A malformed message yields `{ ok: false }` with a reason and, when the
 * start line could be read, the headers that did parse, so the transport can answer a request
 * with 400 (§8.2, §16.3), 413 or 505 (§21.5.6) without a second parse. A header section over
 * the limit yields 513 (§21.5.14) with only what a response needs (§8.2.6.2) read out of it.
 * Datagrams (UDP, §18.3): the body is the rest of the datagram, cut to Content-Length;
 * a Content-Length larger than the rest means the datagram is discarded. Streams (TCP): the
 * framer hands over exactly one message, whose Content-Length is mandatory.
 */
import { parseCSeq, parseNameAddr, parseVia } from './header-values.js';
import { LIST_HEADERS, SipHeaders, headerKey } from './headers.js';
import { splitHeaderList } from './header-params.js';
import { reasonPhrase, responseTo, type SipMessage, type SipRequest, type SipResponse } from './message.js';

export interface ParseOptions {
  /** `datagram` for UDP (default), `stream` for a message cut out of TCP by the framer. */
  framing?: 'datagram' | 'stream';
  /** Largest header section accepted, in bytes (default 16 KiB). */
  maxHeaderBytes?: number;
  /** Most header values accepted (default 256). */
  maxHeaders?: number;
}

/** What could be read of a malformed message. */
export interface PartialSipMessage {
  kind: 'request' | 'response';
  method?: string;
  uri?: string;
  status?: number;
  headers: SipHeaders;
}

export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      /** Human-readable, safe to put in a reason phrase. */
      error: string;
      /** The status a UAS answers a malformed request with: 400, 413, 505, or 513 when it is too large. */
      status: 400 | 413 | 505 | 513;
      partial?: PartialSipMessage;
    };

const TOKEN = "[A-Za-z0-9.!%*_+`'~-]+";
const REQUEST_LINE = new RegExp(`^(${TOKEN}) (\\S+) SIP/(\\d+\\.\\d+)$`);
const STATUS_LINE = /^SIP\/(\d+\.\d+) (\d{3})(?: (.*))?$/;
const HEADER_LINE = new RegExp(`^(${TOKEN})[ \\t]*:[ \\t]*(.*)$`);
/** Headers that must appear exactly once when present (§7.3.1: not comma lists). */
const SINGLE = ['from', 'to', 'call-id', 'cseq', 'content-length', 'max-forwards'];

export function parseSipMessage(input: Buffer | string, options: ParseOptions = {}): ParseResult {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
  const maxHeaders = options.maxHeaders ?? 256;
  const framing = options.framing ?? 'datagram';

  let start = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++; // §7.5
  if (start >= data.length) return fail('empty message', 400);

  const end = headerEnd(data, start);
  const headerBytes = (end?.headersEnd ?? data.length) - start;
  if (headerBytes > maxHeaderBytes) return oversized(data, start, end?.headersEnd ?? data.length, maxHeaderBytes);

  const lines = unfold(data.toString('utf8', start, end?.headersEnd ?? data.length));
  const startLine = lines.shift() ?? '';
  const partial = readStartLine(startLine);
  if (!partial) return fail('malformed start line', 400);
  const version = partial.version;
  const shell: PartialSipMessage = { ...partial.message, headers: new SipHeaders() };

  const problems: string[] = [];
  if (version !== '2.0') problems.push(`unsupported SIP version ${version}`);
  // §7.1: the Request-URI is an absoluteURI; anything without a scheme cannot be routed.
  if (shell.uri !== undefined && !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(shell.uri)) problems.push('malformed Request-URI');
  let count = 0;
  for (const line of lines) {
    const m = HEADER_LINE.exec(line);
    if (!m) {
      problems.push('malformed header line');
      continue;
    }
    const name = m[1] as string;
    const value = (m[2] as string).trim();
    const values = LIST_HEADERS.has(headerKey(name)) ? splitHeaderList(value) : [value];
    for (const v of values) {
      if (++count > maxHeaders) return fail(`more than ${maxHeaders} header values`, 413, shell);
      shell.headers.append(name, v);
    }
  }
  if (!end) problems.push('no empty line after the headers (truncated message)');

  problems.push(...checkHeaders(shell));
  if (problems.length > 0) {
    const status = version !== '2.0' ? 505 : 400;
    return fail(problems[0] as string, status, shell);
  }

  const body = readBody(data, end?.bodyStart ?? data.length, shell.headers, framing);
  if (typeof body === 'string') return fail(body, 400, shell);

  const message: SipMessage =
    shell.kind === 'request'
      ? { kind: 'request', method: shell.method as string, uri: shell.uri as string, headers: shell.headers, body }
      : { kind: 'response', status: shell.status as number, reason: partial.reason, headers: shell.headers, body };
  return { ok: true, message };
}

/**
 * The 400/413/505/513 a UAS sends for a malformed request, or `undefined` when it cannot answer:
 * a response, an ACK (never answered, §17.1.1.3), or too little to route a reply (§18.2.2
 * needs the top Via; §8.2.6.2 copies From, To, Call-ID and CSeq).
 */
export function rejectionFor(result: ParseResult): SipResponse | undefined {
  if (result.ok || !result.partial || result.partial.kind !== 'request') return undefined;
  const partial = result.partial;
  if (partial.method === 'ACK') return undefined;
  const h = partial.headers;
  const via = h.get('Via');
  if (via === undefined || !parseVia(via)) return undefined;
  if (!['From', 'To', 'Call-ID', 'CSeq'].every((name) => h.has(name))) return undefined;
  const request: SipRequest = {
    kind: 'request',
    method: partial.method ?? 'UNKNOWN',
    uri: partial.uri ?? '',
    headers: h,
    body: Buffer.alloc(0),
  };
  const reason = result.error.replace(/[\r\n]/g, ' ').slice(0, 100);
  return responseTo(request, result.status, undefined, `${reasonPhrase(result.status)} (${reason})`);
}

/**
 * The start of a stream whose header section (or whole message) outgrew the limit: a
 * request answered 513 when its start line and the headers a response copies can be read
 * from `head`, else `undefined`. The connection is closed after it (its framing is lost).
 */
export function oversizedRejection(head: Buffer, error: string, maxHeaderBytes: number): SipResponse | undefined {
  return rejectionFor(oversized(head, 0, head.length, maxHeaderBytes, error));
}

/**
 * A message over the limit: 513 Message Too Large (§21.5.14; §18.1.1 on sizes). Only the start
 * line and the headers a response copies (§8.2.6.2: Via, From, To, Call-ID, CSeq) are read, so
 * that the response can be formed; every other line is skipped unparsed. When those alone do
 * not fit in the limit, there is no partial message and nothing is answered.
 */
function oversized(data: Buffer, start: number, stop: number, maxHeaderBytes: number, error = `header section larger than ${maxHeaderBytes} bytes`): ParseResult {
  const lines = unfold(data.toString('utf8', start, stop));
  const partial = readStartLine(lines.shift() ?? '');
  if (!partial) return fail(error, 513);
  const shell: PartialSipMessage = { ...partial.message, headers: new SipHeaders() };
  let kept = 0;
  for (const line of lines) {
    const m = HEADER_LINE.exec(line);
    if (!m || !ANSWER_HEADERS.has(headerKey(m[1] as string))) continue;
    kept += line.length;
    if (kept > maxHeaderBytes) return fail(error, 513);
    const name = m[1] as string;
    const value = (m[2] as string).trim();
    for (const v of headerKey(name) === 'via' ? splitHeaderList(value) : [value]) shell.headers.append(name, v);
  }
  return checkHeaders(shell).length > 0 ? fail(error, 513) : fail(error, 513, shell);
}

/** What a response to a request copies from it (§8.2.6.2). */
const ANSWER_HEADERS: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

function fail(error: string, status: 400 | 413 | 505 | 513, partial?: PartialSipMessage): ParseResult {
  return partial ? { ok: false, error, status, partial } : { ok: false, error, status };
}

/** Finds the empty line; bare LF line ends are accepted as robustness (§7). */
function headerEnd(data: Buffer, from: number): { headersEnd: number; bodyStart: number } | undefined {
  const crlf = data.indexOf('\r\n\r\n', from, 'latin1');
  const lf = data.indexOf('\n\n', from, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headersEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headersEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

/** Splits into lines and joins continuation lines (§7.3.1: LWS folding is one SP). */
function unfold(text: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\r$/, '');
    if (/^[ \t]/.test(line) && lines.length > 1) {
      lines[lines.length - 1] = `${(lines[lines.length - 1] as string).trimEnd()} ${line.trim()}`;
    } else lines.push(line);
  }
  return lines;
}

function readStartLine(
  line: string,
): { message: Omit<PartialSipMessage, 'headers'>; version: string; reason: string } | undefined {
  const status = STATUS_LINE.exec(line);
  if (status) {
    const code = Number(status[2]);
    if (code < 100 || code > 699) return undefined;
    return { message: { kind: 'response', status: code }, version: status[1] as string, reason: status[3] ?? '' };
  }
  const request = REQUEST_LINE.exec(line);
  if (request) {
    return {
      message: { kind: 'request', method: request[1] as string, uri: request[2] as string },
      version: request[3] as string,
      reason: '',
    };
  }
  return undefined;
}

/** The mandatory headers of §8.1.1 and the values the layers above rely on. */
function checkHeaders(message: PartialSipMessage): string[] {
  const h = message.headers;
  const problems: string[] = [];
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    if (!h.has(name)) problems.push(`missing ${name}`);
  }
  for (const key of SINGLE) {
    if (h.getAll(key).length > 1) problems.push(`more than one ${key} header`);
  }
  for (const via of h.getAll('Via')) if (!parseVia(via)) problems.push('malformed Via');
  for (const name of ['From', 'To']) {
    const value = h.get(name);
    if (value !== undefined && !parseNameAddr(value)) problems.push(`malformed ${name}`);
  }
  const callId = h.get('Call-ID');
  if (callId !== undefined && !/^\S+$/.test(callId)) problems.push('malformed Call-ID');
  const cseqValue = h.get('CSeq');
  if (cseqValue !== undefined) {
    const cseq = parseCSeq(cseqValue);
    if (!cseq) problems.push('malformed CSeq');
    // §8.1.1.5: the CSeq method matches the request's; ACK and CANCEL carry their own.
    else if (message.kind === 'request' && cseq.method !== message.method) problems.push('CSeq method does not match the request method');
  }
  const maxForwards = h.get('Max-Forwards');
  if (maxForwards !== undefined && !/^\d{1,3}$/.test(maxForwards)) problems.push('malformed Max-Forwards');
  const length = h.get('Content-Length');
  if (length !== undefined && !/^\d{1,9}$/.test(length)) problems.push('malformed Content-Length');
  return problems;
}

function readBody(data: Buffer, bodyStart: number, headers: SipHeaders, framing: 'datagram' | 'stream'): Buffer | string {
  const rest = data.subarray(bodyStart);
  const lengthText = headers.get('Content-Length');
  if (lengthText === undefined) {
    // §18.3 / §20.14: Content-Length is mandatory on streams; a datagram's body is the rest.
    return framing === 'stream' ? 'missing Content-Length on a stream transport' : rest;
  }
  const length = Number(lengthText);
  if (length > rest.length) return `body shorter than Content-Length (${rest.length} < ${length})`;
  return rest.subarray(0, length);
}
