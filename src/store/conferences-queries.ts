/**
 * Conferences. The rule "at most one live conference per name and account" is the partial
 * unique index `conferences_live_name` (migrations.ts); an insert that breaks it becomes a
 * `ConflictError`, which is how two calls joining the same new room at once are told apart.
 */
import { sql } from 'kysely';
import { ConflictError } from '../errors.js';
import type { Conference } from '../domain/model.js';
import type { ConferenceFilter } from '../domain/ports.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import { conferenceToRow, rowToConference } from './row-mapping.js';
import { uniqueViolation } from './unique-violations.js';

/**
 * The partial index's own predicate, as a literal: SQLite only uses a partial index when the
 * query contains its WHERE term, and a bound parameter would not count.
 */
const LIVE = sql<boolean>`status <> 'completed'`;

export async function insertConference({ db }: QueryContext, conference: Conference): Promise<void> {
  try {
    await db.insertInto('conferences').values(conferenceToRow(conference)).execute();
  } catch (error) {
    const violated = uniqueViolation(error);
    if (violated === undefined) throw error;
    if (violated.includes('friendly_name') || violated.includes('live_name')) {
      throw new ConflictError('conference', `A conference named '${conference.friendlyName}' is already live in account ${conference.accountSid}`);
    }
    throw new ConflictError('sid', `Conference ${conference.sid} already exists`);
  }
}

export async function findConference({ db }: QueryContext, accountSid: string, sid: string): Promise<Conference | undefined> {
  const row = await db
    .selectFrom('conferences')
    .selectAll()
    .where('sid', '=', sid)
    .where('account_sid', '=', accountSid)
    .executeTakeFirst();
  return row === undefined ? undefined : rowToConference(row);
}

export async function findLiveConferenceByName(
  { db }: QueryContext,
  accountSid: string,
  friendlyName: string,
): Promise<Conference | undefined> {
  const row = await db
    .selectFrom('conferences')
    .selectAll()
    .where('account_sid', '=', accountSid)
    .where('friendly_name', '=', friendlyName)
    .where(LIVE)
    .executeTakeFirst();
  return row === undefined ? undefined : rowToConference(row);
}

/**
 * PostgreSQL: `FOR UPDATE` holds the row until the transaction ends, so concurrent changes
 * to one conference queue behind each other. SQLite: the store has one connection and a
 * transaction holds it (and the database's write lock) throughout, so a plain read suffices.
 */
export async function lockConference({ db, dialect }: QueryContext, sid: string): Promise<Conference | undefined> {
  const query = db.selectFrom('conferences').selectAll().where('sid', '=', sid);
  const row = await (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
  return row === undefined ? undefined : rowToConference(row);
}

export async function updateConference({ db }: QueryContext, conference: Conference): Promise<void> {
  // The home node moves only with `moveConferenceHome` (a node's death), never with a change.
  const { sid, home_node_id: _home, ...changes } = conferenceToRow(conference);
  try {
    await db.updateTable('conferences').set(changes).where('sid', '=', sid).execute();
  } catch (error) {
    // Reopening (or renaming onto) a name that is live again breaks the same rule as an insert.
    if (uniqueViolation(error) !== undefined) {
      throw new ConflictError('conference', `A conference named '${conference.friendlyName}' is already live in account ${conference.accountSid}`);
    }
    throw error;
  }
}

/** Newest first, as Twilio lists conferences: `seq` descending. Dates: `from` inclusive, `to` exclusive. */
export function listConferences({ db }: QueryContext, filter: ConferenceFilter, page: PageRequest): Promise<PageResult<Conference>> {
  let query = db.selectFrom('conferences').where('account_sid', '=', filter.accountSid);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.friendlyName !== undefined) query = query.where('friendly_name', '=', filter.friendlyName);
  const { dateCreated, dateUpdated } = filter;
  if (dateCreated?.from !== undefined) query = query.where('date_created', '>=', dateCreated.from);
  if (dateCreated?.to !== undefined) query = query.where('date_created', '<', dateCreated.to);
  if (dateUpdated?.from !== undefined) query = query.where('date_updated', '>=', dateUpdated.from);
  if (dateUpdated?.to !== undefined) query = query.where('date_updated', '<', dateUpdated.to);
  return fetchPage(query, 'desc', page, rowToConference);
}
