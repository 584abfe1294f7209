/**
 * Calls and phone numbers. Calls are listed newest first (Twilio lists calls by start, most
 * recent first); numbers oldest first. A number is unique across the deployment.
 */
import { LIVE_CALL_STATUSES as LIVE_STATUSES, type Call } from '../domain/call.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { PhoneNumber } from '../domain/phone-number.js';
import type { CallFilter, PhoneNumberFilter } from '../domain/ports.js';
import { ConflictError } from '../errors.js';
import { callToRow, phoneNumberToRow, rowToCall, rowToPhoneNumber } from './call-row-mapping.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import { uniqueViolation } from './unique-violations.js';

export async function insertCall({ db }: QueryContext, call: Call): Promise<void> {
  try {
    await db.insertInto('calls').values(callToRow(call)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `Call ${call.sid} already exists`);
    throw error;
  }
}

export async function findCall({ db }: QueryContext, sid: string, accountSid?: string): Promise<Call | undefined> {
  let query = db.selectFrom('calls').selectAll().where('sid', '=', sid);
  if (accountSid !== undefined) query = query.where('account_sid', '=', accountSid);
  const row = await query.executeTakeFirst();
  return row === undefined ? undefined : rowToCall(row);
}

/**
 * Only a call that has not ended is changed: once a call is final — ended by its node, or by
 * the survivor that cleared a dead node — no later write (a node that comes back) changes it.
 * The node that runs it is never changed here.
 */
export async function updateCall({ db }: QueryContext, call: Call): Promise<boolean> {
  const { sid, node_id: _node, ...changes } = callToRow(call);
  const result = await db.updateTable('calls').set(changes).where('sid', '=', sid).where('status', 'in', LIVE_STATUSES).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteCall({ db }: QueryContext, sid: string): Promise<boolean> {
  const result = await db.deleteFrom('calls').where('sid', '=', sid).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listCalls({ db }: QueryContext, filter: CallFilter, page: PageRequest): Promise<PageResult<Call>> {
  let query = db.selectFrom('calls').where('account_sid', '=', filter.accountSid);
  if (filter.to !== undefined) query = query.where('to', '=', filter.to);
  if (filter.from !== undefined) query = query.where('from', '=', filter.from);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.parentCallSid !== undefined) query = query.where('parent_call_sid', '=', filter.parentCallSid);
  const { startTime, endTime } = filter;
  if (startTime?.from !== undefined) query = query.where('start_time', '>=', startTime.from);
  if (startTime?.to !== undefined) query = query.where('start_time', '<', startTime.to);
  if (endTime?.from !== undefined) query = query.where('end_time', '>=', endTime.from);
  if (endTime?.to !== undefined) query = query.where('end_time', '<', endTime.to);
  return fetchPage(query, 'desc', page, rowToCall);
}

export async function listLiveCalls({ db }: QueryContext, limit: number): Promise<Call[]> {
  const rows = await db.selectFrom('calls').selectAll().where('status', 'in', LIVE_STATUSES).orderBy('seq', 'asc').limit(limit).execute();
  return rows.map(rowToCall);
}

export async function insertPhoneNumber({ db }: QueryContext, number: PhoneNumber): Promise<void> {
  try {
    await db.insertInto('phone_numbers').values(phoneNumberToRow(number)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `The number ${number.phoneNumber} is already registered`);
    throw error;
  }
}

export async function findPhoneNumber({ db }: QueryContext, accountSid: string, sid: string): Promise<PhoneNumber | undefined> {
  const row = await db.selectFrom('phone_numbers').selectAll().where('sid', '=', sid).where('account_sid', '=', accountSid).executeTakeFirst();
  return row === undefined ? undefined : rowToPhoneNumber(row);
}

export async function findPhoneNumberByNumber({ db }: QueryContext, phoneNumber: string): Promise<PhoneNumber | undefined> {
  const row = await db.selectFrom('phone_numbers').selectAll().where('phone_number', '=', phoneNumber).executeTakeFirst();
  return row === undefined ? undefined : rowToPhoneNumber(row);
}

export async function updatePhoneNumber({ db }: QueryContext, number: PhoneNumber): Promise<void> {
  const { sid, ...changes } = phoneNumberToRow(number);
  await db.updateTable('phone_numbers').set(changes).where('sid', '=', sid).execute();
}

export async function deletePhoneNumber({ db }: QueryContext, sid: string): Promise<boolean> {
  const result = await db.deleteFrom('phone_numbers').where('sid', '=', sid).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listPhoneNumbers({ db }: QueryContext, filter: PhoneNumberFilter, page: PageRequest): Promise<PageResult<PhoneNumber>> {
  let query = db.selectFrom('phone_numbers').where('account_sid', '=', filter.accountSid);
  if (filter.phoneNumber !== undefined) query = query.where('phone_number', '=', filter.phoneNumber);
  if (filter.friendlyName !== undefined) query = query.where('friendly_name', '=', filter.friendlyName);
  return fetchPage(query, 'asc', page, rowToPhoneNumber);
}
