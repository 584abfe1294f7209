/**
 * Live-stream events that only this node knows (call progress, recordings, gathers) go to the
 * other nodes on the cluster channel (PostgreSQL NOTIFY), so that each node streams every
 * node's events. Conference events need no relay: every stored change's events already reach
 * every node (services/record-events.ts); talk detection (`participant-speech-start`/`-stop`)
 * that no conference callback subscribed to stays on its node — it is the most frequent event
 * by far (several a second per talker), and relaying it would cost a NOTIFY each.
 *
 * Cost: events of one turn of the event loop (or those that came while the previous statement
 * was on its way) are packed into as few messages as fit under NOTIFY's 8000-byte limit and
 * sent in one statement, never awaited by the calls that made them. One statement at a time,
 * so that the other nodes get them in the order they happened. An event too large for one message (none in practice: a call's parameters are a few
 * hundred bytes) stays on its node. A relay that fails (the database down) is logged once per
 * failure streak; those events reach only this node's streams.
 */
import type { ClusterMessage } from '../domain/cluster.js';
import type { LiveEvent } from '../domain/live-event.js';

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a little room is kept. */
const NOTIFY_LIMIT_BYTES = 7900;

export interface LiveEventRelayPorts {
  /** This node's run (LiveEventHub.boot): its own messages come back and are skipped. */
  from: string;
  notify(messages: readonly ClusterMessage[]): Promise<void>;
  onError(error: unknown, dropped: number): void;
}

export class LiveEventRelay {
  private queue: LiveEvent[] = [];
  private scheduled = false;
  private sending = false;
  private failing = false;
  private isClosed = false;

  constructor(private readonly ports: LiveEventRelayPorts) {}

  get closed(): boolean {
    return this.isClosed;
  }

  relay(event: LiveEvent): void {
    if (this.isClosed) return;
    this.queue.push(event);
    this.schedule();
  }

  /** Whether a message came from this node (already streamed here). */
  isOwn(message: Extract<ClusterMessage, { t: 'live' }>): boolean {
    return message.from === this.ports.from;
  }

  close(): void {
    this.isClosed = true;
    this.queue = [];
  }

  private schedule(): void {
    if (this.scheduled || this.sending) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const events = this.queue;
    this.queue = [];
    if (events.length === 0 || this.isClosed) return;
    this.sending = true;
    this.ports
      .notify(this.pack(events))
      .then(
        () => {
          this.failing = false;
        },
        (error: unknown) => {
          if (!this.failing) this.ports.onError(error, events.length);
          this.failing = true;
        },
      )
      .finally(() => {
        this.sending = false;
        if (this.queue.length > 0) this.schedule();
      });
  }

  private pack(events: readonly LiveEvent[]): ClusterMessage[] {
    const messages: ClusterMessage[] = [];
    const empty = Buffer.byteLength(JSON.stringify({ t: 'live', from: this.ports.from, events: [] }));
    let current: LiveEvent[] = [];
    let size = empty;
    for (const event of events) {
      // One more byte for the comma between events.
      const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
      if (empty + bytes >= NOTIFY_LIMIT_BYTES) continue;
      if (size + bytes >= NOTIFY_LIMIT_BYTES) {
        messages.push({ t: 'live', from: this.ports.from, events: current });
        current = [];
        size = empty;
      }
      current.push(event);
      size += bytes;
    }
    if (current.length > 0) messages.push({ t: 'live', from: this.ports.from, events: current });
    return messages;
  }
}
