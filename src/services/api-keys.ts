/**
 * API keys (CreateNewKey, FetchKey, UpdateKey, DeleteKey, ListKey of twilio-oai): an `SK…` SID
 * and a secret shown once at creation. API requests are checked against the SHA-256 of the
 * secret — 192 random bits, so a fast hash is enough (no password stretching needed). The secret
 * is also kept sealed (sealed-secrets.ts), because Access Tokens are HMAC-signed with it
 * (access-tokens.ts) and only the secret itself checks such a signature.
 */
import type { ApiKey } from '../domain/model.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import { newKeySecret, newSid } from '../domain/sids.js';
import { ResourceNotFound } from '../errors.js';
import { sha256Hex } from './authenticate.js';
import type { ServiceContext } from './context.js';
import { sealSecret } from './sealed-secrets.js';

export interface NewApiKey {
  key: ApiKey;
  secret: string;
}

export async function createApiKey(ctx: ServiceContext, accountSid: string, friendlyName: string | undefined): Promise<NewApiKey> {
  const now = ctx.clock.now();
  const secret = newKeySecret();
  const sid = newSid('SK');
  const key: ApiKey = {
    sid,
    accountSid,
    friendlyName: friendlyName ?? '',
    secretHash: sha256Hex(secret),
    sealedSecret: await sealSecret(ctx.store, secret, sid),
    dateCreated: now,
    dateUpdated: now,
  };
  await ctx.store.insertKey(key);
  return { key, secret };
}

export async function getApiKey(ctx: ServiceContext, accountSid: string, keySid: string): Promise<ApiKey> {
  const key = await ctx.store.findKey(keySid);
  if (!key || key.accountSid !== accountSid) throw new ResourceNotFound(`Key ${keySid}`);
  return key;
}

export async function renameApiKey(ctx: ServiceContext, accountSid: string, keySid: string, friendlyName: string): Promise<ApiKey> {
  const key = await getApiKey(ctx, accountSid, keySid);
  const next = { ...key, friendlyName, dateUpdated: ctx.clock.now() };
  await ctx.store.updateKey(next);
  return next;
}

export async function deleteApiKey(ctx: ServiceContext, accountSid: string, keySid: string): Promise<void> {
  await getApiKey(ctx, accountSid, keySid);
  await ctx.store.deleteKey(keySid);
  ctx.credentials.clear();
}

export function listApiKeys(ctx: ServiceContext, accountSid: string, page: PageRequest): Promise<PageResult<ApiKey>> {
  return ctx.store.listKeys(accountSid, page);
}
