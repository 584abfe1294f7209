/**
 * Credential lists and IP access control lists: two tables of the same columns, the same
 * queries. Oldest first, scoped to the account.
 */
import type { PageRequest, PageResult } from '../domain/paging.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import { rowToSipList, sipListToRow, type SipList } from './sip-row-mapping.js';

export type SipListTable = 'sip_credential_lists' | 'sip_ip_access_control_lists';

export async function insertSipList({ db }: QueryContext, table: SipListTable, list: SipList): Promise<void> {
  await db.insertInto(table).values(sipListToRow(list)).execute();
}

export async function findSipList({ db }: QueryContext, table: SipListTable, accountSid: string, sid: string): Promise<SipList | undefined> {
  const row = await db.selectFrom(table).selectAll().where('sid', '=', sid).where('account_sid', '=', accountSid).executeTakeFirst();
  return row === undefined ? undefined : rowToSipList(row);
}

export async function updateSipList({ db }: QueryContext, table: SipListTable, list: SipList): Promise<void> {
  const { sid, ...changes } = sipListToRow(list);
  await db.updateTable(table).set(changes).where('sid', '=', sid).execute();
}

export async function deleteSipList({ db }: QueryContext, table: SipListTable, sid: string): Promise<boolean> {
  const result = await db.deleteFrom(table).where('sid', '=', sid).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listSipLists({ db }: QueryContext, table: SipListTable, accountSid: string, page: PageRequest): Promise<PageResult<SipList>> {
  return fetchPage(db.selectFrom(table).where('account_sid', '=', accountSid), 'asc', page, rowToSipList);
}
