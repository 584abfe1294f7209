/**
 * The typed, in-process event bus. Services hand it the events of a change once the change is
 * stored (`committed`); listeners (media plane, calls in conferences, hold and wait music, the
 * callback outbox, tests) subscribe. A listener that throws is logged through
 * `onListenerError` and never disturbs the publisher or other listeners.
 *
 * With several nodes (`relayed`), a committed change's events come back through the cluster
 * channel — to every node, this one too, in commit order — and are published as they arrive;
 * `committed` then publishes nothing itself, or this node would see its own changes out of
 * order with the other nodes'.
 */
import type { ConferenceEvent, ConferenceEventType } from '../domain/events.js';

export type ConferenceEventListener = (event: ConferenceEvent) => void;

export class EventBus {
  private readonly listeners = new Set<ConferenceEventListener>();

  constructor(
    private readonly onListenerError: (error: unknown, event: ConferenceEvent) => void = () => {},
    /** Whether the cluster channel publishes committed events (PostgreSQL). */
    private readonly relayed = false,
  ) {}

  /** The events of a change that was just committed (see the file comment). */
  committed(events: readonly ConferenceEvent[]): void {
    if (!this.relayed) this.publish(events);
  }

  /** Returns the function that unsubscribes. */
  subscribe(listener: ConferenceEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(events: readonly ConferenceEvent[]): void {
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.onListenerError(error, event);
        }
      }
    }
  }

  /** Resolves with the first event that matches; for tests and for waiting on a state. */
  next(match: (event: ConferenceEvent) => boolean = () => true, types?: readonly ConferenceEventType[]): Promise<ConferenceEvent> {
    return new Promise((resolve) => {
      const unsubscribe = this.subscribe((event) => {
        if (types && !types.includes(event.type)) return;
        if (!match(event)) return;
        unsubscribe();
        resolve(event);
      });
    });
  }
}
