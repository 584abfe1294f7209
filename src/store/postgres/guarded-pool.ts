/**
 * The pg pool as Kysely sees it, with what pg leaves to its user done once here:
 * - every connection, in use or idle, has an 'error' listener for its whole life. pg-pool
 *   listens only while a connection is idle; a connection lost while a query runs (a database
 *   restart, a failover, pg_terminate_backend, a TCP reset) emitted 'error' to nobody, and
 *   Node ends the process on an unheard 'error'.
 * - a driver error that means "the database cannot answer now" becomes `StoreUnavailableError`
 *   (an HTTP 503), through `DatabaseHealth`, which logs the outage once; a connection that
 *   failed so is given back to the pool for destruction, never for reuse.
 * Kysely's `PostgresDialect` accepts any object of this shape as its pool.
 */
import type pg from 'pg';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { StoreUnavailableError } from '../../errors.js';
import type { DatabaseHealth } from './database-health.js';

export class GuardedPool implements PostgresPool {
  constructor(
    private readonly pool: pg.Pool,
    private readonly health: DatabaseHealth,
  ) {
    pool.on('connect', (client) => client.on('error', (error) => health.lost(error)));
    // pg-pool re-emits an idle connection's error here, after the listener above has heard it.
    pool.on('error', () => undefined);
  }

  async connect(): Promise<PostgresPoolClient> {
    try {
      return new GuardedClient(await this.pool.connect(), this.health);
    } catch (error) {
      throw this.health.classify(error);
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

class GuardedClient implements PostgresPoolClient {
  private failed = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly health: DatabaseHealth,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(sql: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sql !== 'string') throw new Error('cursors are not used by the store');
    return this.run<R>(sql, parameters ?? []);
  }

  private async run<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    try {
      const result = await this.client.query(sql, parameters as unknown[]);
      this.health.answered();
      return result as unknown as PostgresQueryResult<R>;
    } catch (error) {
      const classified = this.health.classify(error);
      if (classified instanceof StoreUnavailableError) this.failed = true;
      else this.health.answered(); // a constraint or syntax error is an answer of a live server
      throw classified;
    }
  }

  release(destroy?: boolean): void {
    this.client.release(destroy === true || this.failed);
  }
}
