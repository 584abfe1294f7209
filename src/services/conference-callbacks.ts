/**
 * The conference callback outbox, drained by the conference's home node: a change queues its
 * numbered callbacks in its own transaction (record-events.ts); the home node, told of the
 * change by its event, takes the conference's queued callbacks — deleting them as it takes
 * them, so each is taken once — and hands them to the sender in number order. One node sends a
 * conference's callbacks, one conference at a time, so they leave in `SequenceNumber` order
 * whichever nodes made the changes (Twilio numbers them "so you can process them in order":
 * https://www.twilio.com/docs/voice/api/conference-resource#conference-status-callback).
 *
 * A drain the database refuses is retried (1 s doubling to 30 s); after the node's listener
 * missed messages, or when a conference's home moves here, everything homed here is drained.
 * On SQLite the one node is every conference's home.
 */
import type { ConferenceNotifier } from '../domain/call-ports.js';
import type { ConferenceEvent } from '../domain/events.js';
import type { Conference } from '../domain/model.js';
import type { Store } from '../domain/ports.js';
import type { LocalNode } from './context.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export interface OutboxLogger {
  warn(obj: object, msg: string): void;
}

interface Lane {
  /** The drain running now, if any. */
  running: Promise<void> | undefined;
  /** Poked while running: drain once more after it. */
  again: boolean;
  retryMs: number;
  timer?: NodeJS.Timeout;
}

export class ConferenceCallbacks {
  private readonly lanes = new Map<string, Lane>();
  private isClosed = false;

  constructor(
    private readonly store: Store,
    private readonly node: LocalNode,
    private readonly notifier: ConferenceNotifier,
    private readonly logger: OutboxLogger,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether this node sends the conference's callbacks. */
  isHome(conference: Conference): boolean {
    return !this.node.clustered || conference.homeNodeId === undefined || conference.homeNodeId === this.node.id;
  }

  /** A bus listener: a numbered event of a conference homed here has callbacks to send. */
  onEvent(event: ConferenceEvent): void {
    if (event.sequence !== undefined && this.isHome(event.conference)) this.poke(event.conference.sid);
  }

  /** Drains every conference homed here that has callbacks queued. */
  async drainHomed(): Promise<void> {
    if (this.isClosed) return;
    for (const sid of await this.store.listConferencesWithCallbacks(this.node.clustered ? this.node.id : undefined)) this.poke(sid);
  }

  /** Resolves when nothing is being drained (tests, shutdown). */
  async idle(): Promise<void> {
    while ([...this.lanes.values()].some((lane) => lane.running !== undefined)) {
      await Promise.all([...this.lanes.values()].map((lane) => lane.running));
    }
  }

  poke(conferenceSid: string): void {
    if (this.isClosed) return;
    let lane = this.lanes.get(conferenceSid);
    if (!lane) this.lanes.set(conferenceSid, (lane = { running: undefined, again: false, retryMs: FIRST_RETRY_MS }));
    if (lane.running) {
      lane.again = true;
      return;
    }
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const current = lane;
    current.running = this.drain(conferenceSid, current).finally(() => {
      current.running = undefined;
      if (current.again) {
        current.again = false;
        this.poke(conferenceSid);
      } else if (current.timer === undefined) {
        this.lanes.delete(conferenceSid);
      }
    });
  }

  private async drain(conferenceSid: string, lane: Lane): Promise<void> {
    let taken;
    try {
      taken = await this.store.takeConferenceCallbacks(conferenceSid);
    } catch (error) {
      this.logger.warn({ err: error, conferenceSid, retryInMs: lane.retryMs }, 'conference callbacks could not be taken from the store; retrying');
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.poke(conferenceSid);
      }, lane.retryMs).unref();
      lane.retryMs = Math.min(MAX_RETRY_MS, lane.retryMs * 2);
      return;
    }
    lane.retryMs = FIRST_RETRY_MS;
    for (const callback of taken) {
      try {
        this.notifier.conferenceEvent(JSON.parse(callback.payload) as ConferenceEvent);
      } catch (error) {
        this.logger.warn({ err: error, conferenceSid, sequenceNumber: callback.sequenceNumber }, 'a queued conference callback could not be read');
      }
    }
  }

  /** Stops draining; what is queued stays in the store for the next home. Idempotent. */
  close(): void {
    this.isClosed = true;
    for (const lane of this.lanes.values()) clearTimeout(lane.timer);
  }
}
