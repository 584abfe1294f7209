/**
 * The owner account, made on first start. With configured credentials it is created, or its
 * auth token set to the configured one; without, the caller supplies stored or fresh ones.
 *
 * Several nodes sharing one PostgreSQL database may start at the same instant with the same
 * credentials: both find no account and both insert it, and the second insert breaks the
 * unique SID. That node then reads back the account the other one made and carries on with it,
 * as it would have had it started a moment later — it is the same account.
 */
import type { Account } from '../domain/model.js';
import { ConflictError } from '../errors.js';
import type { ServiceContext } from './context.js';

export interface OwnerCredentials {
  accountSid: string;
  authToken: string;
}

/** What making the owner account needs of the service context. */
export type OwnerAccountContext = Pick<ServiceContext, 'store' | 'clock' | 'credentials'>;

export async function ensureOwnerAccount(ctx: OwnerAccountContext, credentials: OwnerCredentials): Promise<{ account: Account; created: boolean }> {
  const existing = await ctx.store.findAccount(credentials.accountSid);
  if (existing) return { account: await withToken(ctx, existing, credentials.authToken), created: false };
  const now = ctx.clock.now();
  const account: Account = {
    sid: credentials.accountSid,
    ownerAccountSid: credentials.accountSid,
    friendlyName: 'Conclave owner account',
    authToken: credentials.authToken,
    status: 'active',
    dateCreated: now,
    dateUpdated: now,
  };
  try {
    await ctx.store.insertAccount(account);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const made = await ctx.store.findAccount(credentials.accountSid);
    if (!made) throw error;
    return { account: await withToken(ctx, made, credentials.authToken), created: false };
  }
  return { account, created: true };
}

/** The account with the configured auth token: set when it differs. */
async function withToken(ctx: OwnerAccountContext, account: Account, authToken: string): Promise<Account> {
  if (account.authToken === authToken) return account;
  const updated = { ...account, authToken, dateUpdated: ctx.clock.now() };
  await ctx.store.updateAccount(updated);
  ctx.credentials.clear();
  return updated;
}
