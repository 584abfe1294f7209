/**
 * Opens the PostgreSQL store: a `pg.Pool` on a `postgres://` URL, migrated to the latest
 * schema. Several Conclave processes may share one database; the conference row lock
 * (`lockConference`) and the unique indexes keep them consistent.
 *
 * `schema` puts every table in that schema (created if absent) by setting `search_path` at
 * connection start-up, so no query names a schema; the tests use one schema per test file. A
 * URL that sets the search path itself (`?options=-c%20search_path%3Dname`) names the schema
 * the same way.
 *
 * A lost or slow database is an answer, never a hang or a crash: every statement has a
 * `statement_timeout` (the server cancels it, lock waits included) and a client-side deadline a
 * little later (for a server that no longer answers at all); a connection, new or from the
 * pool, is waited for `connectTimeoutMs` at most; every connection error is heard (guarded-pool.ts)
 * and the outage logged once (database-health.ts). The pool and the LISTEN connection open new
 * connections by themselves once the server answers again.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { ConfigError } from '../../errors.js';
import { DatabaseHealth, type StoreLogger } from './database-health.js';
import { GuardedPool } from './guarded-pool.js';
import { QueryTimings } from '../query-timings.js';
import type { Store } from '../../domain/ports.js';
import { KyselyStore } from '../kysely-store.js';
import { channelsOf, NotificationListener } from './notification-listener.js';
import { ParticipantCache } from '../participant-cache.js';
import { migrateToLatest } from '../migrations.js';
import type { Database } from '../schema.js';

export interface PostgresStoreOptions {
  /** Schema for Conclave's tables, created if absent; default: the server's search_path (`public`). */
  schema?: string;
  /** Pool size; default pg's 10. */
  maxConnections?: number;
  /** PostgreSQL's statement_timeout for every statement; default 5 s (config.ts says why). */
  statementTimeoutMs?: number;
  /** Longest wait for a connection, new or from the pool; default 2 s. */
  connectTimeoutMs?: number;
  /** Where the start and end of an outage are told; default nowhere. */
  logger?: StoreLogger;
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** How the server lists our connections (pg_stat_activity) unless the URL names them itself. */
const APPLICATION_NAME = 'conclave';

const INT8_OID = 20;
/** A plain, unquoted identifier, so it can be written into `search_path` and DDL as is. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DUPLICATE_SCHEMA = '42P06';
const UNIQUE_VIOLATION = '23505';

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const schema = options.schema ?? schemaOfUrl(url);
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`Invalid PostgreSQL schema name '${schema}': use lowercase letters, digits and _, starting with a letter or _`);
  }

  // int8 (bigint: seq, timestamps, count(*)) arrives as a string by default, to be safe
  // beyond 2^53; ours are epoch milliseconds and row counts, far below it. Set on this pool
  // only, not on pg's global parsers, so other users of `pg` in the process are unaffected.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, Number);

  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const connectionString = options.schema === undefined ? url : withSearchPath(url, options.schema);
  const connection: pg.ClientConfig = {
    fallback_application_name: APPLICATION_NAME,
    connectionTimeoutMillis: connectTimeoutMs,
    // Notices a peer that vanished without a reset sooner than the kernel's default of two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  const pool = new pg.Pool({
    ...connection,
    connectionString,
    types,
    max: options.maxConnections,
    statement_timeout: statementTimeoutMs,
    // A server that stopped answering altogether (a black-holed network) cannot cancel
    // anything: the client gives up a connect-timeout after the server should have.
    query_timeout: statementTimeoutMs + connectTimeoutMs,
    // A transaction whose node vanished between two statements must not keep its row locks
    // (a conference's) longer than a statement may wait for them.
    idle_in_transaction_session_timeout: statementTimeoutMs,
  });
  const health = new DatabaseHealth(options.logger);

  const timings = new QueryTimings();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new GuardedPool(pool, health) }), log: timings.log });
  try {
    if (schema !== undefined) await createSchema(pool, schema);
    // Named even when the search path chose it (usually `public`): a migrator left to find its
    // tables in any schema takes another schema's (another deployment's, on one database) for
    // its own, then fails on them ("kysely_migration_lock" does not exist).
    await migrateToLatest(db as Kysely<unknown>, 'postgres', schema ?? (await currentSchema(pool)));
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const cache = new ParticipantCache();
  let listener: NotificationListener;
  const channelSchema = schema ?? 'public';
  try {
    listener = await NotificationListener.start(connectionString, channelSchema, cache, {
      client: connection,
      health,
      onError: (error) => options.logger?.warn({ err: error }, 'a cluster notification could not be handled'),
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyStore(db, 'postgres', {
    cache,
    channel: { name: channelsOf(channelSchema).cluster, listener },
    onClose: () => listener.close(),
    timings,
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  });
}

/**
 * The schema a URL's `options` sets with `-c search_path=<one plain schema>`, if it does; a
 * search path of several schemas, or a quoted one, is left to the server as before.
 */
function schemaOfUrl(url: string): string | undefined {
  const options = new URL(url).searchParams.get('options') ?? '';
  const named = /(?:^|\s)-c\s*search_path=([^\s,]+)(?:\s|$)/.exec(options)?.[1];
  return named !== undefined && SCHEMA_NAME.test(named) ? named : undefined;
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

/** The schema unqualified tables are created in (the search path's first existing one), if any. */
async function currentSchema(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ schema: string | null }>('select current_schema() as schema');
  return rows[0]?.schema ?? undefined;
}
