/**
 * Conference callbacks on their way (an outbox): numbered and stored in the transaction of the
 * change they tell, taken — deleted — in number order by the conference's home node, which
 * sends them. A callback is thus sent once, in order, by one node, whichever node made the
 * change; and when the home node dies its successor sends what was left.
 */
import { sql } from 'kysely';
import type { ClusterMessage, QueuedConferenceCallback } from '../domain/cluster.js';
import { databaseNow } from './nodes-queries.js';
import type { QueryContext } from './query-context.js';

/**
 * Reserves `count` SequenceNumbers of the conference; returns the first. The row lock this
 * UPDATE takes orders the reservations of concurrent transactions as they commit.
 */
export async function takeCallbackSequence({ db }: QueryContext, conferenceSid: string, count: number): Promise<number> {
  const row = await db
    .updateTable('conferences')
    .set({ callback_sequence: sql<number>`callback_sequence + ${count}` })
    .where('sid', '=', conferenceSid)
    .returning('callback_sequence')
    .executeTakeFirst();
  if (row === undefined) throw new Error(`conference ${conferenceSid} does not exist`);
  return row.callback_sequence - count + 1;
}

export async function insertConferenceCallbacks({ db, dialect }: QueryContext, callbacks: readonly QueuedConferenceCallback[]): Promise<void> {
  if (callbacks.length === 0) return;
  const now = databaseNow(dialect);
  await db
    .insertInto('conference_callbacks')
    .values(callbacks.map((c) => ({ conference_sid: c.conferenceSid, sequence_number: c.sequenceNumber, payload: c.payload, created_at: now })))
    .execute();
}

/** Every callback of the conference still queued, deleted as taken, in number order. */
export async function takeConferenceCallbacks({ db }: QueryContext, conferenceSid: string): Promise<QueuedConferenceCallback[]> {
  const rows = await db
    .deleteFrom('conference_callbacks')
    .where('conference_sid', '=', conferenceSid)
    .returning(['conference_sid', 'sequence_number', 'payload'])
    .execute();
  return rows
    .map((r) => ({ conferenceSid: r.conference_sid, sequenceNumber: r.sequence_number, payload: r.payload }))
    .sort((a, b) => a.sequenceNumber - b.sequenceNumber);
}

/**
 * The conferences homed at the node (or at none) that have callbacks queued — after a
 * reconnect, or a move; every such conference when no node is named (one node: SQLite).
 */
export async function listConferencesWithCallbacks({ db }: QueryContext, homeNodeId: string | undefined): Promise<string[]> {
  let query = db
    .selectFrom('conference_callbacks')
    .innerJoin('conferences', 'conferences.sid', 'conference_callbacks.conference_sid')
    .select('conferences.sid as sid')
    .distinct();
  if (homeNodeId !== undefined) {
    query = query.where((eb) => eb.or([eb('conferences.home_node_id', '=', homeNodeId), eb('conferences.home_node_id', 'is', null)]));
  }
  return (await query.execute()).map((r) => r.sid);
}

/**
 * PostgreSQL: NOTIFYs the messages on the schema's cluster channel, in order, when the
 * transaction commits (at once outside one). SQLite, one process: nothing to tell.
 */
export async function notifyCluster({ db, dialect, channel }: QueryContext, messages: readonly ClusterMessage[]): Promise<void> {
  if (dialect !== 'postgres' || channel === undefined || messages.length === 0) return;
  // One statement; a select list is evaluated left to right, so the messages keep their order.
  const calls = messages.map((m) => sql`pg_notify(${channel}, ${JSON.stringify(m)})`);
  await sql`select ${sql.join(calls)}`.execute(db);
}
