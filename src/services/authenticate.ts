/**
 * Who is calling: HTTP Basic credentials resolved to a principal, and whether that principal may
 * reach an account. Rules from Twilio's subaccount docs (reference/twilio-api.md §1.5):
 * - `AccountSid:AuthToken` reaches that account and, for an owner, its subaccounts;
 * - `SK…:secret` (an API key) reaches only the account that owns the key;
 * - a subaccount never reaches its parent or its siblings.
 * Secrets are compared in constant time (over SHA-256 digests, so lengths never leak).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Account } from '../domain/model.js';
import type { StoreOperations } from '../domain/ports.js';
import { isSid } from '../domain/sids.js';

export interface Principal {
  account: Account;
  /** Set when the caller used an API key. */
  keySid?: string;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function sameSecret(expectedDigest: Buffer, given: string): boolean {
  return timingSafeEqual(expectedDigest, createHash('sha256').update(given).digest());
}

export async function authenticate(store: StoreOperations, username: string, password: string): Promise<Principal | undefined> {
  if (isSid(username, 'AC')) {
    const account = await store.findAccount(username);
    if (!account || account.status !== 'active') return undefined;
    const expected = createHash('sha256').update(account.authToken).digest();
    return sameSecret(expected, password) ? { account } : undefined;
  }
  if (isSid(username, 'SK')) {
    const key = await store.findKey(username);
    if (!key) return undefined;
    if (!sameSecret(Buffer.from(key.secretHash, 'hex'), password)) return undefined;
    const account = await store.findAccount(key.accountSid);
    if (!account || account.status !== 'active') return undefined;
    return { account, keySid: key.sid };
  }
  return undefined;
}

/** Whether `principal` may act on `target`; the caller answers 401 alike for "no" and "no such account". */
export function mayReach(principal: Principal, target: Account | undefined): boolean {
  // A closed subaccount stays visible to its owner (its own credentials no longer authenticate).
  if (!target) return false;
  if (target.sid === principal.account.sid) return true;
  if (principal.keySid) return false;
  return target.ownerAccountSid === principal.account.sid && principal.account.ownerAccountSid === principal.account.sid;
}
