/**
 * Which errors of node-postgres mean "the database cannot answer now" rather than "this
 * statement is wrong": the connection was lost or refused, or the server gave up on the
 * statement (timeout, lock wait, shutdown, too many connections). Those become the store's
 * `StoreUnavailableError` (an HTTP 503); every other error propagates unchanged.
 *
 * SQLSTATE classes and codes from PostgreSQL's Appendix A
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html). pg and pg-pool raise the
 * rest without a code, so they are recognised by their message.
 */

/** Class 08 (connection exception) and 53 (insufficient resources: too many connections, disk full, out of memory). */
const UNAVAILABLE_CLASSES = ['08', '53'];
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout (or a cancel request)
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, or in recovery
  '55P03', // lock_not_available: lock_timeout
  '25P03', // idle_in_transaction_session_timeout
]);
/** Socket errors of Node on the way to the server. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
/** Messages pg and pg-pool give these faults without a code (pg 8, pg-pool 3). */
const DRIVER_MESSAGES = [
  'Connection terminated', // …unexpectedly, …due to connection timeout
  'timeout exceeded when trying to connect', // pg-pool: no connection within connectionTimeoutMillis
  'Query read timeout', // pg: query_timeout
  'is not queryable', // pg: a client whose connection already failed
  'Postgres connection has been discarded', // Kysely: a connection whose rollback failed
];

export function isConnectionFault(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (code.length === 5 && (UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || UNAVAILABLE_SQLSTATES.has(code))) return true;
    if (SOCKET_CODES.has(code)) return true;
  }
  // Node's happy-eyeballs connect fails with an AggregateError of one error per address.
  if (Array.isArray(errors) && errors.some(isConnectionFault)) return true;
  return typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.includes(m));
}
