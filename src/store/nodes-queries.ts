/**
 * The nodes of a deployment and what each one runs: registration and lease (in the database's
 * clock, so the nodes' own clocks never decide who is dead), the declaration of a death — one
 * conditional UPDATE, so exactly one survivor wins it — and the calls and conferences a dead
 * node leaves behind.
 */
import { sql, type RawBuilder } from 'kysely';
import { LIVE_CALL_STATUSES, type Call } from '../domain/call.js';
import type { NodeRecord, NodeRegistration } from '../domain/cluster.js';
import type { Conference } from '../domain/model.js';
import { rowToCall } from './call-row-mapping.js';
import type { QueryContext } from './query-context.js';
import { rowToConference } from './row-mapping.js';
import type { Dialect } from './schema.js';

/** Now, in epoch milliseconds of the database's clock. */
export function databaseNow(dialect: Dialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
}

export async function registerNode({ db, dialect }: QueryContext, node: NodeRegistration): Promise<void> {
  const now = databaseNow(dialect);
  await db
    .insertInto('nodes')
    .values({
      id: node.id,
      address: node.address,
      http_url: node.httpUrl,
      sip_address: node.sipAddress,
      started_at: now,
      lease_until: sql<number>`${now} + ${node.leaseMs}`,
      state: 'live',
    })
    .execute();
}

export async function renewNode({ db, dialect }: QueryContext, id: string, leaseMs: number): Promise<boolean> {
  const result = await db
    .updateTable('nodes')
    .set({ lease_until: sql<number>`${databaseNow(dialect)} + ${leaseMs}` })
    .where('id', '=', id)
    .where('state', '=', 'live')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function listExpiredNodes({ db, dialect }: QueryContext): Promise<NodeRecord[]> {
  const rows = await db.selectFrom('nodes').selectAll().where('state', '=', 'live').where('lease_until', '<', databaseNow(dialect)).execute();
  return rows.map(rowToNode);
}

export async function declareNodeDead({ db, dialect }: QueryContext, id: string): Promise<boolean> {
  const result = await db
    .updateTable('nodes')
    .set({ state: 'dead' })
    .where('id', '=', id)
    .where('state', '=', 'live')
    .where('lease_until', '<', databaseNow(dialect))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function markNodeLeft({ db }: QueryContext, id: string): Promise<void> {
  await db.updateTable('nodes').set({ state: 'left' }).where('id', '=', id).where('state', '=', 'live').execute();
}

export async function findNode({ db }: QueryContext, id: string): Promise<NodeRecord | undefined> {
  const row = await db.selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : rowToNode(row);
}

export async function listLiveNodes({ db }: QueryContext): Promise<NodeRecord[]> {
  const rows = await db.selectFrom('nodes').selectAll().where('state', '=', 'live').orderBy('started_at', 'asc').orderBy('id', 'asc').execute();
  return rows.map(rowToNode);
}

/** Dead and departed nodes older than `olderThanMs` are forgotten (the table stays small). */
export async function forgetNodes({ db, dialect }: QueryContext, olderThanMs: number): Promise<number> {
  const result = await db
    .deleteFrom('nodes')
    .where('state', '<>', 'live')
    .where('lease_until', '<', sql<number>`${databaseNow(dialect)} - ${olderThanMs}`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Nodes no longer live (declared dead, or left) that something live still names: a call not
 * ended, a conference not ended homed there. A dead node's survivor clears all of it; these are
 * what was written for it afterwards (a call inserted under its id as it was being declared
 * dead), or what a stop that ran out of time left.
 */
export async function listGoneNodesWithLeftovers({ db }: QueryContext): Promise<string[]> {
  const rows = await db
    .selectFrom('nodes')
    .select('nodes.id')
    .where('nodes.state', '<>', 'live')
    .where((eb) =>
      eb.or([
        eb.exists(eb.selectFrom('calls').select(sql`1`.as('one')).whereRef('calls.node_id', '=', 'nodes.id').where('calls.status', 'in', LIVE_CALL_STATUSES)),
        eb.exists(
          eb
            .selectFrom('conferences')
            .select(sql`1`.as('one'))
            .whereRef('conferences.home_node_id', '=', 'nodes.id')
            .where('conferences.status', 'in', ['init', 'in-progress']),
        ),
      ]),
    )
    .execute();
  return rows.map((r) => r.id);
}

export async function listLiveCallsOfNode({ db }: QueryContext, nodeId: string, limit: number): Promise<Call[]> {
  const rows = await db
    .selectFrom('calls')
    .selectAll()
    .where('node_id', '=', nodeId)
    .where('status', 'in', LIVE_CALL_STATUSES)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
  return rows.map(rowToCall);
}

export async function listConferencesHomedAt({ db }: QueryContext, nodeId: string, limit: number): Promise<Conference[]> {
  const rows = await db
    .selectFrom('conferences')
    .selectAll()
    .where('home_node_id', '=', nodeId)
    .where('status', '<>', 'completed')
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
  return rows.map(rowToConference);
}

/** The live nodes running calls of the conference's participants, the busiest first. */
export async function listNodesInConference({ db }: QueryContext, conferenceSid: string): Promise<string[]> {
  const rows = await db
    .selectFrom('participants')
    .innerJoin('calls', 'calls.sid', 'participants.call_sid')
    .innerJoin('nodes', 'nodes.id', 'calls.node_id')
    .select(['nodes.id as id', (eb) => eb.fn.countAll<number>().as('calls')])
    .where('participants.conference_sid', '=', conferenceSid)
    .where('nodes.state', '=', 'live')
    .groupBy('nodes.id')
    .orderBy('calls', 'desc')
    .orderBy('nodes.id', 'asc')
    .execute();
  return rows.map((r) => r.id);
}

/** Moves a live conference's home from `from` to `to`; false when it was not homed at `from`. */
export async function moveConferenceHome({ db }: QueryContext, sid: string, from: string, to: string): Promise<boolean> {
  const result = await db
    .updateTable('conferences')
    .set({ home_node_id: to })
    .where('sid', '=', sid)
    .where('home_node_id', '=', from)
    .where('status', '<>', 'completed')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

interface NodeRow {
  id: string;
  address: string;
  http_url: string | null;
  sip_address: string | null;
  started_at: number;
  lease_until: number;
  state: NodeRecord['state'];
}

function rowToNode(r: NodeRow): NodeRecord {
  return {
    id: r.id,
    address: r.address,
    httpUrl: r.http_url,
    sipAddress: r.sip_address,
    startedAt: Number(r.started_at),
    leaseUntil: Number(r.lease_until),
    state: r.state,
  };
}
