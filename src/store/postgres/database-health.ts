/**
 * Whether this node can reach PostgreSQL, as its queries and its listening connection find out,
 * and the one place that says so in the log: one warning when an outage starts (the first fault
 * seen) and one line when it ends (the first success after it), whatever the number of requests
 * that failed meanwhile — a 5 s outage under load used to print a stack trace per request.
 * An outage ends with a success once a second has passed without a fault: while a lock makes
 * statements time out, other statements (a rollback, another table) still succeed in between,
 * and each of those must not count as the end.
 */
import { StoreUnavailableError } from '../../errors.js';
import { isConnectionFault } from './connection-faults.js';

/** What the store logs through (pino's Logger fits). */
export interface StoreLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** How long after its last fault a success ends an outage. */
const QUIET_MS = 1000;
const SILENT: StoreLogger = { warn: () => undefined, info: () => undefined };

export class DatabaseHealth {
  /** The current outage (shared by its errors), or undefined while the database answers. */
  private outage: { token: object; since: number; lastFault: number; lastSuccess: number; failures: number; timer?: NodeJS.Timeout } | undefined;
  private readonly recovered = new Set<() => void>();

  constructor(private readonly logger: StoreLogger = SILENT) {}

  get available(): boolean {
    return this.outage === undefined;
  }

  /**
   * `error` came from the driver: a fault of the connection becomes the store's
   * `StoreUnavailableError` (the first of an outage is logged), anything else is returned as is.
   */
  classify(error: unknown): unknown {
    if (error instanceof StoreUnavailableError) return error;
    if (!isConnectionFault(error)) return error;
    return new StoreUnavailableError(`the database is unavailable: ${(error as Error).message}`, this.lost(error), { cause: error });
  }

  /** A connection fault was seen; returns the token of the outage it belongs to. */
  lost(error: unknown): object {
    const now = Date.now();
    if (this.outage) {
      this.outage.failures++;
      this.outage.lastFault = now;
      return this.outage.token;
    }
    this.outage = { token: {}, since: now, lastFault: now, lastSuccess: 0, failures: 1 };
    const { code, message } = error as { code?: unknown; message?: unknown };
    this.logger.warn(
      { reason: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) },
      'PostgreSQL is unavailable: requests that need it answer 503 until it is back (logged once per outage)',
    );
    return this.outage.token;
  }

  /** A query or a connection succeeded: an outage, if any, is over. */
  answered(): void {
    const outage = this.outage;
    if (!outage) return;
    const now = Date.now();
    outage.lastSuccess = now;
    if (now - outage.lastFault < QUIET_MS) {
      // Looked at again once the quiet second is up: ended then if nothing failed since.
      outage.timer ??= setTimeout(() => {
        outage.timer = undefined;
        if (this.outage === outage && outage.lastSuccess > outage.lastFault) this.answered();
      }, QUIET_MS - (now - outage.lastFault)).unref();
      return;
    }
    clearTimeout(outage.timer);
    this.outage = undefined;
    this.logger.info({ downMs: Date.now() - outage.since, failures: outage.failures }, 'PostgreSQL is available again');
    for (const listener of this.recovered) listener();
  }

  /** Called whenever an outage ends (the listener reconnects at once rather than at its next retry). */
  onRecovered(listener: () => void): void {
    this.recovered.add(listener);
  }
}
