/**
 * Several Conclave nodes on one PostgreSQL as one system (design.md "Several nodes"): the
 * records and messages the nodes share through the store. A node registers with a lease and
 * renews it; a node whose lease lapses is declared dead by a survivor, which ends its calls
 * and moves its conferences. Changes that only the node running a call can carry out (hang up,
 * new TwiML, audio from a URL, a recording) are commands addressed to that node; what changed
 * in a conference reaches every node as its events, in commit order.
 */

import type { ConferenceEvent } from './events.js';
import type { LiveEvent } from './live-event.js';

/** `left`: stopped cleanly, after ending its own calls — nobody has anything to clear. */
export type NodeState = 'live' | 'dead' | 'left';

export interface NodeRecord {
  id: string;
  /** The host other nodes send RTP to (CONCLAVE_NODE_ADDRESS). */
  address: string;
  httpUrl: string | null;
  sipAddress: string | null;
  startedAt: number;
  /** In the database's clock. */
  leaseUntil: number;
  state: NodeState;
}

export interface NodeRegistration {
  id: string;
  address: string;
  httpUrl: string | null;
  sipAddress: string | null;
  leaseMs: number;
}

/** What a command asks of the node that runs a call or a conference's room. */
export interface NodeCommand {
  id: number;
  nodeId: string;
  kind: string;
  /** JSON. */
  payload: string;
  /** The node that waits for the result; absent for a one-way command. */
  replyTo: string | null;
}

export interface CommandReply {
  ok: boolean;
  /** JSON of the result, or the error's message when not ok. */
  result: string;
}

/**
 * A message of the cluster channel (PostgreSQL NOTIFY), in commit order: a conference event,
 * a command for a node, the answer to a request, a node declared dead, a conference whose home
 * moved, "re-read this conference" (an event too large to carry), or live-stream events.
 */
export type ClusterMessage =
  | { t: 'event'; event: ConferenceEvent }
  | { t: 'command'; node: string; id: number }
  | { t: 'reply'; node: string; id: number }
  | { t: 'node-dead'; node: string }
  | { t: 'home'; conference: string; node: string }
  | { t: 'resync'; account: string; conference: string }
  | { t: 'sync'; token: string }
  /** Live-stream events that only the node where they happened knows (calls, recordings, gathers), from `from`'s run. */
  | { t: 'live'; from: string; events: LiveEvent[] };

/** The listening side of the cluster channel. */
export interface ClusterChannel {
  /** Every message any node sends (this one's included), in commit order. Returns the unsubscribe. */
  subscribe(listener: (message: ClusterMessage) => void): () => void;
  /** The listening connection was lost and is back: messages of the gap were missed. */
  onResumed(listener: () => void): () => void;
  /** Resolves once every message committed before the call has been delivered here. */
  sync(): Promise<void>;
}

/** A conference callback waiting for its home node to send it. */
export interface QueuedConferenceCallback {
  conferenceSid: string;
  sequenceNumber: number;
  /** The event, as JSON. */
  payload: string;
}
