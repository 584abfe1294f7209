/**
 * What every use case needs: the store, the event bus and the clock. Built once in app.ts.
 */
import type { Clock, Store } from '../domain/ports.js';
import type { EventBus } from '../events/event-bus.js';
import type { AfterConference } from './after-conference.js';
import type { CredentialCache } from './credential-cache.js';

export interface ServiceContext {
  store: Store;
  bus: EventBus;
  clock: Clock;
  /** Verified credentials, forgotten whenever an account or key changes. */
  credentials: CredentialCache;
  /** Whether this node's calls go on with TwiML once out of their conference. */
  afterConference: AfterConference;
}
