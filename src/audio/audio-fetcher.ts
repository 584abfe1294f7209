/**
 * Media retrieval for `<Play>`, HoldUrl, WaitUrl, AnnounceUrl and simulated endpoints' `play=`:
 * GET a WAV, MP3 or raw μ-law file over http(s), bounded in time and size, decoded to 8 kHz mono
 * PCM16 (decode-audio.ts picks the decoder from the bytes, the Content-Type and the URL) and
 * cached. The cache, the limits and the shared download are the same whatever the format.
 *
 * Why hand-written here: undici's fetch (the client Node's fetch is built on) does the HTTP,
 * through the outbound-policy agent (src/net/outbound-agent.ts) that decides, connection by
 * connection and redirect by redirect, which addresses may be reached; what is left is policy
 * that no library states the way Twilio does — http(s) only, a non-2xx answer is a retrieval
 * failure, a body above the limit is refused while it streams in (a Content-Length above it is
 * refused before reading), and media is cached by URL because the same hold track or prompt is
 * played to caller after caller (Twilio caches `<Play>` media too). The cache honours no HTTP
 * caching headers: it is a plain LRU bounded by total samples (sample-cache.ts).
 *
 * Bounded work per URL: every file the decoders accept lasts at most MAX_AUDIO_SECONDS
 * (audio-limits.ts), 4.8 million samples, which the default cache holds three times over, so an
 * accepted file is decoded once. A file refused for what it is — too large, too long, not a
 * format Conclave plays — is remembered as refused for a minute (REFUSAL_TTL_MS, at most
 * MAX_REFUSALS URLs): a `<Play loop="0">` or caller after caller does not download and decode
 * the same 64 MB again each time, yet a file fixed on the server is played soon after. Failures
 * that may pass (timeouts, refused connections, 5xx) are not remembered. The body is read into
 * one buffer of its Content-Length when it has one, so the download holds the file once.
 *
 * Retrieval failures all carry the same message (src/net/retrieval-failure.ts): the reason
 * goes to `detail`, for the operator's log, because an announcement's failure reason is sent to
 * the account's application and must not tell a closed internal port from an open one.
 *
 * Callers asking for the same URL while it downloads share one request. The first caller's
 * `timeoutMs`/`maxBytes` govern it; each caller's `signal` only ends its own wait, and the
 * download is aborted once every waiting caller has given up.
 */
import { fetch, type Dispatcher, type Response } from 'undici';
import { defaultOutboundAgent } from '../net/outbound-agent.js';
import { failureDetail, NO_USABLE_ANSWER } from '../net/retrieval-failure.js';
import { AudioError, AudioFetchError, AudioFormatError } from './audio-error.js';
import { decodeAudio } from './decode-audio.js';
import { SampleCache } from './sample-cache.js';

export interface FetchAudioOptions {
  /** Whole request, headers and body, in milliseconds. */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface AudioFetcherOptions {
  /** Bounds the cache (default 8000 × 1800: 30 minutes of audio, 28.8 MB). */
  cacheMaxSamples?: number;
  /** Where connections are made: the app's outbound-policy agent; the built-in policy's when absent. */
  dispatcher?: Dispatcher;
  /** How long a refused file stays refused without being fetched again (default REFUSAL_TTL_MS). */
  refusalTtlMs?: number;
}

/** How long a file refused for its content is refused again without a request (see the file comment). */
export const REFUSAL_TTL_MS = 60_000;
/** URLs remembered as refused at most (the oldest is forgotten first). */
const MAX_REFUSALS = 256;

interface Download {
  promise: Promise<Int16Array>;
  controller: AbortController;
  waiters: number;
}

/** Fetches and decodes `<Play>` media, keeping recent results (see the file comment). */
export class AudioFetcher {
  private readonly cache: SampleCache;
  private readonly downloads = new Map<string, Download>();
  private readonly refusals = new Map<string, { error: AudioError; until: number }>();
  private readonly dispatcher: Dispatcher;
  private readonly refusalTtlMs: number;

  constructor(options: AudioFetcherOptions = {}) {
    this.cache = new SampleCache(options.cacheMaxSamples ?? 8000 * 1800);
    this.dispatcher = options.dispatcher ?? defaultOutboundAgent();
    this.refusalTtlMs = options.refusalTtlMs ?? REFUSAL_TTL_MS;
  }

  /**
   * GETs `url` (http or https only; user:password in the URL is sent as Basic auth) and decodes
   * the WAV, MP3 or raw μ-law file to 8 kHz mono PCM16 (shared, read-only), from the cache when
   * it holds it. Rejects with AudioFetchError (bad URL or scheme, no usable HTTP answer, over
   * `maxBytes`), AudioFormatError (not a format Conclave plays, one that does not decode, or
   * longer than MAX_AUDIO_SECONDS), or the signal's reason when `signal` aborts.
   */
  async fetch(url: string, options: FetchAudioOptions): Promise<Int16Array> {
    const key = checkUrl(url);
    options.signal?.throwIfAborted();
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const refused = this.refusals.get(key);
    if (refused !== undefined) {
      if (refused.until > performance.now()) throw refused.error;
      this.refusals.delete(key);
    }

    let download = this.downloads.get(key);
    if (download === undefined) {
      const controller = new AbortController();
      const promise = load(key, options, controller.signal, this.dispatcher)
        .then(
          (pcm) => {
            this.cache.set(key, pcm);
            return pcm;
          },
          (error: unknown) => {
            if (isRefusal(error)) this.remember(key, error);
            throw error;
          },
        )
        .finally(() => this.downloads.delete(key));
      download = { promise, controller, waiters: 0 };
      this.downloads.set(key, download);
    }
    // Callers without a signal wait to the end, so they keep the download alive for good.
    download.waiters++;
    const { signal } = options;
    if (signal === undefined) return download.promise;

    const shared = download;
    return new Promise<Int16Array>((resolve, reject) => {
      const onAbort = (): void => {
        if (--shared.waiters === 0) shared.controller.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      shared.promise.then(
        (pcm) => {
          signal.removeEventListener('abort', onAbort);
          resolve(pcm);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** Forgets every decoded sound and every refusal. */
  clearCache(): void {
    this.cache.clear();
    this.refusals.clear();
  }

  private remember(key: string, error: AudioError): void {
    this.refusals.delete(key);
    if (this.refusals.size >= MAX_REFUSALS) this.refusals.delete(this.refusals.keys().next().value as string);
    this.refusals.set(key, { error, until: performance.now() + this.refusalTtlMs });
  }
}

/** Refused for what the file is (its size or its content), not for a failure that may pass. */
function isRefusal(error: unknown): error is AudioError {
  return error instanceof AudioFormatError || (error instanceof AudioFetchError && error.tooLarge);
}

/** Parses `url`, accepting http and https only; returns its normalised form. */
function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AudioFetchError(`invalid media URL "${url}"`, url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AudioFetchError(`unsupported URL scheme "${parsed.protocol}": <Play> media is fetched over http(s) only`, url);
  }
  parsed.hash = '';
  return parsed.href;
}

/**
 * What the GET asks for: the types Twilio lists for `<Play>` that Conclave decodes
 * (https://www.twilio.com/docs/voice/twiml/play), then any audio, then anything at all, since a
 * file served as application/octet-stream is still recognised by its content.
 */
const ACCEPT = 'audio/wav, audio/wave, audio/x-wav, audio/mpeg, audio/ulaw, audio/basic, audio/*;q=0.8, */*;q=0.1';

/** One GET, streamed with the size limit, then decoded. */
async function load(href: string, options: FetchAudioOptions, cancel: AbortSignal, dispatcher: Dispatcher): Promise<Int16Array> {
  // Credentials in the URL (https://user:pass@host/…, as Twilio allows) become Basic auth: fetch
  // refuses them in the URL, and they must not appear in error messages.
  const target = new URL(href);
  const headers: Record<string, string> = { accept: ACCEPT };
  if (target.username !== '' || target.password !== '') {
    const user = decodeURIComponent(target.username);
    const pass = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const url = target.href;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([timeout, cancel]);
  const failed = (err: unknown): Error => {
    if (err instanceof AudioError) return err;
    if (cancel.aborted) return cancel.reason instanceof Error ? cancel.reason : new AudioFetchError(`GET ${url} was aborted`, url);
    const detail = timeout.aborted ? `no complete answer within ${options.timeoutMs} ms` : failureDetail(err);
    return new AudioFetchError(`GET ${url}: ${NO_USABLE_ANSWER}`, url, { detail, cause: err });
  };

  let bytes: Uint8Array;
  let contentType: string | null;
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'follow', signal, headers, dispatcher });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const detail = `answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      throw new AudioFetchError(`GET ${url}: ${NO_USABLE_ANSWER}`, url, { status: res.status, detail });
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > options.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge(url, options.maxBytes, res.status, `Content-Length ${declared}`);
    }
    contentType = res.headers.get('content-type');
    bytes = await readBody(res, url, options.maxBytes);
  } catch (err) {
    throw failed(err);
  }
  // The URL as requested (without credentials): its extension can mark raw μ-law. Decoding is
  // not under the request's timeout, but stops when every waiting caller has given up.
  return decodeAudio(bytes, { contentType, url, signal: cancel });
}

function tooLarge(url: string, maxBytes: number, status: number, what: string): AudioFetchError {
  return new AudioFetchError(`media at ${url} is larger than the ${maxBytes}-byte limit (${what})`, url, { status, tooLarge: true });
}

/**
 * Reads the body, cancelling the stream as soon as it passes `maxBytes`. With a Content-Length
 * the chunks are copied into one buffer of that size as they come, so the file is held once;
 * without, they are joined at the end.
 */
async function readBody(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  let whole = Number.isSafeInteger(declared) && declared >= 0 ? new Uint8Array(declared) : undefined;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.length > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(url, maxBytes, res.status, `more than ${maxBytes} bytes received`);
    }
    if (whole !== undefined && total + value.length <= whole.length) whole.set(value, total);
    else {
      // More than the Content-Length said (undici would fail it): go on with chunks.
      if (whole !== undefined) chunks.push(whole.subarray(0, total));
      whole = undefined;
      chunks.push(value);
    }
    total += value.length;
  }
  if (whole !== undefined) return total === whole.length ? whole : whole.subarray(0, total);
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
