/**
 * The typed, in-process event bus. Services publish after a change is stored; listeners
 * (status callbacks, live stream, media plane, tests) subscribe. A listener that throws is
 * logged through `onListenerError` and never disturbs the publisher or other listeners.
 */
import type { ConferenceEvent, ConferenceEventType } from '../domain/events.js';

export type ConferenceEventListener = (event: ConferenceEvent) => void;

export class EventBus {
  private readonly listeners = new Set<ConferenceEventListener>();

  constructor(private readonly onListenerError: (error: unknown, event: ConferenceEvent) => void = () => {}) {}

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
