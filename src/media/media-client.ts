/**
 * The control plane's handle on the media worker: starts the worker thread, sends typed
 * requests (promises with a timeout) and emits the worker's notifications as events
 * ('talking', 'legClosed', 'played', 'dtmf'), plus 'error' and 'exit' for the worker itself.
 *
 * Started from compiled code (dist/…/media-client.js) it loads ./worker.js next to it. Started
 * from source (tests and `tsx`, where this file is .ts) it loads ./worker.ts with tsx's loader
 * registered in the worker (`--import tsx`).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type {
  MediaEngineOptions,
  MediaNotification,
  MediaReply,
  MediaRequest,
  MediaRequestParams,
  MediaRequestResult,
  MediaRequestType,
} from './protocol.js';

export interface MediaClientOptions extends MediaEngineOptions {
  /** Default request timeout in ms (default 5000). */
  requestTimeoutMs?: number;
}

/**
 * From dist, ./worker.js runs as is. From source, Node 20 does not apply `--import tsx` to a
 * worker's entry module (ERR_UNKNOWN_FILE_EXTENSION), so a one-line bootstrap registers tsx's
 * ESM hooks in the worker first (tsx/esm/api register()), then imports ./worker.ts.
 */
function startWorker(workerData: MediaEngineOptions): Worker {
  if (!fileURLToPath(import.meta.url).endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

type NotificationOf<T extends MediaNotification['type']> = Extract<MediaNotification, { type: T }>;

export interface MediaClientEvents {
  talking: [NotificationOf<'talking'>];
  legClosed: [NotificationOf<'legClosed'>];
  played: [NotificationOf<'played'>];
  dtmf: [NotificationOf<'dtmf'>];
  error: [Error];
  exit: [number];
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class MediaClient extends EventEmitter<MediaClientEvents> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private nextId = 1;
  private exited = false;

  constructor(options: MediaClientOptions = {}) {
    super();
    const { requestTimeoutMs, ...engineOptions } = options;
    this.timeoutMs = requestTimeoutMs ?? 5000;
    this.worker = startWorker(engineOptions);
    this.worker.on('message', (msg: MediaReply | MediaNotification) => this.onMessage(msg));
    this.worker.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`media worker exited (${code})`));
      this.emit('exit', code);
    });
  }

  /** Sends a request; resolves with its result, rejects on error, timeout or worker exit. */
  request<K extends MediaRequestType>(type: K, params: MediaRequestParams<K>, timeoutMs = this.timeoutMs): Promise<MediaRequestResult<K>> {
    if (this.exited) return Promise.reject(new Error('media worker is not running'));
    const id = this.nextId++;
    return new Promise<MediaRequestResult<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`media request ${type} #${id} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const msg = { kind: 'request', id, type, params } as MediaRequest;
      this.worker.postMessage(msg);
    });
  }

  /** Terminates the worker (its sockets close with it). */
  async close(): Promise<void> {
    if (this.exited) return;
    this.failAll(new Error('media client closed'));
    await this.worker.terminate();
    this.exited = true;
  }

  private onMessage(msg: MediaReply | MediaNotification): void {
    if (msg.kind === 'reply') {
      const p = this.pending.get(msg.id);
      if (!p) return; // timed out already
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
      return;
    }
    switch (msg.type) {
      case 'talking':
        this.emit('talking', msg);
        break;
      case 'legClosed':
        this.emit('legClosed', msg);
        break;
      case 'played':
        this.emit('played', msg);
        break;
      case 'dtmf':
        this.emit('dtmf', msg);
        break;
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
