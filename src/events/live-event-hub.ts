/**
 * The live events of this node, for the event stream: each event gets the next id of this node
 * and is kept in its account's window (the account's last `windowBytes` of event text, none
 * older than `windowMs`) so that a client that reconnects with `Last-Event-ID` gets what it missed,
 * then goes to the account's subscribers at once, synchronously — a subscriber must never block
 * (live-event-stream.ts only queues the bytes on its socket).
 *
 * Ids are `<boot>-<seq>`: `boot` is random per start of this node, `seq` counts every event
 * this node hands out, so ids only grow. Every node hears every node's events (cluster relay,
 * live-event-relay.ts) and numbers them itself, so a stream can resume on the node that gave
 * the id. An id of another node or of an earlier run, or one whose events have left the
 * window, cannot be resumed without a possible gap: the subscriber is told to reload (`reset`)
 * and gets live events from there — never a silent loss, never a repeat.
 */
import { randomBytes } from 'node:crypto';
import type { LiveEvent } from '../domain/live-event.js';

/** An event as the stream sends it: its id and its SSE text, made once for every connection. */
export interface NumberedLiveEvent {
  id: string;
  seq: number;
  at: number;
  event: LiveEvent;
  /** `id: …\nevent: …\ndata: …\n\n`. */
  text: string;
}

export interface LiveEventFilter {
  callSid?: string;
  conferenceSid?: string;
}

export interface LiveEventSubscriber {
  event(numbered: NumberedLiveEvent): void;
  /** What a client missed since its Last-Event-ID, oldest first; live events follow. */
  replay(missed: NumberedLiveEvent[]): void;
  /** Resumption was not possible: the client must reload its state; `latestId` resumes from here. */
  reset(latestId: string, reason: string): void;
}

export interface LiveEventHubOptions {
  windowBytes?: number;
  windowMs?: number;
  now?: () => number;
}

/**
 * Kept per account: the last 8 MB of events (some 10,000), none older than 5 minutes — more
 * than a client cut off for not keeping up can have missed (its 256 KB buffer and the
 * kernel's socket buffers, a few MB), so that it resumes. Memory: at most that per account
 * with events in the last 5 minutes.
 */
export const DEFAULT_LIVE_EVENT_WINDOW_BYTES = 8 << 20;
export const DEFAULT_LIVE_EVENT_WINDOW_MS = 5 * 60_000;

interface AccountLog {
  events: NumberedLiveEvent[];
  /** The text of `events`, in bytes (UTF-16 code units: near enough). */
  bytes: number;
  /** The highest seq that left the window: a resumption from below it would miss events. */
  evictedUpTo: number;
  subscribers: Set<Subscription>;
}

interface Subscription {
  filter: LiveEventFilter;
  subscriber: LiveEventSubscriber;
}

export function matches(event: LiveEvent, filter: LiveEventFilter): boolean {
  if (filter.callSid !== undefined && event.callSid !== filter.callSid) return false;
  if (filter.conferenceSid !== undefined && event.conferenceSid !== filter.conferenceSid) return false;
  return true;
}

export class LiveEventHub {
  /** This run of this node, the prefix of its ids. */
  readonly boot = randomBytes(6).toString('hex');
  private seq = 0;
  private readonly accounts = new Map<string, AccountLog>();
  private readonly windowBytes: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: LiveEventHubOptions = {}) {
    this.windowBytes = options.windowBytes ?? DEFAULT_LIVE_EVENT_WINDOW_BYTES;
    this.windowMs = options.windowMs ?? DEFAULT_LIVE_EVENT_WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  /** The id of the latest event handed out (what a stream that starts now would resume from). */
  get latestId(): string {
    return `${this.boot}-${this.seq}`;
  }

  publish(event: LiveEvent): void {
    const seq = ++this.seq;
    const id = `${this.boot}-${seq}`;
    const numbered: NumberedLiveEvent = { id, seq, at: this.now(), event, text: `id: ${id}\nevent: ${event.name}\ndata: ${JSON.stringify(event.data)}\n\n` };
    const log = this.logOf(event.accountSid);
    log.events.push(numbered);
    log.bytes += numbered.text.length;
    this.trim(log);
    for (const subscription of log.subscribers) {
      if (matches(event, subscription.filter)) subscription.subscriber.event(numbered);
    }
  }

  /**
   * Subscribes to an account's events. With `lastEventId`, first hands the subscriber the
   * events after it (or a `reset`), in the same turn as the subscription: nothing can fall
   * between the two. Returns the unsubscribe.
   */
  subscribe(accountSid: string, filter: LiveEventFilter, subscriber: LiveEventSubscriber, lastEventId?: string): () => void {
    const log = this.logOf(accountSid);
    if (lastEventId !== undefined) this.replay(log, filter, subscriber, lastEventId);
    const subscription: Subscription = { filter, subscriber };
    log.subscribers.add(subscription);
    return () => {
      log.subscribers.delete(subscription);
      if (log.subscribers.size === 0 && log.events.length === 0) this.accounts.delete(accountSid);
    };
  }

  private replay(log: AccountLog, filter: LiveEventFilter, subscriber: LiveEventSubscriber, lastEventId: string): void {
    this.trim(log);
    const dash = lastEventId.lastIndexOf('-');
    const boot = lastEventId.slice(0, dash);
    const seq = Number(lastEventId.slice(dash + 1));
    if (dash === -1 || boot !== this.boot || !Number.isSafeInteger(seq) || seq < 0 || seq > this.seq) {
      subscriber.reset(this.latestId, 'Last-Event-ID is not one of this node since it started');
      return;
    }
    if (seq < log.evictedUpTo) {
      subscriber.reset(this.latestId, 'events after Last-Event-ID have left the resumption window');
      return;
    }
    const missed = log.events.filter((numbered) => numbered.seq > seq && matches(numbered.event, filter));
    if (missed.length > 0) subscriber.replay(missed);
  }

  private logOf(accountSid: string): AccountLog {
    let log = this.accounts.get(accountSid);
    if (!log) {
      log = { events: [], bytes: 0, evictedUpTo: 0, subscribers: new Set() };
      this.accounts.set(accountSid, log);
    }
    return log;
  }

  /** Drops what is past the window's size or age. */
  private trim(log: AccountLog): void {
    const oldest = this.now() - this.windowMs;
    let drop = 0;
    let bytes = log.bytes;
    while (drop < log.events.length && (bytes > this.windowBytes || log.events[drop]!.at < oldest)) {
      bytes -= log.events[drop]!.text.length;
      drop++;
    }
    if (drop === 0) return;
    log.evictedUpTo = log.events[drop - 1]!.seq;
    log.events.splice(0, drop);
    log.bytes = bytes;
  }
}
