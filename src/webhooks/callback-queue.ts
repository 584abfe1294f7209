/**
 * Ordered, bounded delivery of status callbacks. Callbacks that share a key (a conference SID,
 * a call SID) go out one at a time in the order they were enqueued, so an application sees
 * `participant-join` before `participant-leave`; different keys go out concurrently under a
 * global cap, taking turns so a busy key cannot starve the others. Twilio orders conference
 * events the same way and numbers them with `SequenceNumber`
 * (https://www.twilio.com/docs/voice/api/conference-resource#conference-status-callback).
 *
 * A failed delivery (error, timeout, non-2xx) is logged and the next one proceeds; there are no
 * retries. Each key holds at most `maxPendingPerKey` waiting callbacks: beyond that the oldest
 * is dropped and logged, so a dead receiver costs only its own callbacks and memory stays
 * bounded. `enqueue` never throws and never waits.
 */
import type { WebhookPurpose } from '../domain/call-timeline.js';
import type { WebhookParams } from './signature.js';
import { WebhookClient, withoutCredentials, type WebhookMethod } from './webhook-client.js';
import { WebhookError } from './webhook-error.js';

export interface CallbackDelivery {
  url: string;
  method: WebhookMethod;
  params: WebhookParams;
  authToken: string;
  /** Default `status-callback`. */
  purpose?: WebhookPurpose;
}

/** The slice of a pino logger the queue uses. */
export interface CallbackLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface CallbackQueueOptions {
  logger: CallbackLogger;
  client?: WebhookClient;
  /** Deliveries in flight at once, over all keys; default 32. */
  concurrency?: number;
  /** Per delivery; default 5000 ms (Twilio itself gives up after 15 s). */
  timeoutMs?: number;
  /** Callbacks waiting per key, the one in flight not counted; default 1000. */
  maxPendingPerKey?: number;
  /** How long `close` lets the queue drain before aborting; default 10000 ms. */
  closeTimeoutMs?: number;
}

interface Entry {
  readonly key: string;
  readonly delivery: CallbackDelivery;
  /** `idle()` calls waiting for this entry to be attempted or dropped. */
  waiters?: IdleWaiter[];
}

interface IdleWaiter {
  remaining: number;
  resolve(): void;
}

interface Lane {
  readonly pending: Entry[];
  /** One of its entries is in flight. */
  busy: boolean;
  /** It is in the ready queue, waiting for a free slot. */
  scheduled: boolean;
}

export class CallbackQueue {
  private readonly logger: CallbackLogger;
  private readonly client: WebhookClient;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly maxPendingPerKey: number;
  private readonly closeTimeoutMs: number;
  private readonly lanes = new Map<string, Lane>();
  /** Keys with pending entries and nothing in flight, oldest turn first. */
  private readonly ready: string[] = [];
  private readonly inFlight = new Set<Entry>();
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  private pendingCount = 0;
  private deliveredCount = 0;
  private failedCount = 0;
  private droppedCount = 0;

  constructor(options: CallbackQueueOptions) {
    this.logger = options.logger;
    this.client = options.client ?? new WebhookClient();
    this.concurrency = Math.max(1, options.concurrency ?? 32);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxPendingPerKey = Math.max(1, options.maxPendingPerKey ?? 1000);
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  }

  /** Callbacks answered 2xx. */
  get delivered(): number {
    return this.deliveredCount;
  }

  /** Callbacks attempted that failed (error, timeout, non-2xx, aborted on close). */
  get failed(): number {
    return this.failedCount;
  }

  /** Callbacks never attempted: pushed out of a full key, enqueued after close, or left at close. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Callbacks waiting for their turn. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Callbacks being delivered now. */
  get active(): number {
    return this.inFlight.size;
  }

  enqueue(key: string, delivery: CallbackDelivery): void {
    try {
      if (this.closing !== undefined) {
        this.droppedCount += 1;
        this.logger.warn({ key, url: withoutCredentials(delivery.url) }, 'callback queue is closed; callback dropped');
        return;
      }
      let lane = this.lanes.get(key);
      if (lane === undefined) {
        lane = { pending: [], busy: false, scheduled: false };
        this.lanes.set(key, lane);
      }
      if (lane.pending.length >= this.maxPendingPerKey) {
        const oldest = lane.pending.shift()!;
        this.pendingCount -= 1;
        this.droppedCount += 1;
        settle(oldest);
        this.logger.warn(
          { key, url: withoutCredentials(oldest.delivery.url), maxPendingPerKey: this.maxPendingPerKey, dropped: this.droppedCount },
          'callback queue full for this key; dropped its oldest pending callback',
        );
      }
      lane.pending.push({ key, delivery });
      this.pendingCount += 1;
      this.schedule(key, lane);
      this.pump();
    } catch (error) {
      // Never let a callback break the caller (a call or conference state change).
      this.logger.warn({ key, err: error }, 'callback could not be queued');
    }
  }

  /**
   * Resolves once everything enqueued so far has been attempted (or dropped) — only for `key`
   * when given (e.g. one conference's callbacks).
   */
  idle(key?: string): Promise<void> {
    const entries: Entry[] = [];
    if (key === undefined) {
      entries.push(...this.inFlight);
      for (const lane of this.lanes.values()) entries.push(...lane.pending);
    } else {
      entries.push(...[...this.inFlight].filter((entry) => entry.key === key), ...(this.lanes.get(key)?.pending ?? []));
    }
    if (entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: IdleWaiter = { remaining: entries.length, resolve };
      for (const entry of entries) (entry.waiters ??= []).push(waiter);
    });
  }

  /**
   * Stops accepting callbacks and lets the queue drain for up to `closeTimeoutMs`; then drops
   * what has not started, aborts what is in flight, and resolves once those have settled.
   */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.closeTimeoutMs);
    });
    const outcome = await Promise.race([this.idle(), deadline]);
    clearTimeout(timer);
    if (outcome !== 'timeout') return;
    const left = this.pendingCount;
    for (const [key, lane] of this.lanes) {
      for (const entry of lane.pending.splice(0)) settle(entry);
      lane.scheduled = false;
      if (!lane.busy) this.lanes.delete(key);
    }
    this.ready.length = 0;
    this.pendingCount = 0;
    this.droppedCount += left;
    const aborted = this.inFlight.size;
    this.logger.warn({ dropped: left, aborted }, 'callback queue closed before it drained');
    const settled = this.idle();
    this.abort.abort();
    await settled;
  }

  private schedule(key: string, lane: Lane): void {
    if (lane.busy || lane.scheduled || lane.pending.length === 0) return;
    lane.scheduled = true;
    this.ready.push(key);
  }

  private pump(): void {
    while (this.inFlight.size < this.concurrency && !this.abort.signal.aborted) {
      const key = this.ready.shift();
      if (key === undefined) return;
      const lane = this.lanes.get(key);
      if (lane === undefined) continue;
      lane.scheduled = false;
      const entry = lane.pending.shift();
      if (entry === undefined) continue;
      this.pendingCount -= 1;
      lane.busy = true;
      this.inFlight.add(entry);
      void this.deliver(lane, entry);
    }
  }

  private async deliver(lane: Lane, entry: Entry): Promise<void> {
    const { key, delivery } = entry;
    const started = performance.now();
    try {
      await this.client.request({
        ...delivery,
        purpose: delivery.purpose ?? 'status-callback',
        timeoutMs: this.timeoutMs,
        signal: this.abort.signal,
        discardBody: true,
      });
      this.deliveredCount += 1;
    } catch (error) {
      this.failedCount += 1;
      const detail =
        error instanceof WebhookError
          ? { kind: error.kind, code: error.code, status: error.status, causeCode: error.causeCode, detail: error.detail }
          : { err: error };
      // The log is the operator's: it says what really happened (the error's message does not).
      const why = error instanceof WebhookError && error.detail !== undefined ? ` (${error.detail})` : '';
      const ms = Math.round(performance.now() - started);
      this.logger.warn(
        { key, url: withoutCredentials(delivery.url), method: delivery.method, ...detail, ms },
        `status callback failed: ${error instanceof Error ? error.message : String(error)}${why}, after ${ms} ms`,
      );
    } finally {
      this.inFlight.delete(entry);
      lane.busy = false;
      if (lane.pending.length === 0) this.lanes.delete(key);
      else this.schedule(key, lane);
      settle(entry);
      this.pump();
    }
  }
}

function settle(entry: Entry): void {
  for (const waiter of entry.waiters ?? []) {
    waiter.remaining -= 1;
    if (waiter.remaining === 0) waiter.resolve();
  }
  entry.waiters = undefined;
}
