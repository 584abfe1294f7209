/**
 * TwiML Applications: oldest first, scoped to the account, filtered by exact friendly name as
 * Twilio's ListApplication does; found by SID alone (a browser's Access Token names one, and
 * the service checks the account). Deleting one also clears it from the numbers that named it,
 * whose own voice URLs then answer again.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Application, ApplicationFilter } from '../domain/application.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import { ConflictError } from '../errors.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import type { Insertable } from './row-mapping.js';
import type { ApplicationsTable, Database } from './schema.js';
import { uniqueViolation } from './unique-violations.js';

function applicationToRow(a: Application): Insertable<ApplicationsTable> {
  return {
    sid: a.sid,
    account_sid: a.accountSid,
    friendly_name: a.friendlyName,
    api_version: a.apiVersion,
    voice_url: a.voiceUrl,
    voice_method: a.voiceMethod,
    voice_fallback_url: a.voiceFallbackUrl,
    voice_fallback_method: a.voiceFallbackMethod,
    status_callback: a.statusCallback,
    status_callback_method: a.statusCallbackMethod,
    voice_caller_id_lookup: a.voiceCallerIdLookup ? 1 : 0,
    sms_url: a.smsUrl,
    sms_method: a.smsMethod,
    sms_fallback_url: a.smsFallbackUrl,
    sms_fallback_method: a.smsFallbackMethod,
    sms_status_callback: a.smsStatusCallback,
    message_status_callback: a.messageStatusCallback,
    public_application_connect_enabled: a.publicApplicationConnectEnabled ? 1 : 0,
    date_created: a.dateCreated,
    date_updated: a.dateUpdated,
  };
}

function rowToApplication(r: Selectable<ApplicationsTable>): Application {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    friendlyName: r.friendly_name,
    apiVersion: r.api_version,
    voiceUrl: r.voice_url,
    voiceMethod: r.voice_method,
    voiceFallbackUrl: r.voice_fallback_url,
    voiceFallbackMethod: r.voice_fallback_method,
    statusCallback: r.status_callback,
    statusCallbackMethod: r.status_callback_method,
    voiceCallerIdLookup: r.voice_caller_id_lookup === 1,
    smsUrl: r.sms_url,
    smsMethod: r.sms_method,
    smsFallbackUrl: r.sms_fallback_url,
    smsFallbackMethod: r.sms_fallback_method,
    smsStatusCallback: r.sms_status_callback,
    messageStatusCallback: r.message_status_callback,
    publicApplicationConnectEnabled: r.public_application_connect_enabled === 1,
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

export async function insertApplication({ db }: QueryContext, application: Application): Promise<void> {
  try {
    await db.insertInto('applications').values(applicationToRow(application)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `Application ${application.sid} already exists`);
    throw error;
  }
}

export async function findApplication({ db }: QueryContext, sid: string): Promise<Application | undefined> {
  const row = await db.selectFrom('applications').selectAll().where('sid', '=', sid).executeTakeFirst();
  return row === undefined ? undefined : rowToApplication(row);
}

export async function updateApplication({ db }: QueryContext, application: Application): Promise<void> {
  const { sid, ...changes } = applicationToRow(application);
  await db.updateTable('applications').set(changes).where('sid', '=', sid).execute();
}

/** The numbers naming the application let go of it in the same transaction as the row goes. */
export async function deleteApplication(ctx: QueryContext, sid: string): Promise<boolean> {
  const work = async (db: Kysely<Database>): Promise<boolean> => {
    await db.updateTable('phone_numbers').set({ voice_application_sid: null }).where('voice_application_sid', '=', sid).execute();
    const result = await db.deleteFrom('applications').where('sid', '=', sid).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  };
  return ctx.inTransaction ? work(ctx.db) : ctx.db.transaction().execute(work);
}

export function listApplications({ db }: QueryContext, accountSid: string, page: PageRequest, filter: ApplicationFilter = {}): Promise<PageResult<Application>> {
  let query = db.selectFrom('applications').where('account_sid', '=', accountSid);
  if (filter.friendlyName !== undefined) query = query.where('friendly_name', '=', filter.friendlyName);
  return fetchPage(query, 'asc', page, rowToApplication);
}
