/**
 * Accounts: the owner account made at first start, and subaccounts (CreateAccount,
 * FetchAccount, ListAccount, UpdateAccount of twilio-oai). Only an owner account creates
 * subaccounts; a subaccount's owner is the account that created it.
 */
import type { Account, AccountStatus } from '../domain/model.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { AccountFilter } from '../domain/ports.js';
import { newAuthToken, newSid } from '../domain/sids.js';
import { forbidden, RuleViolation, TwilioCode } from '../errors.js';
import type { ServiceContext } from './context.js';
import type { Principal } from './authenticate.js';

export const FRIENDLY_NAME_MAX = 64;

export function isOwnerAccount(account: Account): boolean {
  return account.ownerAccountSid === account.sid;
}

export async function createSubaccount(ctx: ServiceContext, principal: Principal, friendlyName: string | undefined): Promise<Account> {
  if (!isOwnerAccount(principal.account) || principal.keySid) {
    throw forbidden('Only an owner account, with its AccountSid and AuthToken, may create subaccounts');
  }
  const now = ctx.clock.now();
  const sid = newSid('AC');
  const account: Account = {
    sid,
    ownerAccountSid: principal.account.sid,
    friendlyName: friendlyName ?? `SubAccount Created at ${new Date(now).toISOString().slice(0, 16).replace('T', ' ')}`,
    authToken: newAuthToken(),
    status: 'active',
    dateCreated: now,
    dateUpdated: now,
  };
  await ctx.store.insertAccount(account);
  return account;
}

export interface AccountChange {
  friendlyName?: string;
  status?: AccountStatus;
}

export async function updateAccount(ctx: ServiceContext, principal: Principal, target: Account, change: AccountChange): Promise<Account> {
  if (target.status === 'closed') {
    throw new RuleViolation(TwilioCode.invalidParameter, 'Invalid Status: a closed account cannot be changed');
  }
  if (change.status && change.status !== target.status && target.sid === principal.account.sid) {
    throw forbidden('An account cannot change its own status; its owner account can');
  }
  const next: Account = {
    ...target,
    friendlyName: change.friendlyName ?? target.friendlyName,
    status: change.status ?? target.status,
    dateUpdated: ctx.clock.now(),
  };
  await ctx.store.updateAccount(next);
  ctx.credentials.clear();
  return next;
}

export function listAccounts(ctx: ServiceContext, principal: Principal, filter: Omit<AccountFilter, 'ownerAccountSid'>, page: PageRequest): Promise<PageResult<Account>> {
  // A subaccount (or an API key) sees only itself: its "owner" filter is its own SID, and it owns nothing.
  return ctx.store.listAccounts({ ...filter, ownerAccountSid: principal.account.sid }, page);
}
