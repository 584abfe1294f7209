/**
 * Conclave's Prometheus metrics (prom-client): the one module that knows prom-client. Each app
 * has a registry of its own (tests run several apps in one process; the library's global
 * registry would mix them). The rest of the code reports through small function types it
 * declares itself (WebhookObserver, SipMessageObserver, QueryListener, HttpObserver); what is
 * cheaper to read when scraped than to count as it happens — live calls, conferences, the media
 * workers, SIP transactions, the PostgreSQL pool — is read from `MetricSources` at scrape time.
 *
 * Labels are bounded: call statuses and webhook failure kinds are closed sets, SIP methods
 * outside RFC 3261 and its extensions are `other`, HTTP routes are fastify's route patterns.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolFigures } from '../domain/ports.js';
import type { EngineStats, PacketTotals } from '../media/protocol.js';

/** What is read when scraped. Each may be absent (no SIP) or fail (told as absent figures). */
export interface MetricSources {
  /** The status of each call live on this node. */
  liveCallStatuses(): Iterable<string>;
  /** Conferences with someone in them, and their participants, as this node knows them. */
  conferences(): { conferences: number; participants: number };
  /** The media workers' figures; undefined when they are not running. */
  media(): Promise<EngineStats | undefined>;
  /** Live SIP transactions; undefined without SIP. */
  sipTransactions(): { server: number; client: number } | undefined;
  /** PostgreSQL's pool; undefined for SQLite. */
  pool(): PoolFigures | undefined;
}

const SIP_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);
/** Seconds: webhooks wait up to 15 s (Twilio's timeout), HTTP answers and queries are quicker. */
const WEBHOOK_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ConclaveMetrics {
  readonly registry = new Registry();
  private readonly callsEnded: Counter<'status'>;
  private readonly webhookSeconds: Histogram<'outcome'>;
  private readonly webhookFailures: Counter<'kind'>;
  private readonly sipMessages: Counter<'direction' | 'method'>;
  private readonly sipResponses: Counter<'direction' | 'method' | 'code'>;
  private readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly querySeconds: Histogram<'outcome'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'conclave_calls_live',
      help: 'Calls live on this node, by status',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset();
        for (const status of sources.liveCallStatuses()) this.inc({ status });
      },
    });
    this.callsEnded = new Counter({ name: 'conclave_calls_ended_total', help: 'Calls ended on this node, by final status', labelNames: ['status'], registers });
    new Gauge({
      name: 'conclave_conferences_in_progress',
      help: 'Conferences with participants connected, as this node knows them (every node hears every conference)',
      registers,
      collect() {
        this.set(sources.conferences().conferences);
      },
    });
    new Gauge({
      name: 'conclave_participants_in_progress',
      help: 'Participants connected to conferences, as this node knows them',
      registers,
      collect() {
        this.set(sources.conferences().participants);
      },
    });
    this.registerMedia(sources, registers);
    this.webhookSeconds = new Histogram({
      name: 'conclave_webhook_request_duration_seconds',
      help: 'Requests to accounts\' URLs (TwiML, status callbacks), by outcome (ok or failed)',
      labelNames: ['outcome'],
      buckets: WEBHOOK_BUCKETS,
      registers,
    });
    this.webhookFailures = new Counter({ name: 'conclave_webhook_failures_total', help: 'Failed requests to accounts\' URLs, by kind (timeout, connection, http-status, too-large, aborted)', labelNames: ['kind'], registers });
    this.sipMessages = new Counter({ name: 'conclave_sip_requests_total', help: 'SIP requests received (in) and sent (out), retransmissions included, by method', labelNames: ['direction', 'method'], registers });
    this.sipResponses = new Counter({ name: 'conclave_sip_responses_total', help: 'SIP responses received (in) and sent (out), by method (CSeq) and code', labelNames: ['direction', 'method', 'code'], registers });
    labelledGauge(registers, 'conclave_sip_transactions_live', 'Live SIP transactions, by role (server or client)', 'role', () => sources.sipTransactions());
    this.httpSeconds = new Histogram({
      name: 'conclave_http_request_duration_seconds',
      help: 'API requests, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.querySeconds = new Histogram({ name: 'conclave_store_query_duration_seconds', help: 'Database queries, by outcome (ok or failed)', labelNames: ['outcome'], buckets: QUERY_BUCKETS, registers });
    labelledGauge(registers, 'conclave_store_pool_connections', 'PostgreSQL pool: connections open (total), idle, and requests waiting for one', 'state', () => {
      const pool = sources.pool();
      return pool && { ...pool };
    });
  }

  /** The exposition, in Prometheus' text format. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  readonly callEnded = (status: string): void => {
    this.callsEnded.inc({ status });
  };

  readonly webhook = (seconds: number, failure: string | undefined): void => {
    this.webhookSeconds.observe({ outcome: failure === undefined ? 'ok' : 'failed' }, seconds);
    if (failure !== undefined) this.webhookFailures.inc({ kind: failure });
  };

  readonly sipMessage = (direction: 'in' | 'out', method: string, status: number | undefined): void => {
    if (status === undefined) this.sipMessages.inc({ direction, method: sipMethod(method) });
    else this.sipResponses.inc({ direction, method: sipMethod(method), code: String(status) });
  };

  readonly httpRequest = (method: string, route: string, status: number, seconds: number): void => {
    this.httpSeconds.observe({ method, route, status: String(status) }, seconds);
  };

  readonly query = (seconds: number, failed: boolean): void => {
    this.querySeconds.observe({ outcome: failed ? 'failed' : 'ok' }, seconds);
  };

  /** Per media worker, from one `stats` request per scrape (the workers answer between ticks). */
  private registerMedia(sources: MetricSources, registers: Registry[]): void {
    let pending: Promise<EngineStats | undefined> | undefined;
    // One request for all the media gauges of a scrape.
    const stats = (): Promise<EngineStats | undefined> => {
      pending ??= sources.media().catch(() => undefined).finally(() => setImmediate(() => (pending = undefined)));
      return pending;
    };
    const perWorker = (name: string, help: string, value: (w: NonNullable<EngineStats['workers']>[number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers,
        async collect() {
          const workers = (await stats())?.workers ?? [];
          this.reset();
          for (const w of workers) this.set({ worker: String(w.worker) }, value(w));
        },
      });
    };
    perWorker('conclave_media_ticks_total', 'Media ticks (20 ms each) run by each worker since it started', (w) => w.ticks);
    perWorker('conclave_media_late_ticks_total', 'Media ticks that started late, by worker', (w) => w.lateTicks);
    perWorker('conclave_media_skipped_ticks_total', 'Media ticks skipped to catch up, by worker', (w) => w.skippedTicks);
    perWorker('conclave_media_tick_mean_seconds', 'Mean wall time of one media tick, by worker', (w) => w.tickMeanUs / 1e6);
    perWorker('conclave_media_tick_max_seconds', 'Longest media tick, by worker', (w) => w.tickMaxUs / 1e6);
    perWorker('conclave_media_thread_busy_ratio', 'Share of its time each media worker thread was busy since it started (event loop utilisation, 0-1)', (w) => {
      const total = w.elu.activeMs + w.elu.idleMs;
      return total > 0 ? w.elu.activeMs / total : 0;
    });
    perWorker('conclave_media_rooms', 'Mixing rooms, by worker', (w) => w.rooms);
    perWorker('conclave_media_legs', 'Media legs, by worker', (w) => w.legs);
    const liveLegs = (name: string, help: string, value: (legs: EngineStats['legs']) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const media = await stats();
          this.set(media ? value(media.legs) : 0);
        },
      });
    };
    new Counter({
      name: 'conclave_media_packets_total',
      help: 'RTP packets received (in) and sent (out), and frames the jitter buffers found missing at playout (lost), by every leg since the workers started',
      labelNames: ['kind'],
      registers,
      async collect() {
        const media = await stats();
        const totals = { in: 0, out: 0, lost: 0 };
        const add = (figures: PacketTotals): void => {
          totals.in += figures.packetsIn;
          totals.out += figures.packetsOut;
          totals.lost += figures.packetsLost;
        };
        for (const worker of media?.workers ?? []) add(worker.closedLegPackets);
        for (const leg of media?.legs ?? []) add(leg);
        this.reset();
        for (const [kind, value] of Object.entries(totals)) this.inc({ kind }, value);
      },
    });
    liveLegs('conclave_media_live_legs_jitter_max_seconds', 'Highest interarrival jitter (RFC 3550 A.8) among the RTP legs open now', (legs) => Math.max(0, ...legs.map((l) => l.receiver?.jitterMs ?? 0)) / 1000);
  }
}

/** A gauge of one label whose values `read` gives when scraped (none when it gives undefined). */
function labelledGauge(registers: Registry[], name: string, help: string, label: string, read: () => Record<string, number> | undefined): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      for (const [value, figure] of Object.entries(read() ?? {})) this.set({ [label]: value }, figure);
    },
  });
}

function sipMethod(method: string): string {
  return SIP_METHODS.has(method) ? method : 'other';
}
