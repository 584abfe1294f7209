/**
 * A read-through memory of participants by CallSid. Fetching a participant is the API's hottest
 * read (BENCHMARKS.md).
 *
 * Every write through this store invalidates before it runs, and a value read from the database
 * is kept only if no invalidation happened while it was being read (a generation counter), so a
 * reader can never put back a value older than a write. Reads inside a transaction are never
 * kept: the transaction may still roll back.
 * - SQLite: this process is the only one that changes participants (`conclave join` only adds).
 * - PostgreSQL, shared by nodes: a trigger NOTIFYs every change, and each node's listener
 *   invalidates; while a node's listener is down it does not cache (`disable`), and once it
 *   listens again it starts from empty (`enable`): changes made meanwhile were not heard.
 *   And it serves nothing while another node is live (`setShared`): another node's change
 *   reaches this cache by NOTIFY a moment after that node answered, so a read through this
 *   node right after a write through the other could return the value before it — behind a
 *   load balancer, a client's own write (2 of 200 reads in a probe). Alone, it is exact.
 */
import type { Participant } from '../domain/model.js';

export class ParticipantCache {
  private generation = 0;
  private readonly byCall = new Map<string, Participant>();

  constructor(private readonly maxEntries = 50_000) {}

  private disabled = false;
  private shared = false;

  get(callSid: string): Participant | undefined {
    return this.disabled || this.shared ? undefined : this.byCall.get(callSid);
  }

  /** Whether other nodes are live (their writes are heard only after they answered). */
  setShared(shared: boolean): void {
    if (shared === this.shared) return;
    this.generation++;
    this.byCall.clear();
    this.shared = shared;
  }

  /** Changes may no longer be heard of: serve and keep nothing until `enable`. */
  disable(): void {
    this.disabled = true;
    this.generation++;
    this.byCall.clear();
  }

  /** Changes are heard again: cache from now on, from empty (reads begun before do not count). */
  enable(): void {
    this.generation++;
    this.byCall.clear();
    this.disabled = false;
  }

  get enabled(): boolean {
    return !this.disabled;
  }

  /** Taken before a database read; `keep` accepts the value only with an unchanged ticket. */
  ticket(): number {
    return this.generation;
  }

  keep(ticket: number, participant: Participant): void {
    if (this.disabled || this.shared || ticket !== this.generation) return;
    if (this.byCall.size >= this.maxEntries) this.byCall.clear();
    this.byCall.set(participant.callSid, participant);
  }

  /** A write to this participant is about to run. */
  invalidate(callSid: string): void {
    this.generation++;
    this.byCall.delete(callSid);
  }
}
