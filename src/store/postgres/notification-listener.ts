/**
 * One connection per node LISTENs on the schema's two channels: the participants trigger's
 * (migration 0004), so this node's read cache forgets what other nodes change, and the cluster
 * channel (migration 0005 and `notifyCluster`), which carries conference events, commands,
 * answers and deaths to the services, in commit order (ClusterChannel).
 *
 * When that connection is lost (the server restarted, a network blip, an administrator's
 * pg_terminate_backend) the cache is switched off at once — never a stale participant — and
 * the listener reconnects with a backoff (0.2 s doubling to 10 s), or at once when the pool
 * finds the database answering again; once it LISTENs again the cache starts over from empty
 * and the cluster channel's `onResumed` listeners are told, so that they catch up on what the
 * gap hid (pending commands, queued callbacks, the state of their conferences). The loss is
 * told to `DatabaseHealth`, which logs the outage once.
 */
import pg from 'pg';
import type { ClusterChannel, ClusterMessage } from '../../domain/cluster.js';
import type { ParticipantCache } from '../participant-cache.js';
import type { DatabaseHealth } from './database-health.js';

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;

export interface ListenerOptions {
  /** pg.Client settings besides the connection string (timeouts, keep-alive, application_name). */
  client: Omit<pg.ClientConfig, 'connectionString'>;
  health: DatabaseHealth;
  /** Told when a cluster message cannot be read or a listener throws (never the process's end). */
  onError?: (error: unknown) => void;
}

/** The channel names of a schema (identifiers PostgreSQL truncates past 63 bytes, as both sides do). */
export function channelsOf(schema: string): { participants: string; cluster: string } {
  return { participants: `conclave_participants_${schema}`, cluster: `conclave_cluster_${schema}` };
}

export class NotificationListener implements ClusterChannel {
  private client: pg.Client | undefined;
  private connecting = false;
  private retryMs = FIRST_RETRY_MS;
  private timer: NodeJS.Timeout | undefined;
  private isClosed = false;
  /** Whether a connection was lost since the last one (the next is a resumption). */
  private interrupted = false;
  private readonly subscribers = new Set<(message: ClusterMessage) => void>();
  private readonly resumers = new Set<() => void>();
  private readonly channels: { participants: string; cluster: string };
  /** `sync()` calls waiting for their marker, by token. */
  private readonly syncs = new Map<string, () => void>();
  private syncCount = 0;
  private readonly syncPrefix = `${process.pid}-${Math.random().toString(36).slice(2)}-`;

  private constructor(
    private readonly connectionString: string,
    schema: string,
    private readonly cache: ParticipantCache,
    private readonly options: ListenerOptions,
  ) {
    this.channels = channelsOf(schema);
    options.health.onRecovered(() => this.reconnectNow());
  }

  /** Connects and LISTENs; the first connection must succeed (the store is unusable otherwise). */
  static async start(connectionString: string, schema: string, cache: ParticipantCache, options: ListenerOptions): Promise<NotificationListener> {
    const listener = new NotificationListener(connectionString, schema, cache, options);
    await listener.connect();
    return listener;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  subscribe(listener: (message: ClusterMessage) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  onResumed(listener: () => void): () => void {
    this.resumers.add(listener);
    return () => this.resumers.delete(listener);
  }

  /**
   * NOTIFYs a marker on the listening connection itself and waits for it: notifications reach a
   * listener in commit order, so once the marker is back every earlier commit's messages are.
   */
  async sync(): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the cluster channel is not listening (the database connection is being restored)');
    const token = `${this.syncPrefix}${++this.syncCount}`;
    const back = new Promise<void>((resolve) => this.syncs.set(token, resolve));
    await client.query('select pg_notify($1, $2)', [this.channels.cluster, JSON.stringify({ t: 'sync', token } satisfies ClusterMessage)]);
    await back;
  }

  private deliver(payload: string): void {
    let message: ClusterMessage;
    try {
      message = JSON.parse(payload) as ClusterMessage;
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    if (message.t === 'sync') {
      const resolve = this.syncs.get(message.token);
      this.syncs.delete(message.token);
      resolve?.();
      return;
    }
    for (const subscriber of this.subscribers) {
      try {
        subscriber(message);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.options.client, connectionString: this.connectionString });
    client.on('notification', (message) => {
      if (!message.payload) return;
      if (message.channel === this.channels.cluster) this.deliver(message.payload);
      else this.cache.invalidate(message.payload);
    });
    const lost = (error?: Error): void => {
      if (this.client !== client) return;
      this.client = undefined;
      this.interrupted = true;
      // Their markers will not come back on this connection; what the gap hid, `onResumed` is for.
      for (const resolve of this.syncs.values()) resolve();
      this.syncs.clear();
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
      await client.query(`listen "${this.channels.participants}"; listen "${this.channels.cluster}"`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.isClosed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    this.cache.enable();
    this.options.health.answered();
    if (this.interrupted) {
      this.interrupted = false;
      for (const resumed of this.resumers) {
        try {
          resumed();
        } catch (error) {
          this.options.onError?.(error);
        }
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.isClosed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reconnect(), this.retryMs);
    this.timer.unref();
  }

  private async reconnect(): Promise<void> {
    if (this.isClosed || this.client || this.connecting) return;
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
    if (this.isClosed || this.client || this.connecting) return;
    clearTimeout(this.timer);
    void this.reconnect();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    clearTimeout(this.timer);
    this.subscribers.clear();
    this.resumers.clear();
    for (const resolve of this.syncs.values()) resolve();
    this.syncs.clear();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
