/**
 * MP3 made from a recording's WAV, in a worker thread of its own (mp3-encoder-worker.ts): off
 * the event loop, and off the media threads, whose 20 ms ticks it must not delay. One worker,
 * started on the first request and kept (unref'd) for the next; requests queue in it one at a
 * time, so encoding never takes more than one core however many are asked for at once. A
 * worker that dies fails what it had and the next request starts a new one.
 *
 * The encoder is `wasm-media-encoders`: the reference LAME 3.100 (the `lame` Debian ships)
 * compiled to WebAssembly, MIT-licensed glue, no install script and nothing native to build.
 * Compared: `@breezystack/lamejs` (a maintained fork of lamejs, a JavaScript translation of
 * LAME 3.99 by way of a Java port) encoded ten minutes of 8 kHz mono in 4.9 s against 0.8 s
 * here, stereo 6.8 s against 1.6 s; `node-lame` runs a `lame` binary that its postinstall
 * downloads, which neither an offline install nor a machine without `lame` can do.
 *
 * Bitrate: 32 kbit/s CBR for mono, 64 kbit/s joint stereo for dual (MPEG-2.5 Layer III, the
 * layer LAME uses at 8 kHz, kept at 8 kHz): 16 kbit/s a channel, a quarter of G.711's 64 kbit/s,
 * where telephone speech (300–3400 Hz) is clean; an hour of mono is 14 MB. wasm-media-encoders
 * writes no LAME/Xing tag, so decoders cannot drop LAME's start-up delay: the audio plays some
 * 60 ms late (measured with `lame --decode`), which a recording can live with.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export const MONO_KBPS = 32;
export const STEREO_KBPS = 64;

/** A request to the worker: encode the WAV at `wavPath` into a new file at `mp3Path`. */
export interface Mp3Job {
  id: number;
  wavPath: string;
  mp3Path: string;
}

/** The worker's answer to a job: nothing, or why it failed. */
export interface Mp3Result {
  id: number;
  error?: { message: string; code?: string };
}

export class Mp3Encoder {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private closed = false;

  /** Writes `mp3Path` (which should be a temporary name: the caller renames it into place). */
  encode(wavPath: string, mp3Path: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the MP3 encoder is closed'));
    const worker = this.running();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // a request in flight keeps the process up until it is answered
      worker.postMessage({ id, wavPath, mp3Path } satisfies Mp3Job);
    });
  }

  /** Stops the worker; requests in flight fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the MP3 encoder was closed'));
    await worker?.terminate();
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    worker.on('message', (result: Mp3Result) => this.settle(result));
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`the MP3 encoder worker exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle({ id, error }: Mp3Result): void {
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    if (error) request.reject(Object.assign(new Error(error.message), error.code ? { code: error.code } : {}));
    else request.resolve();
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.failAll(error);
  }

  private failAll(error: Error): void {
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }
}

/**
 * From compiled code the worker is ./mp3-encoder-worker.js beside this file. From source (tests,
 * `tsx`) Node 20 does not apply `--import tsx` to a worker's entry, so a one-line bootstrap
 * registers tsx's hooks first, as media/worker-handle.ts does for the media worker.
 */
function startWorker(): Worker {
  if (!fileURLToPath(import.meta.url).endsWith('.ts')) return new Worker(new URL('./mp3-encoder-worker.js', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./mp3-encoder-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}
