/**
 * Accounts and their API keys. `findAccount` and `findKey` run on every authenticated HTTP
 * request, so they are single lookups on the unique `sid` index and nothing more.
 */
import { ConflictError } from '../errors.js';
import type { Account, ApiKey } from '../domain/model.js';
import type { AccountFilter } from '../domain/ports.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import { fetchPage } from './paging-queries.js';
import { accountToRow, keyToRow, rowToAccount, rowToKey } from './row-mapping.js';
import type { QueryContext } from './query-context.js';
import { runCompiledOnce } from './compiled-once.js';
import type { AccountRow } from './schema.js';
import { uniqueViolation } from './unique-violations.js';

export async function insertAccount({ db }: QueryContext, account: Account): Promise<void> {
  try {
    await db.insertInto('accounts').values(accountToRow(account)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `Account ${account.sid} already exists`);
    throw error;
  }
}

export async function findAccount({ db, dialect }: QueryContext, sid: string): Promise<Account | undefined> {
  const row = await runCompiledOnce<AccountRow>(db, dialect, 'findAccount', (q) => q.selectFrom('accounts').selectAll().where('sid', '=', ''), [sid]);
  return row === undefined ? undefined : rowToAccount(row);
}

export async function updateAccount({ db }: QueryContext, account: Account): Promise<void> {
  const { sid, ...changes } = accountToRow(account);
  await db.updateTable('accounts').set(changes).where('sid', '=', sid).execute();
}

/**
 * Owner first, then its subaccounts oldest first. That is plain `seq` order: an account's
 * owner must exist before it (foreign key), so the owner always has the smallest `seq`.
 */
export function listAccounts({ db }: QueryContext, filter: AccountFilter, page: PageRequest): Promise<PageResult<Account>> {
  let query = db
    .selectFrom('accounts')
    .where((eb) => eb.or([eb('sid', '=', filter.ownerAccountSid), eb('owner_account_sid', '=', filter.ownerAccountSid)]));
  if (filter.friendlyName !== undefined) query = query.where('friendly_name', '=', filter.friendlyName);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  return fetchPage(query, 'asc', page, rowToAccount);
}

export async function insertKey({ db }: QueryContext, key: ApiKey): Promise<void> {
  try {
    await db.insertInto('api_keys').values(keyToRow(key)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `API key ${key.sid} already exists`);
    throw error;
  }
}

export async function findKey({ db }: QueryContext, sid: string): Promise<ApiKey | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('sid', '=', sid).executeTakeFirst();
  return row === undefined ? undefined : rowToKey(row);
}

export async function updateKey({ db }: QueryContext, key: ApiKey): Promise<void> {
  const { sid, ...changes } = keyToRow(key);
  await db.updateTable('api_keys').set(changes).where('sid', '=', sid).execute();
}

export async function deleteKey({ db }: QueryContext, sid: string): Promise<boolean> {
  const result = await db.deleteFrom('api_keys').where('sid', '=', sid).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export function listKeys({ db }: QueryContext, accountSid: string, page: PageRequest): Promise<PageResult<ApiKey>> {
  return fetchPage(db.selectFrom('api_keys').where('account_sid', '=', accountSid), 'asc', page, rowToKey);
}
