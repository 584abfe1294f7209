/**
 * Where the owner's credentials come from: the environment when set, else a file kept beside
 * the database (mode 0600), made with fresh Twilio-shaped credentials on the first start and
 * reused on later ones.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.js';
import { isSid, newAuthToken, newSid } from '../domain/sids.js';
import { ConfigError } from '../errors.js';
import type { OwnerCredentials } from '../services/owner-account.js';

export interface ResolvedCredentials extends OwnerCredentials {
  source: 'environment' | 'file' | 'generated';
}

export function resolveOwnerCredentials(config: Config): ResolvedCredentials {
  if (config.owner) return { ...config.owner, source: 'environment' };
  const file = config.credentialsFile;
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new ConfigError(`${file} is not valid JSON; delete it to get new credentials, or set CONCLAVE_ACCOUNT_SID and CONCLAVE_AUTH_TOKEN`);
    }
    const { accountSid, authToken } = (parsed ?? {}) as Partial<OwnerCredentials>;
    if (typeof accountSid !== 'string' || !isSid(accountSid, 'AC') || typeof authToken !== 'string' || authToken.length < 16) {
      throw new ConfigError(`${file} holds no valid accountSid and authToken; delete it to get new credentials`);
    }
    return { accountSid, authToken, source: 'file' };
  }
  const fresh = { accountSid: newSid('AC'), authToken: newAuthToken() };
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (error) {
    throw new ConfigError(`cannot write ${file} (${(error as Error).message}); set CONCLAVE_CREDENTIALS_FILE to a writable path`);
  }
  return { ...fresh, source: 'generated' };
}
