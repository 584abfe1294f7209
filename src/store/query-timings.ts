/**
 * How long the store's queries take, told to whoever listens (the metrics' query latency
 * histogram). Kysely calls `log` after each query with its duration; one listener at most, so a
 * store with no metrics pays one property read per query.
 */
import type { LogEvent } from 'kysely';
import type { QueryListener } from '../domain/ports.js';

export class QueryTimings {
  private listener: QueryListener | undefined;

  /** Kysely's `log` option. */
  readonly log = (event: LogEvent): void => {
    this.listener?.(event.queryDurationMillis / 1000, event.level === 'error');
  };

  listen(listener: QueryListener): void {
    this.listener = listener;
  }
}
