/**
 * The owner account, made on first start. With configured credentials it is created, or its
 * auth token set to the configured one; without, the caller supplies stored or fresh ones.
 */
import type { Account } from '../domain/model.js';
import type { ServiceContext } from './context.js';

export interface OwnerCredentials {
  accountSid: string;
  authToken: string;
}

export async function ensureOwnerAccount(ctx: ServiceContext, credentials: OwnerCredentials): Promise<{ account: Account; created: boolean }> {
  const existing = await ctx.store.findAccount(credentials.accountSid);
  const now = ctx.clock.now();
  if (existing) {
    if (existing.authToken === credentials.authToken) return { account: existing, created: false };
    const updated = { ...existing, authToken: credentials.authToken, dateUpdated: now };
    await ctx.store.updateAccount(updated);
    ctx.credentials.clear();
    return { account: updated, created: false };
  }
  const account: Account = {
    sid: credentials.accountSid,
    ownerAccountSid: credentials.accountSid,
    friendlyName: 'Conclave owner account',
    authToken: credentials.authToken,
    status: 'active',
    dateCreated: now,
    dateUpdated: now,
  };
  await ctx.store.insertAccount(account);
  return { account, created: true };
}
