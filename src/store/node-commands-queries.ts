/**
 * Commands addressed to a node (a row each; on PostgreSQL the insert is NOTIFYed by a trigger
 * of migration 0005). Taking a command is one conditional statement, so a command is carried
 * out once however many times its notification arrives or it is replayed after a reconnect.
 * A one-way command is deleted as it is taken; a request stays until its answer is collected.
 */
import type { CommandReply, NodeCommand } from '../domain/cluster.js';
import { databaseNow } from './nodes-queries.js';
import type { QueryContext } from './query-context.js';

export async function insertCommand(
  { db, dialect }: QueryContext,
  command: { nodeId: string; kind: string; payload: string; replyTo: string | null },
): Promise<number> {
  const row = await db
    .insertInto('node_commands')
    .values({
      node_id: command.nodeId,
      kind: command.kind,
      payload: command.payload,
      reply_to: command.replyTo,
      state: 'pending',
      result: null,
      created_at: databaseNow(dialect),
    })
    .returning('seq')
    .executeTakeFirstOrThrow();
  return row.seq;
}

export async function takeCommand({ db }: QueryContext, id: number, nodeId: string): Promise<NodeCommand | undefined> {
  const oneWay = await db
    .deleteFrom('node_commands')
    .where('seq', '=', id)
    .where('node_id', '=', nodeId)
    .where('state', '=', 'pending')
    .where('reply_to', 'is', null)
    .returning(['seq', 'node_id', 'kind', 'payload', 'reply_to'])
    .executeTakeFirst();
  const row =
    oneWay ??
    (await db
      .updateTable('node_commands')
      .set({ state: 'taken' })
      .where('seq', '=', id)
      .where('node_id', '=', nodeId)
      .where('state', '=', 'pending')
      .returning(['seq', 'node_id', 'kind', 'payload', 'reply_to'])
      .executeTakeFirst());
  return row === undefined ? undefined : { id: row.seq, nodeId: row.node_id, kind: row.kind, payload: row.payload, replyTo: row.reply_to };
}

/** The commands still waiting for the node, oldest first (replayed after a reconnect). */
export async function listPendingCommands({ db }: QueryContext, nodeId: string): Promise<number[]> {
  const rows = await db.selectFrom('node_commands').select('seq').where('node_id', '=', nodeId).where('state', '=', 'pending').orderBy('seq', 'asc').execute();
  return rows.map((r) => r.seq);
}

export async function answerCommand({ db }: QueryContext, id: number, reply: CommandReply): Promise<void> {
  await db
    .updateTable('node_commands')
    .set({ state: reply.ok ? 'done' : 'failed', result: reply.result })
    .where('seq', '=', id)
    .where('state', '=', 'taken')
    .execute();
}

/** The answer to a request, once there is one; the request is deleted as it is collected. */
export async function takeReply({ db }: QueryContext, id: number): Promise<CommandReply | undefined> {
  const row = await db
    .deleteFrom('node_commands')
    .where('seq', '=', id)
    .where('state', 'in', ['done', 'failed'])
    .returning(['state', 'result'])
    .executeTakeFirst();
  return row === undefined ? undefined : { ok: row.state === 'done', result: row.result ?? '' };
}

export async function deleteCommand({ db }: QueryContext, id: number): Promise<void> {
  await db.deleteFrom('node_commands').where('seq', '=', id).execute();
}

/**
 * A dead node's commands will never be carried out: its one-way commands go, and its requests
 * fail at once (their requesters are told, rather than waiting for their timeout).
 */
export async function dropCommandsOf({ db }: QueryContext, nodeId: string, reason: string): Promise<number> {
  const deleted = await db.deleteFrom('node_commands').where('node_id', '=', nodeId).where('reply_to', 'is', null).executeTakeFirst();
  const failed = await db
    .updateTable('node_commands')
    .set({ state: 'failed', result: reason })
    .where('node_id', '=', nodeId)
    .where('state', 'in', ['pending', 'taken'])
    .executeTakeFirst();
  return Number(deleted.numDeletedRows) + Number(failed.numUpdatedRows);
}
