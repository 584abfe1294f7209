/**
 * AudioFetcher against a real local HTTP server: decoding (WAV, MP3 made by lame, raw μ-law),
 * status errors, size limits (declared and streamed), timeouts, schemes, redirects, caching and
 * aborts, the limits and the cache holding for MP3 as for WAV; failures that all read the same
 * (the detail is for the log), refusals remembered, and a 63 MB WAV decoded in slices and in
 * bounded memory, or refused from its header when it is too long.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AudioFetchError, AudioFormatError } from '../../src/audio/audio-error.js';
import { AudioFetcher } from '../../src/audio/audio-fetcher.js';
import { MULAW_ENCODE } from '../../src/media/codec/g711.js';
import { NO_USABLE_ANSWER } from '../../src/net/retrieval-failure.js';
import { bigWav, db, encodeWav, lameMp3, sine, toneAmplitude } from './wav-helpers.js';

const TONE = encodeWav({ rate: 16000, encoding: 's16', channels: [sine(1000, 16000, 1)] });
/** One second of 1 kHz at 44.1 kHz stereo, 128 kbit/s, made by lame. */
const TONE_MP3 = lameMp3(encodeWav({ rate: 44100, encoding: 's16', channels: [sine(1000, 44100, 1), sine(1000, 44100, 1)] }), ['-b', '128']);
/** One second of 1 kHz as raw 8 kHz μ-law. */
const TONE_ULAW = Uint8Array.from(sine(1000, 8000, 1), (x) => MULAW_ENCODE[Math.round(x * 32768) & 0xffff]!);
const NOISE = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) & 0xff);
/** The Accept header of the last request. */
let lastAccept: string | undefined;
const hits = new Map<string, number>();
/** Bytes the /endless handler managed to write, and whether the client hung up on it. */
const endless = { written: 0, closed: false };
let server: Server;
let base: string;
/** Big files served by path (made by the tests that need them). */
const big = new Map<string, Buffer>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  lastAccept = req.headers.accept;
  if (path.startsWith('/mp3/')) {
    // /mp3/…: MP3 served as audio/mpeg; /mp3/octet/…: as application/octet-stream; /mp3/chunked/…:
    // without a Content-Length.
    const type = path.startsWith('/mp3/octet/') ? 'application/octet-stream' : 'audio/mpeg';
    res.writeHead(200, path.startsWith('/mp3/chunked/') ? { 'content-type': type } : { 'content-type': type, 'content-length': TONE_MP3.length });
    res.end(TONE_MP3);
  } else if (path.startsWith('/ulaw/')) {
    // /ulaw/basic/…: served as audio/basic; otherwise as application/octet-stream (the URL decides).
    res.writeHead(200, { 'content-type': path.startsWith('/ulaw/basic/') ? 'audio/basic' : 'application/octet-stream' });
    res.end(TONE_ULAW);
  } else if (path === '/noise.bin') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(NOISE);
  } else if (path.startsWith('/tone')) {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': TONE.length });
    res.end(TONE);
  } else if (path === '/slow-tone.wav') {
    setTimeout(() => res.end(TONE), 200);
  } else if (path === '/missing.wav') {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such file');
  } else if (path === '/error.wav') {
    res.writeHead(500);
    res.end();
  } else if (path === '/redirect.wav') {
    res.writeHead(302, { location: '/tone-redirected.wav' });
    res.end();
  } else if (path === '/big.wav') {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 10_000_000 });
    res.end(new Uint8Array(10_000_000));
  } else if (path === '/endless.wav') {
    // Chunked, no Content-Length: keeps writing until the client goes away.
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.on('close', () => (endless.closed = true));
    const block = new Uint8Array(64 * 1024);
    const pump = (): void => {
      if (res.destroyed || endless.written > 50_000_000) {
        res.end();
        return;
      }
      endless.written += block.length;
      if (res.write(block)) setImmediate(pump);
      else res.once('drain', pump);
    };
    pump();
  } else if (path === '/hang.wav') {
    res.on('close', () => hits.set('/hang.wav:closed', 1));
    // never answers
  } else if (path === '/private.wav') {
    const ok = req.headers.authorization === `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    res.writeHead(ok ? 200 : 401);
    res.end(ok ? TONE : undefined);
  } else if (big.has(path)) {
    const body = big.get(path)!;
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length });
    res.end(body);
  } else if (path === '/page.html') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!DOCTYPE html><html><body>Welcome</body></html>');
  } else {
    res.writeHead(404);
    res.end();
  }
}

beforeAll(async () => {
  server = createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
let fetcher: AudioFetcher;
beforeEach(() => {
  fetcher = new AudioFetcher();
});
const fetchAudio = (url: string, options: Parameters<AudioFetcher['fetch']>[1]): Promise<Int16Array> => fetcher.fetch(url, options);

const opts = { timeoutMs: 2000, maxBytes: 1_000_000 };
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => new Error('expected a rejection'), (e: unknown) => e);

describe('AudioFetcher.fetch', () => {
  it('GETs a WAV and decodes it to 8 kHz', async () => {
    const pcm = await fetchAudio(`${base}/tone.wav`, opts);
    expect(pcm.length).toBe(8000);
    expect(Math.abs(db(toneAmplitude(pcm, 1000), 16384))).toBeLessThan(0.2);
  });

  it('rejects a non-2xx answer with the status (for the log; the message says no more than for any failure)', async () => {
    const err = await failure(fetchAudio(`${base}/missing.wav`, opts));
    expect(err).toBeInstanceOf(AudioFetchError);
    expect((err as AudioFetchError).status).toBe(404);
    expect((err as AudioFetchError).detail).toBe('answered 404 Not Found');
    expect((err as Error).message).toBe(`GET ${base}/missing.wav: ${NO_USABLE_ANSWER}`);
    expect(((await failure(fetchAudio(`${base}/error.wav`, opts))) as AudioFetchError).status).toBe(500);
  });

  it('refuses a body whose Content-Length is above maxBytes', async () => {
    const err = await failure(fetchAudio(`${base}/big.wav`, opts));
    expect(err).toBeInstanceOf(AudioFetchError);
    expect((err as Error).message).toMatch(/larger than the 1000000-byte limit \(Content-Length 10000000\)/);
  });

  it('stops reading a streamed body once it passes maxBytes', async () => {
    const err = await failure(fetchAudio(`${base}/endless.wav`, opts));
    expect((err as Error).message).toMatch(/larger than the 1000000-byte limit \(more than 1000000 bytes received\)/);
    await expect.poll(() => endless.closed, { timeout: 2000 }).toBe(true);
    expect(endless.written).toBeLessThan(20_000_000);
  });

  it('times out', async () => {
    const err = await failure(fetchAudio(`${base}/hang.wav`, { timeoutMs: 200, maxBytes: 1000 }));
    expect(err).toBeInstanceOf(AudioFetchError);
    expect((err as AudioFetchError).detail).toBe('no complete answer within 200 ms');
    expect((err as Error).message).toBe(`GET ${base}/hang.wav: ${NO_USABLE_ANSWER}`);
  });

  it('GETs an MP3 and decodes it to 8 kHz, asking for the types Conclave plays', async () => {
    const pcm = await fetchAudio(`${base}/mp3/tone.mp3`, opts);
    expect(Math.abs(pcm.length - 8000)).toBeLessThan(100);
    expect(Math.abs(db(toneAmplitude(pcm, 1000), 16384))).toBeLessThan(1);
    expect(lastAccept).toMatch(/^audio\/wav, .*audio\/mpeg, .*audio\/basic/);
  });

  it('recognises an MP3 served as application/octet-stream by its content, whatever the URL', async () => {
    for (const path of ['/mp3/octet/download?id=7', '/mp3/octet/hold.wav', '/mp3/octet/prompt.ul']) {
      const pcm = await fetchAudio(`${base}${path}`, opts);
      expect(Math.abs(db(toneAmplitude(pcm, 1000), 16384))).toBeLessThan(1);
    }
  });

  it('plays raw μ-law: audio/basic, or a .ul/.ulaw URL served as application/octet-stream', async () => {
    for (const path of ['/ulaw/basic/prompt', '/ulaw/prompt.ul', '/ulaw/prompt.ulaw']) {
      const pcm = await fetchAudio(`${base}${path}`, opts);
      expect(pcm.length).toBe(8000);
      expect(Math.abs(db(toneAmplitude(pcm, 1000), 16384))).toBeLessThan(0.2);
    }
    // Without the extension, application/octet-stream says nothing: noise is not played.
    const err = await failure(fetchAudio(`${base}/ulaw/prompt`, opts));
    expect(err).toBeInstanceOf(AudioFormatError);
  });

  it('refuses what it cannot recognise, saying what Conclave plays', async () => {
    const err = await failure(fetchAudio(`${base}/noise.bin`, opts));
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toBe(
      'cannot play this file (served as application/octet-stream; unrecognised content starting with bytes 0d fc eb da): Conclave plays WAV, MP3 and raw μ-law (.ul)',
    );
  });

  it('applies the size limit to MP3 too, declared or streamed', async () => {
    const small = { ...opts, maxBytes: TONE_MP3.length - 1 };
    const declared = await failure(fetchAudio(`${base}/mp3/big.mp3`, small));
    expect(declared).toBeInstanceOf(AudioFetchError);
    expect((declared as Error).message).toMatch(new RegExp(`larger than the ${small.maxBytes}-byte limit \\(Content-Length ${TONE_MP3.length}\\)`));
    const streamed = await failure(fetchAudio(`${base}/mp3/chunked/big.mp3`, small));
    expect(streamed).toBeInstanceOf(AudioFetchError);
    expect((streamed as Error).message).toMatch(/more than \d+ bytes received/);
    expect((await fetchAudio(`${base}/mp3/chunked/fits.mp3`, { ...opts, maxBytes: TONE_MP3.length })).length).toBeGreaterThan(7900);
  });

  it('caches an MP3 by URL like a WAV', async () => {
    const a = await fetchAudio(`${base}/mp3/cached.mp3`, opts);
    const b = await fetchAudio(`${base}/mp3/cached.mp3#again`, opts);
    expect(b).toBe(a);
    expect(hits.get('/mp3/cached.mp3')).toBe(1);
    fetcher.clearCache();
    expect(await fetchAudio(`${base}/mp3/cached.mp3`, opts)).not.toBe(a);
    expect(hits.get('/mp3/cached.mp3')).toBe(2);
  });

  it('fails with AudioFormatError when the body is not a WAV', async () => {
    const err = await failure(fetchAudio(`${base}/page.html`, opts));
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toMatch(/HTML/);
  });

  it('accepts http(s) only', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/a.wav', 'data:audio/wav;base64,UklGRg==', 'javascript:alert(1)']) {
      const err = await failure(fetchAudio(url, opts));
      expect(err).toBeInstanceOf(AudioFetchError);
      expect((err as Error).message).toMatch(/^unsupported URL scheme/);
    }
    expect(((await failure(fetchAudio('not a url', opts))) as Error).message).toBe('invalid media URL "not a url"');
  });

  it('reports a connection failure', async () => {
    const closed = createHttpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(fetchAudio(`http://127.0.0.1:${port}/a.wav`, opts));
    expect(err).toBeInstanceOf(AudioFetchError);
    expect((err as AudioFetchError).detail).toBe('ECONNREFUSED');
  });

  it('sends credentials in the URL as Basic auth and keeps them out of messages', async () => {
    const host = base.replace('http://', '');
    expect((await fetchAudio(`http://user:p%40ss@${host}/private.wav`, opts)).length).toBe(8000);
    const err = await failure(fetchAudio(`http://user:wrong@${host}/private.wav`, opts));
    expect((err as AudioFetchError).status).toBe(401);
    expect((err as Error).message).toBe(`GET ${base}/private.wav: ${NO_USABLE_ANSWER}`);
  });

  it('follows redirects', async () => {
    expect((await fetchAudio(`${base}/redirect.wav`, opts)).length).toBe(8000);
    expect(hits.get('/tone-redirected.wav')).toBeGreaterThanOrEqual(1);
  });

  it('caches by URL (fragment ignored) and clearCache forgets', async () => {
    const a = await fetchAudio(`${base}/tone-cached.wav`, opts);
    const b = await fetchAudio(`${base}/tone-cached.wav#again`, opts);
    expect(b).toBe(a);
    expect(hits.get('/tone-cached.wav')).toBe(1);
    fetcher.clearCache();
    await fetchAudio(`${base}/tone-cached.wav`, opts);
    expect(hits.get('/tone-cached.wav')).toBe(2);
  });

  it('does not remember failures that may pass (a 404, a timeout, a refused connection)', async () => {
    await failure(fetchAudio(`${base}/missing.wav`, opts));
    const before = hits.get('/missing.wav') ?? 0;
    await failure(fetchAudio(`${base}/missing.wav`, opts));
    expect(hits.get('/missing.wav')).toBe(before + 1);
  });

  it('remembers a file refused for what it is, and refuses it again without a request until the refusal expires', async () => {
    const first = await failure(fetchAudio(`${base}/page.html`, opts));
    expect(first).toBeInstanceOf(AudioFormatError);
    const before = hits.get('/page.html')!;
    expect(await failure(fetchAudio(`${base}/page.html#again`, opts))).toBe(first);
    const tooBig = await failure(fetchAudio(`${base}/big.wav`, opts));
    expect(await failure(fetchAudio(`${base}/big.wav`, opts))).toBe(tooBig);
    expect(hits.get('/page.html')).toBe(before);
    fetcher.clearCache();
    await failure(fetchAudio(`${base}/page.html`, opts));
    expect(hits.get('/page.html')).toBe(before + 1);
    // With no time to remember, every play asks again.
    const forgetful = new AudioFetcher({ refusalTtlMs: 0 });
    await failure(forgetful.fetch(`${base}/page.html`, opts));
    await failure(forgetful.fetch(`${base}/page.html`, opts));
    expect(hits.get('/page.html')).toBe(before + 3);
  });

  it('tells a closed port, a silent one, one that speaks no HTTP, an error status and a refused address apart in `detail` only', async () => {
    const sockets: Socket[] = [];
    const garbage = createTcpServer((socket) => {
      sockets.push(socket);
      socket.end('SSH-2.0-OpenSSH_9.2\r\n');
    });
    const silent = createTcpServer((socket) => sockets.push(socket));
    const closed = createTcpServer();
    for (const s of [garbage, silent, closed]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const portOf = (s: ReturnType<typeof createTcpServer>): number => (s.address() as AddressInfo).port;
    const closedPort = portOf(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    try {
      const urls = {
        closed: `http://127.0.0.1:${closedPort}/a.wav`,
        silent: `http://127.0.0.1:${portOf(silent)}/a.wav`,
        'not HTTP': `http://127.0.0.1:${portOf(garbage)}/a.wav`,
        '404': `${base}/missing.wav`,
        'link-local': 'http://169.254.169.254/latest/meta-data/a.wav',
        metadata: 'http://metadata.google.internal/a.wav',
      };
      const seen: Record<string, { message: string; detail: string | undefined }> = {};
      for (const [name, url] of Object.entries(urls)) {
        const err = (await failure(fetchAudio(url, { timeoutMs: 500, maxBytes: 1000 }))) as AudioFetchError;
        expect(err, name).toBeInstanceOf(AudioFetchError);
        seen[name] = { message: err.message.replace(url, '<url>'), detail: err.detail };
      }
      expect(new Set(Object.values(seen).map((s) => s.message))).toEqual(new Set([`GET <url>: ${NO_USABLE_ANSWER}`]));
      expect(seen.closed!.detail).toBe('ECONNREFUSED');
      expect(seen.silent!.detail).toBe('no complete answer within 500 ms');
      expect(seen['not HTTP']!.detail).toMatch(/does not match the HTTP\/1\.1 protocol/);
      expect(seen['link-local']!.detail).toBe(
        'connection to 169.254.169.254 refused by the outbound policy: 169.254.169.254 is in the built-in deny list (link-local): 169.254.0.0/16',
      );
      expect(seen.metadata!.detail).toMatch(/metadata\.google\.internal is the name of a cloud metadata service/);
    } finally {
      for (const socket of sockets) socket.destroy();
      for (const s of [garbage, silent]) await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
});

/** The process's resident set high-water mark (VmHWM), in bytes, and a way to reset it (Linux). */
const peakRss = {
  reset(): void {
    writeFileSync('/proc/self/clear_refs', '5');
  },
  read(): number {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return Number(kb) * 1024;
  },
};

describe('a 63 MB WAV', () => {
  const MB = 1024 * 1024;
  const media = { timeoutMs: 30_000, maxBytes: 64 * MB }; // the limits media-audio.ts passes

  it('six minutes of 48 kHz 16-bit stereo: decoded in slices, holding little beyond the file itself, then cached', async () => {
    big.set('/big-accepted.wav', bigWav(63 * MB, 48000, 2, 16));
    const url = `${base}/big-accepted.wav`;
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    const loop = monitorEventLoopDelay({ resolution: 10 });
    peakRss.reset();
    const rssBefore = process.memoryUsage.rss();
    loop.enable();
    setImmediate(tick);
    const pcm = await fetcher.fetch(url, media);
    running = false;
    loop.disable();
    const growth = peakRss.read() - rssBefore;
    const frames = (63 * MB - 44) / 4;
    expect(pcm.length).toBe(Math.round(frames / 6));
    expect(Math.abs(db(toneAmplitude(pcm.subarray(0, 8000), 1000), 16384))).toBeLessThan(0.2);
    // Sliced: other work ran between slices, and no turn waited long (a generous bound: a slice takes milliseconds).
    expect(turns).toBeGreaterThan(frames / 16384 / 2);
    expect(loop.max / 1e6).toBeLessThan(1000);
    // The file once (63 MB), its 8 kHz result (5.5 MB) and the download's garbage not yet
    // collected (about 100 MB in all, measured) — not the file again as chunks and as floats of
    // every source frame (the old decoder's 217 MB).
    expect(growth / MB).toBeLessThan(150);
    // Cached: the second play makes no request.
    expect(await fetcher.fetch(url, media)).toBe(pcm);
    expect(hits.get('/big-accepted.wav')).toBe(1);
    big.delete('/big-accepted.wav');
  }, 120_000);

  it('four hours of 4 kHz 8-bit mono: refused from its header, saying the limit; the next play fails at once', async () => {
    big.set('/big-refused.wav', bigWav(63 * MB, 4000, 1, 8));
    const url = `${base}/big-refused.wav`;
    const err = await failure(fetcher.fetch(url, media));
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toBe('WAV too long: it lasts 16515.1 s, more than the 600 s of audio Conclave plays from one file');
    expect(await failure(fetcher.fetch(url, media))).toBe(err);
    expect(hits.get('/big-refused.wav')).toBe(1);
    big.delete('/big-refused.wav');
  }, 120_000);
});

describe('AudioFetcher', () => {
  it('shares one request among concurrent callers', async () => {
    const fetcher = new AudioFetcher();
    const results = await Promise.all([1, 2, 3].map(() => fetcher.fetch(`${base}/tone-shared.wav`, opts)));
    expect(results[1]).toBe(results[0]);
    expect(results[2]).toBe(results[0]);
    expect(hits.get('/tone-shared.wav')).toBe(1);
  });

  it('shares one MP3 download and its decoding among concurrent callers', async () => {
    const fetcher = new AudioFetcher();
    const results = await Promise.all([1, 2, 3].map(() => fetcher.fetch(`${base}/mp3/shared.mp3`, opts)));
    expect(results[1]).toBe(results[0]);
    expect(results[2]).toBe(results[0]);
    expect(hits.get('/mp3/shared.mp3')).toBe(1);
  });

  it('bounds its cache by samples, MP3 and WAV alike', async () => {
    const fetcher = new AudioFetcher({ cacheMaxSamples: 20_000 });
    for (const url of ['/mp3/lru-a.mp3', '/tone-lru-mixed-b.wav', '/mp3/lru-a.mp3', '/mp3/lru-c.mp3']) await fetcher.fetch(`${base}${url}`, opts);
    await fetcher.fetch(`${base}/mp3/lru-a.mp3`, opts); // kept: used after b
    await fetcher.fetch(`${base}/tone-lru-mixed-b.wav`, opts); // evicted by c
    expect(hits.get('/mp3/lru-a.mp3')).toBe(1);
    expect(hits.get('/tone-lru-mixed-b.wav')).toBe(2);
  });

  it('bounds its cache by samples, least recently used out first', async () => {
    const fetcher = new AudioFetcher({ cacheMaxSamples: 20_000 });
    for (const name of ['a', 'b', 'a', 'c']) await fetcher.fetch(`${base}/tone-lru-${name}.wav`, opts);
    await fetcher.fetch(`${base}/tone-lru-a.wav`, opts); // kept: used after b
    await fetcher.fetch(`${base}/tone-lru-b.wav`, opts); // evicted by c
    expect(hits.get('/tone-lru-a.wav')).toBe(1);
    expect(hits.get('/tone-lru-b.wav')).toBe(2);
  });

  it('an aborted caller stops waiting with the signal reason; others still get the audio', async () => {
    const fetcher = new AudioFetcher();
    const controller = new AbortController();
    const quitter = failure(fetcher.fetch(`${base}/slow-tone.wav`, { ...opts, signal: controller.signal }));
    const stayer = fetcher.fetch(`${base}/slow-tone.wav`, opts);
    controller.abort(new Error('caller hung up'));
    expect(((await quitter) as Error).message).toBe('caller hung up');
    expect((await stayer).length).toBe(8000);
    expect(hits.get('/slow-tone.wav')).toBe(1);
  });

  it('aborts the download when its only caller gives up, and refuses an already aborted signal', async () => {
    const fetcher = new AudioFetcher();
    const controller = new AbortController();
    const pending = failure(fetcher.fetch(`${base}/hang.wav`, { timeoutMs: 10_000, maxBytes: 1000, signal: controller.signal }));
    await expect.poll(() => hits.get('/hang.wav') ?? 0).toBeGreaterThan(0);
    controller.abort(new Error('bye'));
    expect(((await pending) as Error).message).toBe('bye');
    await expect.poll(() => hits.get('/hang.wav:closed'), { timeout: 2000 }).toBe(1);
    await expect(fetcher.fetch(`${base}/tone.wav`, { ...opts, signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
  });
});
