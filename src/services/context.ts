/**
 * What every use case needs: the store, the event bus and the clock. Built once in app.ts.
 */
import type { Clock, Store } from '../domain/ports.js';
import type { EventBus } from '../events/event-bus.js';
import type { CredentialCache } from './credential-cache.js';

/** This node, as the store knows it. */
export interface LocalNode {
  /** What its calls (`Call.nodeId`) and the conferences it creates (`Conference.homeNodeId`) carry. */
  readonly id: string;
  /** Whether other nodes may share the store (PostgreSQL), so changes may be made for another node. */
  readonly clustered: boolean;
}

export interface ServiceContext {
  node: LocalNode;
  store: Store;
  bus: EventBus;
  clock: Clock;
  /** Verified credentials, forgotten whenever an account or key changes. */
  credentials: CredentialCache;
}
