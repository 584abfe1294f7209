/**
 * HTTP requests to an application's webhooks, shaped like Twilio's: form-encoded POST (or GET
 * with the parameters in the query string), signed with `X-Twilio-Signature`, `User-Agent:
 * TwilioProxy/1.1`, an `I-Twilio-Idempotency-Token`, a timeout and a cap on the response size.
 * Every failure is a WebhookError saying which kind it was and carrying its Twilio error code.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-overview and
 * https://www.twilio.com/docs/usage/security#validating-requests
 *
 * `fetchTwiml` adds Twilio's fallback rule: when the primary URL fails (error, timeout, non-2xx,
 * or a body that is not TwiML) the fallback URL is requested with the same parameters plus
 * `ErrorCode` and `ErrorUrl`. https://www.twilio.com/docs/usage/webhooks/voice-webhooks
 * Failures without a usable HTTP answer all look alike from outside (webhook-error.ts,
 * src/net/retrieval-failure.ts).
 *
 * Every request connects through an undici Agent that applies the outbound policy
 * (src/net/outbound-agent.ts) to each connection, redirects included.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fetch, Headers, type Dispatcher, type Response } from 'undici';
import { defaultOutboundAgent } from '../net/outbound-agent.js';
import { failureDetail, NO_USABLE_ANSWER, systemErrorCode } from '../net/retrieval-failure.js';
import type { WebhookPurpose, WebhookRequestReport } from '../domain/call-timeline.js';
import { signatureFor, type WebhookParams } from './signature.js';
import { WebhookError, WebhookErrorCode, type WebhookErrorKind } from './webhook-error.js';

export type WebhookMethod = 'GET' | 'POST';

export interface WebhookRequest {
  url: string;
  method: WebhookMethod;
  params: WebhookParams;
  /** The account's auth token, the HMAC key of the signature. */
  authToken: string;
  /** Whole request, body included; defaults to the client's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /** Aborts the request (kind `aborted`), e.g. on shutdown. */
  signal?: AbortSignal;
  /** Sent as `I-Twilio-Idempotency-Token`; a fresh UUID when absent. Reuse it for a retry. */
  idempotencyToken?: string;
  /**
   * Read and drop the response body instead of returning it (status callbacks): an answer of
   * any size then succeeds, and `body` is empty.
   */
  discardBody?: boolean;
  /** Why it is requested, as the observer is told (a call's timeline); default `twiml`. */
  purpose?: WebhookPurpose;
}

export interface WebhookResponse {
  status: number;
  /** The Content-Type header as sent, `''` when absent. */
  contentType: string;
  body: Buffer;
  /** The URL requested (with GET parameters), which is the URL that was signed. */
  url: string;
}

export interface TwimlFetchRequest {
  url: string;
  method: WebhookMethod;
  fallbackUrl?: string;
  /** Default POST. */
  fallbackMethod?: WebhookMethod;
  params: WebhookParams;
  authToken: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * A stricter check of the document, e.g. the TwiML parser: throw to reject it (the error's
   * numeric `code`, if any, becomes the `ErrorCode`). Without it, the body only has to start
   * with a `<Response>` element.
   */
  validate?: (twiml: string) => void;
  /** Default `twiml`. */
  purpose?: WebhookPurpose;
}

export interface TwimlFetchResult {
  twiml: string;
  from: 'url' | 'fallback';
  /** The URL that answered, as configured (primary or fallback): the base for relative URLs in it. */
  url: string;
  contentType: string;
  /** When `from` is `fallback`: why the primary URL failed. */
  primaryFailure?: WebhookError;
}

export interface WebhookClientOptions {
  /** Cap on a response body; default 1 MiB. */
  maxBodyBytes?: number;
  /** Default 15000 ms, Twilio's webhook timeout. */
  defaultTimeoutMs?: number;
  /** Where connections are made: the app's outbound-policy agent; the built-in policy's when absent. */
  dispatcher?: Dispatcher;
  /** Told of each request sent: how long it took, and why it failed if it did (the metrics). */
  observe?: WebhookObserver;
}

/**
 * A request's duration in seconds, its failure's kind (undefined: a 2xx answer read in full), and
 * the whole of it: why, where, the call it was for, the answer or the error (a call's timeline).
 */
export type WebhookObserver = (seconds: number, failure: WebhookErrorKind | undefined, report: WebhookRequestReport) => void;

/** What Twilio sends as User-Agent. */
export const TWILIO_USER_AGENT = 'TwilioProxy/1.1';
const MEBIBYTE = 1024 * 1024;
/** Media types a TwiML document may be served as. */
const TWIML_CONTENT_TYPES = new Set(['text/xml', 'application/xml', 'text/plain', 'text/html']);

export class WebhookClient {
  private readonly maxBodyBytes: number;
  private readonly defaultTimeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly observe: WebhookObserver;

  constructor(options: WebhookClientOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? MEBIBYTE;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 15_000;
    this.dispatcher = options.dispatcher ?? defaultOutboundAgent();
    this.observe = options.observe ?? (() => undefined);
  }

  /**
   * One signed request; resolves only for a 2xx answer whose body fits the cap and passes
   * `check` (a WebhookError it throws is the request's failure, as the observer is told).
   */
  async request(request: WebhookRequest, check?: (response: WebhookResponse) => void): Promise<WebhookResponse> {
    const { method } = request;
    const target = parseWebhookUrl(request.url, method);
    const headers = new Headers({
      'User-Agent': TWILIO_USER_AGENT,
      Accept: '*/*',
      'I-Twilio-Idempotency-Token': request.idempotencyToken ?? randomUUID(),
    });
    // Credentials in the URL are sent as HTTP Basic auth, as Twilio does; fetch refuses them in URLs.
    if (target.username !== '' || target.password !== '') {
      const user = decodeURIComponent(target.username);
      const password = decodeURIComponent(target.password);
      headers.set('Authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
      target.username = '';
      target.password = '';
    }
    // Errors name the URL as configured, without credentials and without the GET parameters.
    const shownUrl = target.toString();
    let body: string | undefined;
    if (method === 'GET') {
      for (const [key, value] of formEntries(request.params)) target.searchParams.append(key, value);
    } else {
      body = new URLSearchParams(formEntries(request.params)).toString();
      headers.set('Content-Type', 'application/x-www-form-urlencoded');
    }
    const url = target.toString();
    headers.set('X-Twilio-Signature', signatureFor(request.authToken, url, method === 'POST' ? request.params : {}));

    const timeoutMs = request.timeoutMs ?? this.defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
    const failure = (error: unknown): WebhookError =>
      error instanceof WebhookError
        ? error
        : transportError(error, method, shownUrl, { timedOut: timeout.aborted, aborted: request.signal?.aborted ?? false, timeoutMs });
    const started = performance.now();
    const observed = (status: number | undefined, failed?: WebhookError): void => {
      const seconds = (performance.now() - started) / 1000;
      const callSid = request.params.CallSid;
      this.observe(seconds, failed?.kind, {
        purpose: request.purpose ?? 'twiml',
        method,
        url: shownUrl,
        callSid: typeof callSid === 'string' ? callSid : undefined,
        status,
        errorCode: failed?.code,
        // The message without its leading `METHOD URL: `, which the report has apart.
        error: failed?.message.slice(failed.message.indexOf(': ') + 2),
        durationMs: Math.round(seconds * 1000),
      });
    };
    try {
      const response = await fetch(url, { method, headers, body, signal, redirect: 'follow', dispatcher: this.dispatcher });
      const contentType = response.headers.get('content-type') ?? '';
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => undefined);
        throw new WebhookError('http-status', method, shownUrl, NO_USABLE_ANSWER, { status: response.status, detail: `answered HTTP ${response.status}` });
      }
      const responseBody = await this.readBody(response, method, shownUrl, request.discardBody ?? false);
      const answer = { status: response.status, contentType, body: responseBody, url };
      check?.(answer);
      observed(response.status);
      return answer;
    } catch (error) {
      const failed = failure(error);
      observed(failed.status, failed);
      throw failed;
    }
  }

  /** The TwiML document for a call, from `url` or else from `fallbackUrl`. */
  async fetchTwiml(request: TwimlFetchRequest): Promise<TwimlFetchResult> {
    const { fallbackUrl, ...primary } = request;
    let primaryFailure: WebhookError;
    try {
      return { ...(await this.twimlFrom(primary, request.url, request.method)), from: 'url' };
    } catch (error) {
      if (!(error instanceof WebhookError) || error.kind === 'aborted' || fallbackUrl === undefined) throw error;
      primaryFailure = error;
    }
    const params = { ...request.params, ErrorCode: String(primaryFailure.code), ErrorUrl: primaryFailure.url };
    try {
      const answer = await this.twimlFrom({ ...primary, params }, fallbackUrl, request.fallbackMethod ?? 'POST');
      return { ...answer, from: 'fallback', primaryFailure };
    } catch (error) {
      if (error instanceof WebhookError) error.primaryFailure = primaryFailure;
      throw error;
    }
  }

  private async twimlFrom(
    request: Omit<TwimlFetchRequest, 'fallbackUrl'>,
    url: string,
    method: WebhookMethod,
  ): Promise<Omit<TwimlFetchResult, 'from'>> {
    const response = await this.request({ ...request, url, method }, (answer) => checkTwiml(answer, method, url, request.validate));
    return { twiml: response.body.toString('utf-8'), url, contentType: response.contentType };
  }

  private async readBody(response: Response, method: string, url: string, discard: boolean): Promise<Buffer> {
    const tooLarge = (): WebhookError =>
      new WebhookError('too-large', method, url, `answered a body larger than ${this.maxBodyBytes} bytes`, {
        status: response.status,
      });
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > this.maxBodyBytes) {
      await response.body?.cancel().catch(() => undefined);
      if (discard) return Buffer.alloc(0);
      throw tooLarge();
    }
    if (response.body === null) return Buffer.alloc(0);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxBodyBytes) {
        await reader.cancel().catch(() => undefined);
        if (discard) return Buffer.alloc(0);
        throw tooLarge();
      }
      if (!discard) chunks.push(value);
    }
    return discard ? Buffer.alloc(0) : Buffer.concat(chunks, size);
  }
}

/** Throws the `not-twiml` failure of an answer that is not a TwiML document, or that `validate` rejects. */
function checkTwiml(response: WebhookResponse, method: WebhookMethod, url: string, validate: ((twiml: string) => void) | undefined): void {
  const notTwiml = (message: string, code?: number): WebhookError =>
    new WebhookError('not-twiml', method, withoutCredentials(url), message, { status: response.status, ...(code ? { code } : {}) });
  const mediaType = response.contentType.split(';')[0]!.trim().toLowerCase();
  if (!TWIML_CONTENT_TYPES.has(mediaType)) {
    const shown = response.contentType === '' ? 'no Content-Type' : `Content-Type ${response.contentType}`;
    throw notTwiml(`answered ${shown}; TwiML must be text/xml or application/xml`, WebhookErrorCode.invalidContentType);
  }
  const twiml = response.body.toString('utf-8');
  if (!startsWithResponseElement(twiml)) throw notTwiml('answered a body that is not a TwiML <Response> document');
  if (validate !== undefined) {
    try {
      validate(twiml);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      throw notTwiml(
        `answered TwiML that was rejected: ${error instanceof Error ? error.message : String(error)}`,
        typeof code === 'number' ? code : undefined,
      );
    }
  }
}

function parseWebhookUrl(url: string, method: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new WebhookError('bad-url', method, url, 'is not an absolute URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new WebhookError('bad-url', method, url, `has scheme ${target.protocol} but must be http or https`);
  }
  return target;
}

/** The URL without user:password, for errors and logs. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

function formEntries(params: WebhookParams): [string, string][] {
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string') entries.push([key, value]);
    else for (const item of value) entries.push([key, item]);
  }
  return entries;
}

/** Skips a BOM, the XML declaration, comments, processing instructions and a doctype. */
function startsWithResponseElement(text: string): boolean {
  const prolog = /^\uFEFF?(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>)*/;
  const rest = text.slice(prolog.exec(text)?.[0].length ?? 0);
  return /^<Response[\s/>]/.test(rest);
}

interface TransportState {
  timedOut: boolean;
  aborted: boolean;
  timeoutMs: number;
}

function transportError(error: unknown, method: string, url: string, state: TransportState): WebhookError {
  const { timedOut, aborted, timeoutMs } = state;
  if (aborted) {
    return new WebhookError('aborted', method, url, 'the request was aborted', { cause: error });
  }
  if (timedOut) {
    return new WebhookError('timeout', method, url, NO_USABLE_ANSWER, { cause: error, detail: `no complete answer within ${timeoutMs} ms` });
  }
  const causeCode = systemErrorCode(error);
  return new WebhookError('connection', method, url, NO_USABLE_ANSWER, {
    cause: error,
    detail: failureDetail(error),
    ...(causeCode === undefined ? {} : { causeCode }),
  });
}
