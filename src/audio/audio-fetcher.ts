/**
 * Media retrieval for `<Play>`, HoldUrl, WaitUrl, AnnounceUrl and simulated endpoints' `play=`:
 * GET a WAV, MP3 or raw μ-law file over http(s), bounded in time and size, decoded to 8 kHz mono
 * PCM16 (decode-audio.ts picks the decoder from the bytes, the Content-Type and the URL) and
 * cached. The cache, the limits and the shared download are the same whatever the format.
 *
 * Why hand-written here: Node 20's global fetch does the HTTP; what is left is policy that no
 * library states the way Twilio does — http(s) only, a non-2xx answer is a retrieval failure,
 * a body above the limit is refused while it streams in (a Content-Length above it is refused
 * before reading), and media is cached by URL because the same hold track or prompt is played
 * to caller after caller (Twilio caches `<Play>` media too). The cache honours no HTTP caching
 * headers: it is a plain LRU bounded by total samples (sample-cache.ts).
 *
 * Callers asking for the same URL while it downloads share one request. The first caller's
 * `timeoutMs`/`maxBytes` govern it; each caller's `signal` only ends its own wait, and the
 * download is aborted once every waiting caller has given up.
 */
import { AudioError, AudioFetchError } from './audio-error.js';
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

interface Download {
  promise: Promise<Int16Array>;
  controller: AbortController;
  waiters: number;
}

/** Fetches and decodes `<Play>` media, keeping recent results (see the file comment). */
export class AudioFetcher {
  private readonly cache: SampleCache;
  private readonly downloads = new Map<string, Download>();

  /** `cacheMaxSamples` bounds the cache (default 8000 × 1800: 30 minutes of audio, 28.8 MB). */
  constructor(options: { cacheMaxSamples?: number } = {}) {
    this.cache = new SampleCache(options.cacheMaxSamples ?? 8000 * 1800);
  }

  /** Resolves with 8 kHz mono PCM16 (shared, read-only). See `fetchAudio`. */
  async fetch(url: string, options: FetchAudioOptions): Promise<Int16Array> {
    const key = checkUrl(url);
    options.signal?.throwIfAborted();
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;

    let download = this.downloads.get(key);
    if (download === undefined) {
      const controller = new AbortController();
      const promise = load(key, options, controller.signal)
        .then((pcm) => {
          this.cache.set(key, pcm);
          return pcm;
        })
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

  clearCache(): void {
    this.cache.clear();
  }
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
async function load(href: string, options: FetchAudioOptions, cancel: AbortSignal): Promise<Int16Array> {
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
    if (timeout.aborted) return new AudioFetchError(`GET ${url} timed out after ${options.timeoutMs} ms`, url, undefined, { cause: err });
    if (cancel.aborted) return cancel.reason instanceof Error ? cancel.reason : new AudioFetchError(`GET ${url} was aborted`, url);
    const why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return new AudioFetchError(`GET ${url} failed: ${why}`, url, undefined, { cause: err });
  };

  let bytes: Uint8Array;
  let contentType: string | null;
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'follow', signal, headers });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new AudioFetchError(`GET ${url} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, url, res.status);
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
  return new AudioFetchError(`media at ${url} is larger than the ${maxBytes}-byte limit (${what})`, url, status);
}

/** Reads the body in chunks, cancelling the stream as soon as it passes `maxBytes`. */
async function readBody(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(url, maxBytes, res.status, `more than ${maxBytes} bytes received`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

const shared = new AudioFetcher();

/**
 * GETs `url` (http or https only; user:password in the URL is sent as Basic auth) and decodes
 * the WAV, MP3 or raw μ-law file to 8 kHz mono PCM16, using a process-wide LRU cache keyed by
 * URL. Rejects with AudioFetchError (bad URL or scheme, non-2xx, over `maxBytes`, timeout,
 * network error), AudioFormatError (not a format Conclave plays, or one that does not decode, or
 * an MP3 longer than mp3-decoder.ts's MAX_MP3_SECONDS), or the signal's reason when `signal`
 * aborts.
 */
export function fetchAudio(url: string, options: FetchAudioOptions): Promise<Int16Array> {
  return shared.fetch(url, options);
}

/** Empties `fetchAudio`'s cache. */
export function clearAudioCache(): void {
  shared.clearCache();
}
