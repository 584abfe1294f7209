/**
 * Recognises a unique-constraint violation from either driver, so that inserts can turn it
 * into the domain's `ConflictError`. Every other driver error propagates unchanged.
 *
 * better-sqlite3 throws `SqliteError` with an extended result code; node-postgres throws
 * `DatabaseError` with SQLSTATE 23505 and the constraint's name. Duck-typed on `code`, so
 * neither driver has to be loaded to check an error from the other.
 */

const SQLITE_UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
const PG_UNIQUE_VIOLATION = '23505';

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/**
 * When `error` is a unique violation, what was violated: PostgreSQL's constraint name or
 * SQLite's message (`UNIQUE constraint failed: participants.call_sid`), both of which name
 * the columns; `undefined` for any other error.
 */
export function uniqueViolation(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint, message } = error as DriverError;
  if (code === PG_UNIQUE_VIOLATION) return typeof constraint === 'string' ? constraint : String(message);
  if (typeof code === 'string' && SQLITE_UNIQUE_CODES.has(code)) return String(message);
  return undefined;
}
