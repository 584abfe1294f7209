/**
 * One media worker thread as MediaClient sees it: started from compiled code or from source,
 * requests with ids and timeouts, replies matched to them, notifications and exit handed up.
 *
 * Started from compiled code (dist/…/worker-handle.js) it loads ./worker.js next to it. Started
 * from source (tests and `tsx`, where this file is .ts) it loads ./worker.ts with tsx's loader
 * registered in the worker (`--import tsx`).
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { MediaEngineOptions, MediaNotification, MediaReply, WorkerRequest, WorkerRequestMap, WorkerRequestType } from './protocol.js';
import { MediaError } from './media-error.js';

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

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface WorkerEvents {
  notify(n: MediaNotification): void;
  error(err: Error): void;
  exit(code: number): void;
}

export class WorkerHandle {
  readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  exited = false;

  constructor(
    readonly index: number,
    options: MediaEngineOptions,
    events: WorkerEvents,
  ) {
    this.worker = startWorker({ ...options, workerIndex: index });
    this.worker.on('message', (msg: MediaReply | MediaNotification) => {
      if (msg.kind === 'reply') this.onReply(msg);
      else events.notify(msg);
    });
    this.worker.on('error', (err) => events.error(err));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new MediaError('worker-exited', `media worker exited (${code})`));
      events.exit(code);
    });
  }

  /** Sends one request with the caller's id (ids are unique across workers: play ids use them). */
  request<K extends WorkerRequestType>(id: number, type: K, params: WorkerRequestMap[K]['params'], timeoutMs: number): Promise<WorkerRequestMap[K]['result']> {
    if (this.exited) return Promise.reject(new MediaError('worker-exited', 'media worker is not running'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new MediaError('timeout', `media request ${type} #${id} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.worker.postMessage({ kind: 'request', id, type, params } as WorkerRequest);
    });
  }

  failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  async terminate(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
    this.exited = true;
  }

  private onReply(msg: MediaReply): void {
    const p = this.pending.get(msg.id);
    if (!p) return; // timed out already
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(MediaError.fromReply(msg.code, msg.error));
  }
}
