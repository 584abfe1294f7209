/**
 * A read-through memory of participants by CallSid, for the embedded SQLite store, where this
 * process is the only one that changes participants (the `conclave join` tool only adds new
 * ones). Fetching a participant is the API's hottest read (BENCHMARKS.md).
 *
 * Every write invalidates before it runs, and a value read from the database is kept only if
 * no write happened while it was being read (a generation counter), so a reader can never
 * put back a value older than a write. Reads inside a transaction are never kept: the
 * transaction may still roll back. PostgreSQL, which several nodes may share, has no such cache.
 */
import type { Participant } from '../domain/model.js';

export class ParticipantCache {
  private generation = 0;
  private readonly byCall = new Map<string, Participant>();

  constructor(private readonly maxEntries = 50_000) {}

  get(callSid: string): Participant | undefined {
    return this.byCall.get(callSid);
  }

  /** Taken before a database read; `keep` accepts the value only with an unchanged ticket. */
  ticket(): number {
    return this.generation;
  }

  keep(ticket: number, participant: Participant): void {
    if (ticket !== this.generation) return;
    if (this.byCall.size >= this.maxEntries) this.byCall.clear();
    this.byCall.set(participant.callSid, participant);
  }

  /** A write to this participant is about to run. */
  invalidate(callSid: string): void {
    this.generation++;
    this.byCall.delete(callSid);
  }
}
