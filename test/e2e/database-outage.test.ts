/**
 * PostgreSQL lost, locked or cut off, as a client of a running `conclave serve` sees it: the
 * process stays up, requests meanwhile get Twilio's 503 / 20503 quickly (never a hang past the
 * statement timeout), the log tells an outage once, and everything works again, without a
 * restart, once the database is back — the LISTEN connection included. A write answered 201 is
 * in the database. The server runs as a child process, so a crash shows as its exit.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../src/domain/ports.js';
import { openStore } from '../../src/store/open-store.js';
import { aConference, aParticipant } from '../helpers/fixtures.js';
import { TEST_POSTGRES_URL } from '../helpers/stores.js';
import { adminQuery, databaseUrl, isolation, PostgresProxy, request, startServer, type ServerUnderTest } from '../store/postgres-server.js';
import pg from 'pg';

const STATEMENT_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 500;
/** The longest a request may take while the database is locked or gone. */
const WORST_MS = STATEMENT_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 1000;
const WARN = 40;

describe('PostgreSQL faults under a running server', () => {
  const { schema, applicationName } = isolation();
  let proxy: PostgresProxy;
  let server: ServerUnderTest;
  /** Another node on the same schema, straight to the database (not through the proxy). */
  let otherNode: Store;

  beforeAll(async () => {
    proxy = await PostgresProxy.start();
    server = await startServer({
      CONCLAVE_DATABASE: databaseUrl(schema, applicationName, proxy.port),
      CONCLAVE_DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      CONCLAVE_DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      // A lease longer than any cut here (a busy machine stretches them to seconds): the node
      // outlives each outage, as a real one outlives a short blip, instead of fencing itself.
      CONCLAVE_NODE_LEASE_MS: '60000',
    });
    otherNode = await openStore(TEST_POSTGRES_URL, { schema });
  });

  afterAll(async () => {
    await server?.stop();
    await otherNode?.close();
    await proxy?.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });

  const ours = (): Promise<Array<{ pid: number; query: string }>> =>
    adminQuery<{ pid: number; query: string }>('select pid, query from pg_stat_activity where application_name = $1', [applicationName]);
  const listening = async (): Promise<number[]> =>
    (await ours()).filter((b) => b.query.startsWith(`listen "conclave_participants_${schema}"`)).map((b) => b.pid);
  const number = (): string => `+1${String(Math.floor(2_000_000_000 + Math.random() * 7_999_999_999))}`;
  /** What the log says about the database from line `from` on: the outages' starts and ends. */
  const databaseLines = (from: number): string[] => server.logs().slice(from).map((l) => l.msg).filter((msg) => msg.startsWith('PostgreSQL'));
  const UNAVAILABLE = expect.stringMatching(/^PostgreSQL is unavailable/);
  const AVAILABLE = 'PostgreSQL is available again';
  const LEASE_NOT_RENEWED = "could not renew this node's lease";
  const expectServiceUnavailable = (response: { status: number; body: Record<string, unknown> }): void => {
    expect(response.body).toMatchObject({ status: 503, code: 20503, more_info: 'https://www.twilio.com/docs/errors/20503' });
  };

  it('survives its connections being terminated while 8 clients keep it busy, answering 2xx or 503 only', async () => {
    const logsBefore = server.logs().length;
    let running = true;
    const statuses: number[] = [];
    const client = async (index: number): Promise<void> => {
      while (running) {
        const response =
          index % 2 === 0
            ? await request(server, '/Conferences.json?PageSize=5')
            : await request(server, '/IncomingPhoneNumbers.json', { PhoneNumber: number() });
        statuses.push(response.status);
        if (response.status === 503) expectServiceUnavailable(response);
      }
    };
    const clients = Array.from({ length: 8 }, (_, i) => client(i));
    try {
      for (let round = 0; round < 5; round++) {
        // Answering again since the last round, with the pool and the LISTEN connection back.
        const answered = statuses.filter((s) => s < 300).length;
        await vi.waitFor(() => expect(statuses.filter((s) => s < 300).length).toBeGreaterThan(answered + 20), { timeout: 10_000, interval: 20 });
        let backends: number[] = [];
        await vi.waitFor(
          async () => {
            backends = (await ours()).map((b) => b.pid);
            expect((await listening()).length).toBe(1);
            expect(backends.length).toBeGreaterThan(2);
          },
          { timeout: 15_000, interval: 20 },
        );
        await adminQuery('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [backends]);
      }
      const answered = statuses.filter((s) => s < 300).length;
      await vi.waitFor(() => expect(statuses.filter((s) => s < 300).length).toBeGreaterThan(answered + 20), { timeout: 10_000, interval: 20 });
      // Each termination is one outage at most in the log, each told as over.
      await vi.waitFor(() => expect(databaseLines(logsBefore).at(-1)).toBe(AVAILABLE), { timeout: 5000, interval: 20 });
    } finally {
      running = false;
      await Promise.all(clients);
    }
    expect(server.exited()).toBe(false);
    expect(statuses.filter((s) => s >= 300 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0); // the terminations did hit requests in flight
    await vi.waitFor(async () => expect((await listening()).length).toBe(1), { timeout: 15_000, interval: 50 });
    expect(server.logs().filter((l) => l.msg === 'request failed')).toEqual([]);
    const told = databaseLines(logsBefore);
    expect(told.length).toBeLessThanOrEqual(10);
    expect(told).toEqual(told.map((_, i) => (i % 2 === 0 ? UNAVAILABLE : AVAILABLE)));
  });

  it('answers 503 within the statement timeout while a table is locked, and 200 once it is released', async () => {
    const logsBefore = server.logs().length;
    const locker = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query(`lock table ${schema}.conferences in access exclusive mode`);
      // More requests than the pool has connections: those waiting for one fail fast too.
      const during = await Promise.all(Array.from({ length: 16 }, () => request(server, '/Conferences.json')));
      for (const response of during) {
        expect(response.status).toBe(503);
        expectServiceUnavailable(response);
        expect(response.ms).toBeLessThan(WORST_MS);
      }
      await locker.query('commit');
      await vi.waitFor(async () => expect((await request(server, '/Conferences.json')).status).toBe(200), { timeout: 5000, interval: 50 });
    } finally {
      await locker.end();
    }
    expect(server.exited()).toBe(false);
    await vi.waitFor(() => expect(databaseLines(logsBefore)).toEqual([UNAVAILABLE, AVAILABLE]), { timeout: 5000, interval: 20 });
  });

  it('answers 503 quickly while the database is cut off, logs the outage once, and recovers with its LISTEN connection', async () => {
    // A participant the server reads (and keeps in its read cache), owned by its account.
    const conference = aConference({ accountSid: server.accountSid });
    await otherNode.insertConference(conference);
    const participant = aParticipant(conference);
    await otherNode.insertParticipant(participant);
    const path = `/Conferences/${conference.sid}/Participants/${participant.callSid}.json`;
    expect((await request(server, path)).body).toMatchObject({ muted: false });
    const listenerBefore = await listening();
    expect(listenerBefore).toHaveLength(1);

    const logsBefore = server.logs().length;
    proxy.cut();
    const during = [];
    for (let i = 0; i < 40; i++) during.push(...(await Promise.all([request(server, path), request(server, '/Conferences.json')])));
    for (const response of during) {
      expect(response.status).toBe(503);
      expectServiceUnavailable(response);
      expect(response.ms).toBeLessThan(WORST_MS);
    }
    // One line for the outage, whatever the number of requests it failed (and, if a lease
    // renewal fell in the cut, one for that: also once per outage).
    const warnings = server.logs().slice(logsBefore).filter((l) => l.level >= WARN).map((l) => l.msg);
    expect(warnings.filter((msg) => msg !== LEASE_NOT_RENEWED)).toEqual([UNAVAILABLE]);
    expect(warnings.filter((msg) => msg === LEASE_NOT_RENEWED).length).toBeLessThanOrEqual(1);
    expect(server.exited()).toBe(false);

    proxy.restore();
    await vi.waitFor(async () => expect((await request(server, path)).status).toBe(200), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(databaseLines(logsBefore)).toEqual([UNAVAILABLE, AVAILABLE]), { timeout: 5000, interval: 20 });
    // The LISTEN connection is back (a new backend), and a change another node makes reaches this one.
    await vi.waitFor(async () => expect((await listening()).filter((pid) => !listenerBefore.includes(pid))).toHaveLength(1), { timeout: 15_000, interval: 50 });
    expect((await request(server, path)).body).toMatchObject({ muted: false }); // kept in the cache again
    await otherNode.updateParticipant({ ...participant, muted: true, dateUpdated: participant.dateUpdated + 1 });
    await vi.waitFor(async () => expect((await request(server, path)).body).toMatchObject({ muted: true }), { timeout: 5000, interval: 20 });
  });

  it('keeps every write it answered 201 for through a cut in the middle of a burst', async () => {
    const logsBefore = server.logs().length;
    const created: string[] = [];
    const statuses: number[] = [];
    let cutDone = false;
    const burst = async (): Promise<void> => {
      for (let i = 0; i < 30; i++) {
        const response = await request(server, '/IncomingPhoneNumbers.json', { PhoneNumber: number() });
        statuses.push(response.status);
        if (response.status === 201) created.push(String(response.body.sid));
        else expectServiceUnavailable(response);
      }
    };
    const writers = Array.from({ length: 8 }, () => burst());
    await vi.waitFor(() => expect(created.length).toBeGreaterThan(20), { timeout: 10_000, interval: 5 });
    proxy.cut();
    cutDone = true;
    await vi.waitFor(() => expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(20), { timeout: 10_000, interval: 5 });
    proxy.restore();
    await Promise.all(writers);
    expect(cutDone).toBe(true);
    expect(server.exited()).toBe(false);
    const stored = new Set(
      (await adminQuery<{ sid: string }>(`select sid from ${schema}.phone_numbers where account_sid = $1`, [server.accountSid])).map((r) => r.sid),
    );
    expect(created.filter((sid) => !stored.has(sid))).toEqual([]);
    await vi.waitFor(() => expect(databaseLines(logsBefore)).toEqual([UNAVAILABLE, AVAILABLE]), { timeout: 5000, interval: 20 });
  });

  it('ends the calls that hang up while the database is cut off, and stores their end once it is back', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await request(server, '/Calls.json', {
        To: `sim:caller${i};hangup=2`,
        From: '+15005550006',
        Twiml: '<Response><Pause length="30"/></Response>',
      });
      expect(response.status).toBe(201);
      sids.push(String(response.body.sid));
    }
    const stored = async (): Promise<string[]> =>
      (await adminQuery<{ status: string }>(`select status from ${schema}.calls where sid = any($1)`, [sids])).map((r) => r.status);
    await vi.waitFor(async () => expect(await stored()).toEqual(sids.map(() => 'in-progress')), { timeout: 10_000, interval: 20 });
    const logsBefore = server.logs().length;
    proxy.cut();
    // The callers hang up: their calls end, though the end cannot be stored yet.
    const endNotStored = /^could not store the end of the call: the database is unavailable/;
    await vi.waitFor(() => expect(server.logs().slice(logsBefore).map((l) => l.msg)).toContainEqual(expect.stringMatching(endNotStored)), { timeout: 10_000, interval: 20 });
    expect(await stored()).toContain('in-progress');
    expect(server.exited()).toBe(false);

    proxy.restore();
    await vi.waitFor(async () => expect(await stored()).toEqual(sids.map(() => 'completed')), { timeout: 15_000, interval: 50 });
    // One line from the store and one from the call engine for the outage, none per call — and
    // at most one from the live event relay, when a call event had to cross to other nodes then.
    const told = server.logs().slice(logsBefore).filter((l) => l.level >= WARN && /PostgreSQL|database/.test(l.msg));
    const relayFailed = /^could not relay live events to the other nodes/;
    expect(told.filter((l) => relayFailed.test(l.msg)).length).toBeLessThanOrEqual(1);
    expect(told.map((l) => l.msg).filter((msg) => !relayFailed.test(msg))).toEqual([UNAVAILABLE, expect.stringMatching(endNotStored)]);
    expect(server.logs().slice(logsBefore).filter((l) => l.level >= 50)).toEqual([]);
  });
});
