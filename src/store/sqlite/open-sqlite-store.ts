/**
 * Opens the SQLite store: one better-sqlite3 connection to a file (created with its parent
 * directory if absent; `:memory:` for a throw-away database), migrated to the latest schema.
 *
 * The store runs in one process with one connection; Kysely's SQLite driver serialises its
 * use, which is also what makes transactions (and `lockConference`) exclusive. A server opens
 * it with `serverLock`, which refuses a second server on the same file (process-lock.ts says
 * why and how); `conclave join` shares the file with the running server and takes no lock.
 */
import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase, type SqliteDialectConfig } from 'kysely';
import type { Store } from '../../domain/ports.js';
import { KyselyStore } from '../kysely-store.js';
import { ParticipantCache } from '../participant-cache.js';
import { QueryTimings } from '../query-timings.js';
import { migrateToLatest } from '../migrations.js';
import type { Database } from '../schema.js';
import { SqliteProcessLock } from './process-lock.js';

/** How long a statement waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Distinct SQL texts kept prepared; the store issues a few dozen, so this is never reached in practice. */
const STATEMENT_CACHE_SIZE = 500;

export interface SqliteStoreOptions {
  /** Hold the file for this one server process until the store is closed (process-lock.ts); a file only. */
  serverLock?: boolean;
}

export async function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // Before the database is opened: a refused server has changed nothing in it.
  const lock = options.serverLock === true && !inMemory ? SqliteProcessLock.acquire(file) : undefined;

  let sqlite: Sqlite.Database;
  try {
    sqlite = new Sqlite(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    lock?.release();
    throw error;
  }
  try {
    // WAL: readers in other processes (backups, the CLI) do not block the server, and a
    // commit is one append. NORMAL is durable across crashes of the process in WAL mode.
    if (!inMemory) sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');

    const timings = new QueryTimings();
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }), log: timings.log });
    await migrateToLatest(db as Kysely<unknown>, 'sqlite');
    return lock === undefined ? new KyselyStore(db, 'sqlite', { cache: new ParticipantCache(), timings }) : new LockedSqliteStore(db, lock, timings);
  } catch (error) {
    sqlite.close();
    lock?.release();
    throw error;
  }
}

/** A server's store: its lock is let go once the database is closed, not before. */
class LockedSqliteStore extends KyselyStore {
  constructor(
    db: Kysely<Database>,
    private readonly lock: SqliteProcessLock,
    timings: QueryTimings,
  ) {
    super(db, 'sqlite', { cache: new ParticipantCache(), timings });
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      this.lock.release();
    }
  }
}

/**
 * Kysely's SQLite driver prepares every statement afresh on each call; preparing costs more
 * than running the small indexed queries of the hot path. The store's SQL texts are few
 * (values are bound parameters), so a bounded map of prepared statements is enough.
 */
function withStatementCache(sqlite: Sqlite.Database): SqliteDatabase {
  const cache = new Map<string, Sqlite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Transactions start with BEGIN IMMEDIATE instead of Kysely's plain BEGIN: the write lock is
 * taken up front, so a transaction that reads then writes cannot fail half-way with
 * SQLITE_BUSY because another process (say the CLI) wrote in between; it waits at BEGIN,
 * under busy_timeout, instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
