/**
 * Opens the store named by one configuration string, the way operators write it: a
 * `postgres://` (or `postgresql://`) URL selects PostgreSQL, anything else is a SQLite file
 * path (`:memory:` for a throw-away database). Engines are loaded on demand, so a SQLite
 * deployment never loads pg and a PostgreSQL one never opens the native SQLite addon.
 */
import type { Store } from '../domain/ports.js';
import type { StoreLogger } from './postgres/database-health.js';

export interface OpenStoreOptions {
  /** PostgreSQL only: the schema holding Conclave's tables (created if absent). */
  schema?: string;
  /** PostgreSQL only: statement_timeout, and the longest wait for a connection (open-postgres-store.ts). */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** PostgreSQL only: where an outage is told, once at its start and once at its end. */
  logger?: StoreLogger;
  /** SQLite only: hold the file for this one server process until closed (sqlite/process-lock.ts). */
  serverLock?: boolean;
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

export function isPostgresLocation(location: string): boolean {
  return POSTGRES_URL.test(location);
}

export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresLocation(location)) {
    const { openPostgresStore } = await import('./postgres/open-postgres-store.js');
    return openPostgresStore(location, options);
  }
  const { openSqliteStore } = await import('./sqlite/open-sqlite-store.js');
  return openSqliteStore(location, { serverLock: options.serverLock === true });
}
