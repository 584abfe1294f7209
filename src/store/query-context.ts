/**
 * What every query function of the store receives: the Kysely handle (the pool, or the
 * transaction it runs in) and which engine is behind it, for the few statements whose SQL
 * differs between SQLite and PostgreSQL.
 */
import type { Kysely } from 'kysely';
import type { ParticipantCache } from './participant-cache.js';
import type { Database, Dialect } from './schema.js';

export interface QueryContext {
  /** A `Transaction<Database>` inside `Store.transaction`, which is also a `Kysely<Database>`. */
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** SQLite only: the participant read cache (see participant-cache.ts). */
  readonly participants?: ParticipantCache;
  /** Inside `Store.transaction`: reads are not cached (the transaction may roll back). */
  readonly inTransaction?: boolean;
  /** PostgreSQL: the schema's cluster channel, which `notifyCluster` NOTIFYs on. */
  readonly channel?: string;
}
