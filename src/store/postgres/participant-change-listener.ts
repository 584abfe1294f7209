/**
 * One connection per node LISTENs for the participants trigger's NOTIFY (migration 0004), so
 * this node's read cache forgets what other nodes change. When that connection is lost (the
 * server restarted, a network blip, an administrator's pg_terminate_backend) the cache is
 * switched off at once — never a stale participant — and the listener reconnects with a
 * backoff (0.2 s doubling to 10 s), or at once when the pool finds the database answering
 * again; once it LISTENs again the cache starts over from empty. The loss is told to
 * `DatabaseHealth`, which logs the outage once.
 */
import pg from 'pg';
import type { ParticipantCache } from '../participant-cache.js';
import type { DatabaseHealth } from './database-health.js';

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;

export interface ListenerOptions {
  /** pg.Client settings besides the connection string (timeouts, keep-alive, application_name). */
  client: Omit<pg.ClientConfig, 'connectionString'>;
  health: DatabaseHealth;
}

export class ParticipantChangeListener {
  private client: pg.Client | undefined;
  private connecting = false;
  private retryMs = FIRST_RETRY_MS;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly connectionString: string,
    private readonly channel: string,
    private readonly cache: ParticipantCache,
    private readonly options: ListenerOptions,
  ) {
    options.health.onRecovered(() => this.reconnectNow());
  }

  /** Connects and LISTENs; the first connection must succeed (the store is unusable otherwise). */
  static async start(connectionString: string, schema: string, cache: ParticipantCache, options: ListenerOptions): Promise<ParticipantChangeListener> {
    const listener = new ParticipantChangeListener(connectionString, `conclave_participants_${schema}`, cache, options);
    await listener.connect();
    return listener;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.options.client, connectionString: this.connectionString });
    client.on('notification', (message) => {
      if (message.payload) this.cache.invalidate(message.payload);
    });
    const lost = (error?: Error): void => {
      if (this.client !== client) return;
      this.client = undefined;
      this.cache.disable();
      this.options.health.lost(error ?? new Error('Connection terminated: the LISTEN connection closed'));
      void client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    // Listened for the client's whole life: a second error after the first must not go unheard.
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`listen "${this.channel}"`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    this.cache.enable();
    this.options.health.answered();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reconnect(), this.retryMs);
    this.timer.unref();
  }

  private async reconnect(): Promise<void> {
    if (this.closed || this.client || this.connecting) return;
    this.connecting = true;
    try {
      await this.connect();
    } catch (error) {
      this.options.health.lost(error);
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      this.scheduleReconnect();
    } finally {
      this.connecting = false;
    }
  }

  /** The database answers again: listen now rather than at the end of the backoff. */
  private reconnectNow(): void {
    if (this.closed || this.client || this.connecting) return;
    clearTimeout(this.timer);
    void this.reconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
