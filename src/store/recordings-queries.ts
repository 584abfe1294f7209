/**
 * Recordings: the account's list newest first (as Twilio lists them), a call's and a
 * conference's through the same filter, the live ones for start-up recovery and the old ones
 * for retention.
 */
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { RecordingFilter } from '../domain/ports.js';
import { LIVE_RECORDING_STATUSES, type Recording } from '../domain/recording.js';
import { ConflictError } from '../errors.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import { recordingToRow, rowToRecording } from './recording-row-mapping.js';
import { uniqueViolation } from './unique-violations.js';

export async function insertRecording({ db }: QueryContext, recording: Recording): Promise<void> {
  try {
    await db.insertInto('recordings').values(recordingToRow(recording)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `Recording ${recording.sid} already exists`);
    throw error;
  }
}

export async function findRecording({ db }: QueryContext, sid: string, accountSid?: string): Promise<Recording | undefined> {
  let query = db.selectFrom('recordings').selectAll().where('sid', '=', sid);
  if (accountSid !== undefined) query = query.where('account_sid', '=', accountSid);
  const row = await query.executeTakeFirst();
  return row === undefined ? undefined : rowToRecording(row);
}

/** Every column but the SID and the account, which never change. */
export async function updateRecording({ db }: QueryContext, recording: Recording): Promise<boolean> {
  const { sid, account_sid: _account, ...changes } = recordingToRow(recording);
  const result = await db.updateTable('recordings').set(changes).where('sid', '=', sid).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteRecording({ db }: QueryContext, sid: string): Promise<boolean> {
  const result = await db.deleteFrom('recordings').where('sid', '=', sid).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listRecordings({ db }: QueryContext, filter: RecordingFilter, page: PageRequest): Promise<PageResult<Recording>> {
  let query = db.selectFrom('recordings').where('account_sid', '=', filter.accountSid);
  if (filter.callSid === null) query = query.where('call_sid', 'is', null);
  else if (filter.callSid !== undefined) query = query.where('call_sid', '=', filter.callSid);
  if (filter.conferenceSid !== undefined) query = query.where('conference_sid', '=', filter.conferenceSid);
  const { dateCreated } = filter;
  if (dateCreated?.from !== undefined) query = query.where('date_created', '>=', dateCreated.from);
  if (dateCreated?.to !== undefined) query = query.where('date_created', '<', dateCreated.to);
  return fetchPage(query, 'desc', page, rowToRecording);
}

export async function listLiveRecordings({ db }: QueryContext, limit: number): Promise<Recording[]> {
  const rows = await db.selectFrom('recordings').selectAll().where('status', 'in', LIVE_RECORDING_STATUSES).orderBy('seq', 'asc').limit(limit).execute();
  return rows.map(rowToRecording);
}

/** Oldest first, so that retention that stops part way has removed the oldest. */
export async function listRecordingsCreatedBefore({ db }: QueryContext, before: number, limit: number): Promise<Recording[]> {
  const rows = await db.selectFrom('recordings').selectAll().where('date_created', '<', before).orderBy('date_created', 'asc').orderBy('seq', 'asc').limit(limit).execute();
  return rows.map(rowToRecording);
}
