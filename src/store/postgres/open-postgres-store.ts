/**
 * Opens the PostgreSQL store: a `pg.Pool` on a `postgres://` URL, migrated to the latest
 * schema. Several Conclave processes may share one database; the conference row lock
 * (`lockConference`) and the unique indexes keep them consistent.
 *
 * `schema` puts every table in that schema (created if absent) by setting `search_path` at
 * connection start-up, so no query names a schema; the tests use one schema per test file.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { ConfigError } from '../../errors.js';
import type { Store } from '../../domain/ports.js';
import { KyselyStore } from '../kysely-store.js';
import { ParticipantChangeListener } from './participant-change-listener.js';
import { ParticipantCache } from '../participant-cache.js';
import { migrateToLatest } from '../migrations.js';
import type { Database } from '../schema.js';

export interface PostgresStoreOptions {
  /** Schema for Conclave's tables, created if absent; default: the server's search_path (`public`). */
  schema?: string;
  /** Pool size; default pg's 10. */
  maxConnections?: number;
}

const INT8_OID = 20;
/** A plain, unquoted identifier, so it can be written into `search_path` and DDL as is. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DUPLICATE_SCHEMA = '42P06';
const UNIQUE_VIOLATION = '23505';

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`Invalid PostgreSQL schema name '${schema}': use lowercase letters, digits and _, starting with a letter or _`);
  }

  // int8 (bigint: seq, timestamps, count(*)) arrives as a string by default, to be safe
  // beyond 2^53; ours are epoch milliseconds and row counts, far below it. Set on this pool
  // only, not on pg's global parsers, so other users of `pg` in the process are unaffected.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, Number);

  const pool = new pg.Pool({
    connectionString: schema === undefined ? url : withSearchPath(url, schema),
    types,
    max: options.maxConnections,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection that the server drops emits 'error' on the pool, which would crash the
  // process if unheard; the pool discards that connection and the next query opens another.
  pool.on('error', () => undefined);

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema !== undefined) await createSchema(pool, schema);
    await migrateToLatest(db as Kysely<unknown>, 'postgres', schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const cache = new ParticipantCache();
  let listener: ParticipantChangeListener;
  try {
    listener = await ParticipantChangeListener.start(schema === undefined ? url : withSearchPath(url, schema), schema ?? 'public', cache);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyStore(db, 'postgres', cache, () => listener.close());
}

/**
 * Adds `-c search_path=<schema>` to the URL's `options` (the start-up parameter pg sends
 * with every new connection), keeping any options the URL already had: pg lets the URL's
 * parameters win over the pool config, so the URL is the one place to set it.
 */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const prior = parsed.searchParams.get('options');
  parsed.searchParams.set('options', [prior, `-c search_path=${schema}`].filter((o) => o !== null && o !== '').join(' '));
  return parsed.toString();
}

async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`create schema if not exists ${schema}`);
  } catch (error) {
    // Two processes creating it at the same instant: one of them loses the race, harmlessly.
    const code = (error as { code?: unknown }).code;
    if (code !== DUPLICATE_SCHEMA && code !== UNIQUE_VIOLATION) throw error;
  }
}
