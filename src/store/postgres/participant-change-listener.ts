/**
 * One connection per node LISTENs for the participants trigger's NOTIFY (migration 0004), so
 * this node's read cache forgets what other nodes change. When that connection is lost (the
 * server restarted, a network blip, an administrator's pg_terminate_backend) the cache is
 * switched off at once — never a stale participant — and the listener reconnects with a
 * backoff (0.2 s doubling to 10 s); once it LISTENs again the cache starts over from empty.
 */
import pg from 'pg';
import type { ParticipantCache } from '../participant-cache.js';

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;

export class ParticipantChangeListener {
  private client: pg.Client | undefined;
  private retryMs = FIRST_RETRY_MS;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly connectionString: string,
    private readonly channel: string,
    private readonly cache: ParticipantCache,
  ) {}

  /** Connects and LISTENs; the first connection must succeed (the store is unusable otherwise). */
  static async start(connectionString: string, schema: string, cache: ParticipantCache): Promise<ParticipantChangeListener> {
    const listener = new ParticipantChangeListener(connectionString, `conclave_participants_${schema}`, cache);
    await listener.connect();
    return listener;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => {
      if (message.payload) this.cache.invalidate(message.payload);
    });
    const lost = (): void => {
      if (this.client !== client) return;
      this.client = undefined;
      this.cache.disable();
      void client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
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
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.connect().catch(() => {
        this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
        this.scheduleReconnect();
      });
    }, this.retryMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
