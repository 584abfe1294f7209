/**
 * Metrics and health as an operator sees them (issue 15 §3): `/metrics` scraped the way
 * Prometheus does and parsed, its values moving with real calls to `sim:` endpoints, a webhook
 * that cannot be reached and the API requests made; `/healthz` and `/readyz` without
 * credentials; `/readyz` going 503 while PostgreSQL is cut off (a TCP proxy between the app and
 * the shared test database, never the database itself) and 200 once it is back; `/metrics` on a
 * listener of its own.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { openStore } from '../../src/store/open-store.js';
import { startTestApp, testConfig, type TestApp } from '../helpers/test-app.js';
import { openTestStore } from '../helpers/stores.js';
import { until } from '../helpers/until.js';
import { closedPort } from '../helpers/webhook-receiver.js';
import { adminQuery, databaseUrl, isolation, PostgresProxy } from '../store/postgres-server.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format (0.0.4): one sample a line, `name{label="value",…} number`. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; 0 when absent, as Prometheus reads a series not yet there. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const xml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;

describe('metrics and health on the API port', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  const scrape = async (): Promise<Sample[]> => {
    const response = await t.request('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(response.body);
  };
  const calls = `/2010-04-01/Accounts/{AccountSid}/Calls.json`;

  it('answers /healthz and /readyz without credentials, naming each check', async () => {
    const health = await t.request('GET', '/healthz', { auth: null });
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    // The first probe starts the media workers, which may take longer than a check waits.
    const ready = await until(async () => {
      const response = await t.request('GET', '/readyz', { auth: null });
      return response.status === 200 && response;
    }, 10_000, '/readyz 200');
    expect(ready.json()).toEqual({ status: 'ok', checks: { store: { status: 'ok' }, media: { status: 'ok' } } });
  });

  it('asks for an owner account\'s credentials for /metrics: none is 401, a subaccount 403', async () => {
    expect((await t.request('GET', '/metrics', { auth: null })).status).toBe(401);
    const created = await t.request('POST', '/2010-04-01/Accounts.json', { form: { FriendlyName: 'tenant' } });
    const sub = created.json<{ sid: string; auth_token: string }>();
    const refused = await t.request('GET', '/metrics', { auth: `${sub.sid}:${sub.auth_token}` });
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain('conclave_calls');
  });

  it('counts a live call by its status, then as ended with its final status', async () => {
    const before = await scrape();
    const placed = await t.request('POST', calls.replace('{AccountSid}', t.accountSid), { form: { To: 'sim:alice', From: 'sim:app', Twiml: xml('<Pause length="60"/>') } });
    expect(placed.status).toBe(201);
    const sid = placed.json<{ sid: string }>().sid;
    await until(async () => valueOf(await scrape(), 'conclave_calls_live', { status: 'in-progress' }) === 1, 10_000, 'the call live in-progress');
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`, { form: { Status: 'completed' } });
    const after = await until(async () => {
      const samples = await scrape();
      return valueOf(samples, 'conclave_calls_ended_total', { status: 'completed' }) === valueOf(before, 'conclave_calls_ended_total', { status: 'completed' }) + 1 && samples;
    }, 10_000, 'the call counted completed');
    expect(valueOf(after, 'conclave_calls_live', { status: 'in-progress' })).toBe(0);
    // The media workers ran the call's leg.
    const ticks = after.filter((s) => s.name === 'conclave_media_ticks_total').reduce((sum, s) => sum + s.value, 0);
    expect(ticks).toBeGreaterThan(0);
    // What the call's leg sent the simulated phone, counted after the leg closed.
    expect(valueOf(after, 'conclave_media_packets_total', { kind: 'out' })).toBeGreaterThan(valueOf(before, 'conclave_media_packets_total', { kind: 'out' }));
    expect(after.some((s) => s.name === 'conclave_media_thread_busy_ratio')).toBe(true);
  });

  it('counts a webhook that cannot be reached as a connection failure, and times it', async () => {
    const before = await scrape();
    const url = `http://127.0.0.1:${await closedPort()}/voice`;
    const placed = await t.request('POST', calls.replace('{AccountSid}', t.accountSid), { form: { To: 'sim:bob', From: 'sim:app', Url: url } });
    expect(placed.status).toBe(201);
    const after = await until(async () => {
      const samples = await scrape();
      return valueOf(samples, 'conclave_webhook_failures_total', { kind: 'connection' }) > valueOf(before, 'conclave_webhook_failures_total', { kind: 'connection' }) && samples;
    }, 10_000, 'the webhook failure counted');
    expect(valueOf(after, 'conclave_webhook_request_duration_seconds_count', { outcome: 'failed' })).toBeGreaterThan(valueOf(before, 'conclave_webhook_request_duration_seconds_count', { outcome: 'failed' }));
  });

  it('times API requests by route pattern and status, never by a URL with SIDs in it', async () => {
    const samples = await scrape();
    const created = { name: 'conclave_http_request_duration_seconds_count', labels: { method: 'POST', route: '/2010-04-01/Accounts/:AccountSid/Calls', status: '201' } };
    expect(valueOf(samples, created.name, created.labels)).toBeGreaterThanOrEqual(2);
    const routes = samples.filter((s) => s.name === 'conclave_http_request_duration_seconds_count').map((s) => s.labels.route);
    expect(routes.filter((route) => /AC[0-9a-f]{32}|CA[0-9a-f]{32}/.test(route ?? ''))).toEqual([]);
    // Scrapes and probes are not API traffic.
    expect(routes).not.toContain('/metrics');
    expect(routes).not.toContain('/readyz');
    // The store's queries, and the process' own figures.
    expect(valueOf(samples, 'conclave_store_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });
});

describe('with CONCLAVE_METRICS=off', () => {
  it('serves no /metrics, and health all the same', async () => {
    const { store, cleanup } = await openTestStore('sqlite');
    const accountSid = newSid('AC');
    const authToken = newAuthToken();
    const app = await createApp({ ...testConfig('sqlite'), metrics: { serve: 'off' } }, { accountSid, authToken }, { store, logger: pino({ level: 'silent' }) });
    try {
      const baseUrl = await app.listen();
      expect((await fetch(`${baseUrl}/metrics`, { headers: { authorization: basic(accountSid, authToken) } })).status).toBe(404);
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      expect(app.metricsUrl()).toBeUndefined();
    } finally {
      await app.close();
      await cleanup();
    }
  });
});

describe('SIP in the metrics', () => {
  let t: TestApp;
  let socket: dgram.Socket;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { sip: true });
    socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    socket?.close();
    await t?.close();
  });

  it('counts an OPTIONS received and its 200 sent, by method and code', async () => {
    const sip = t.app.sipAddress()!;
    const { port } = socket.address();
    const answered = new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
    const options = [
      `OPTIONS sip:${sip.host}:${sip.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:${sip.host}:${sip.port}>`,
      `Call-ID: ${randomBytes(8).toString('hex')}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    socket.send(options, sip.port, sip.host);
    expect(await answered).toMatch(/^SIP\/2\.0 200 /);
    const samples = parseExposition((await t.request('GET', '/metrics')).body);
    expect(valueOf(samples, 'conclave_sip_requests_total', { direction: 'in', method: 'OPTIONS' })).toBe(1);
    expect(valueOf(samples, 'conclave_sip_responses_total', { direction: 'out', method: 'OPTIONS', code: '200' })).toBe(1);
    expect(samples.filter((s) => s.name === 'conclave_sip_transactions_live').map((s) => s.labels.role).sort()).toEqual(['client', 'server']);
  });
});

describe('on PostgreSQL, with /metrics on its own port', () => {
  const { schema, applicationName } = isolation();
  let proxy: PostgresProxy;
  let app: App;
  let baseUrl: string;
  const accountSid = newSid('AC');
  const authToken = newAuthToken();

  beforeAll(async () => {
    proxy = await PostgresProxy.start();
    const store = await openStore(databaseUrl(schema, applicationName, proxy.port), { schema, connectTimeoutMs: 500, statementTimeoutMs: 1000 });
    app = await createApp(
      { ...testConfig('postgres'), metrics: { serve: 'port', host: '127.0.0.1', port: 0 } },
      { accountSid, authToken },
      { store, logger: pino({ level: 'silent' }) },
    );
    baseUrl = await app.listen();
  });
  afterEach(() => proxy?.restore());
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });

  const get = async (url: string, authorization?: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(url, authorization ? { headers: { authorization } } : {});
    return { status: response.status, body: await response.text() };
  };

  it('serves /metrics on its own listener without credentials, and nothing of the API there', async () => {
    const url = app.metricsUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scraped = await get(url!);
    expect(scraped.status).toBe(200);
    const samples = parseExposition(scraped.body);
    expect(valueOf(samples, 'conclave_store_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'conclave_store_pool_connections' && s.labels.state === 'waiting')).toBe(true);
    expect((await get(url!.replace('/metrics', '/healthz'))).status).toBe(200);
    expect((await get(url!.replace('/metrics', `/2010-04-01/Accounts/${accountSid}.json`), basic(accountSid, authToken))).status).toBe(404);
    // Not on the API port, even with the owner's credentials.
    expect((await get(`${baseUrl}/metrics`, basic(accountSid, authToken))).status).toBe(404);
  });

  it('answers /readyz 503 naming the store while PostgreSQL is cut off, and 200 once it is back', async () => {
    // Ready once the media workers run: the first probe starts them, which takes a moment.
    await until(async () => (await get(`${baseUrl}/readyz`)).status === 200, 10_000, '/readyz 200');
    proxy.cut();
    const down = await get(`${baseUrl}/readyz`);
    expect(down.status).toBe(503);
    const report = JSON.parse(down.body) as { status: string; checks: Record<string, { status: string; reason?: string }> };
    expect(report.status).toBe('unavailable');
    expect(report.checks.store).toEqual({ status: 'failed', reason: expect.any(String) });
    expect(report.checks.media).toEqual({ status: 'ok' });
    // Alive all the same: a restart would not bring the database back.
    expect((await get(`${baseUrl}/healthz`)).status).toBe(200);
    proxy.restore();
    await until(async () => (await get(`${baseUrl}/readyz`)).status === 200, 10_000, '/readyz 200 again');
  });
});
