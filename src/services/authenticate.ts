/**
 * Who is calling: HTTP Basic credentials resolved to a principal, and whether that principal may
 * reach an account. Rules from Twilio's subaccount docs (reference/twilio-api.md §1.5):
 * - `AccountSid:AuthToken` reaches that account and, for an owner, its subaccounts;
 * - `SK…:secret` (an API key) reaches only the account that owns the key;
 * - a subaccount never reaches its parent or its siblings.
 * Secrets are compared in constant time (over SHA-256 digests, so lengths never leak), and an
 * unknown or inactive account or key is compared against a dummy secret of the same shape, so
 * that a wrong token takes as long whether or not the SID exists (issue #10: a known AccountSid
 * answered ~40 µs slower, which told which SIDs exist).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** Stand-ins for the secret of an account or key that does not exist: an auth token (32 hex digits), a key secret's stored hash. */
const DUMMY_AUTH_TOKEN = randomBytes(16).toString('hex');
const DUMMY_SECRET_HASH = sha256Hex(randomBytes(24).toString('base64url'));

export async function authenticate(store: StoreOperations, username: string, password: string): Promise<Principal | undefined> {
  if (isSid(username, 'AC')) {
    const account = await store.findAccount(username);
    // The same two hashes and comparison on every path.
    const expected = createHash('sha256').update(account?.authToken ?? DUMMY_AUTH_TOKEN).digest();
    const matches = sameSecret(expected, password);
    return matches && account?.status === 'active' ? { account } : undefined;
  }
  if (isSid(username, 'SK')) {
    const key = await store.findKey(username);
    const matches = sameSecret(Buffer.from(key?.secretHash ?? DUMMY_SECRET_HASH, 'hex'), password);
    if (!matches || !key) return undefined;
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
