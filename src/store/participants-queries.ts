/**
 * Participants: the rows of the calls currently in a conference (a row is deleted when its
 * call leaves). `findParticipant` and `listParticipants` serve the hot HTTP paths, so each
 * is a lookup on a unique index or a range of the (conference_sid, seq) index.
 */
import { ConflictError } from '../errors.js';
import type { Participant } from '../domain/model.js';
import type { ParticipantFilter } from '../domain/ports.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import { runCompiledOnce } from './compiled-once.js';
import type { ParticipantRow } from './schema.js';
import { participantToRow, rowToParticipant } from './row-mapping.js';
import { uniqueViolation } from './unique-violations.js';

export async function insertParticipant({ db, participants }: QueryContext, participant: Participant): Promise<void> {
  participants?.invalidate(participant.callSid);
  try {
    await db.insertInto('participants').values(participantToRow(participant)).execute();
  } catch (error) {
    const violated = uniqueViolation(error);
    if (violated === undefined) throw error;
    if (violated.includes('label')) {
      throw new ConflictError('label', `Label '${participant.label ?? ''}' is already used in conference ${participant.conferenceSid}`);
    }
    throw new ConflictError('call', `Call ${participant.callSid} is already in a conference`);
  }
}

export async function updateParticipant({ db, participants }: QueryContext, participant: Participant): Promise<void> {
  participants?.invalidate(participant.callSid);
  const { call_sid, ...changes } = participantToRow(participant);
  try {
    await db.updateTable('participants').set(changes).where('call_sid', '=', call_sid).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) {
      throw new ConflictError('label', `Label '${participant.label ?? ''}' is already used in conference ${participant.conferenceSid}`);
    }
    throw error;
  }
}

export async function deleteParticipant({ db, participants }: QueryContext, conferenceSid: string, callSid: string): Promise<void> {
  participants?.invalidate(callSid);
  await db.deleteFrom('participants').where('call_sid', '=', callSid).where('conference_sid', '=', conferenceSid).execute();
}

/** By call SID first (the usual case: one lookup), then by label; always within the conference. */
export async function findParticipant(ctx: QueryContext, conferenceSid: string, callSidOrLabel: string): Promise<Participant | undefined> {
  const { db, dialect, participants, inTransaction } = ctx;
  const cached = participants?.get(callSidOrLabel);
  if (cached !== undefined && cached.conferenceSid === conferenceSid) return cached;
  const ticket = participants?.ticket();
  const byCall = await runCompiledOnce<ParticipantRow>(
    db,
    dialect,
    'findParticipantByCall',
    (q) => q.selectFrom('participants').selectAll().where('call_sid', '=', '').where('conference_sid', '=', ''),
    [callSidOrLabel, conferenceSid],
  );
  if (byCall !== undefined) {
    const participant = rowToParticipant(byCall);
    if (participants && ticket !== undefined && !inTransaction) participants.keep(ticket, participant);
    return participant;
  }
  const byLabel = await db
    .selectFrom('participants')
    .selectAll()
    .where('conference_sid', '=', conferenceSid)
    .where('label', '=', callSidOrLabel)
    .executeTakeFirst();
  return byLabel === undefined ? undefined : rowToParticipant(byLabel);
}

export async function findParticipantByCall({ db }: QueryContext, callSid: string): Promise<Participant | undefined> {
  const row = await db.selectFrom('participants').selectAll().where('call_sid', '=', callSid).executeTakeFirst();
  return row === undefined ? undefined : rowToParticipant(row);
}

export async function listAllParticipants({ db }: QueryContext, conferenceSid: string): Promise<Participant[]> {
  const rows = await db.selectFrom('participants').selectAll().where('conference_sid', '=', conferenceSid).orderBy('seq', 'asc').execute();
  return rows.map(rowToParticipant);
}

/** In join order: `seq` ascending. */
export function listParticipants({ db }: QueryContext, filter: ParticipantFilter, page: PageRequest): Promise<PageResult<Participant>> {
  let query = db.selectFrom('participants').where('conference_sid', '=', filter.conferenceSid);
  if (filter.muted !== undefined) query = query.where('muted', '=', filter.muted ? 1 : 0);
  if (filter.hold !== undefined) query = query.where('hold', '=', filter.hold ? 1 : 0);
  if (filter.coaching !== undefined) query = query.where('coaching', '=', filter.coaching ? 1 : 0);
  return fetchPage(query, 'asc', page, rowToParticipant);
}
