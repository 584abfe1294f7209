/**
 * Secrets Conclave must be able to read back, kept sealed: AES-256-GCM (NIST SP 800-38D) under
 * a 256-bit key that every node shares (a cluster secret in the store, made by the first node
 * that asks). An API key's secret is one: an Access Token is signed with it (HMAC), and a
 * signature can only be checked with the secret itself, not with its hash.
 *
 * Each seal has a fresh 96-bit IV and binds what it belongs to (the key's SID) as additional
 * data, so a sealed secret copied onto another row does not open. Sealed form:
 * `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { StoreOperations } from '../domain/ports.js';

/** The cluster secret that seals API key secrets. */
const SEALING_SECRET = 'api-key-secret-sealing';
const VERSION = 'v1';

/** One key per store (per deployment), read once. */
const keys = new WeakMap<object, Promise<Buffer>>();

function sealingKey(store: Pick<StoreOperations, 'clusterSecret'>): Promise<Buffer> {
  let key = keys.get(store);
  if (!key) {
    key = store.clusterSecret(SEALING_SECRET, randomBytes(32).toString('base64')).then((value) => Buffer.from(value, 'base64'));
    // A failed read is not remembered: the next seal asks again.
    key.catch(() => keys.delete(store));
    keys.set(store, key);
  }
  return key;
}

export async function sealSecret(store: Pick<StoreOperations, 'clusterSecret'>, secret: string, boundTo: string): Promise<string> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await sealingKey(store), iv);
  cipher.setAAD(Buffer.from(boundTo, 'utf8'));
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), sealed.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The secret, or undefined when the seal does not open (another deployment's key, another row's seal, tampered). */
export async function unsealSecret(store: Pick<StoreOperations, 'clusterSecret'>, sealed: string, boundTo: string): Promise<string | undefined> {
  const [version, iv, data, tag] = sealed.split('.');
  if (version !== VERSION || iv === undefined || data === undefined || tag === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', await sealingKey(store), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
