/**
 * The PostgreSQL store when its database fails it, in process: a connection lost while a query
 * runs, a statement held by a lock, a pool with no free connection — each is a typed
 * `StoreUnavailableError` soon (never an unheard 'error' event, which would end the process, nor
 * a hang), nothing half-written stays behind, the next call works, and the outage is logged once
 * with its end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { aConference } from '../helpers/fixtures.js';
import { TEST_POSTGRES_URL } from '../helpers/stores.js';

const STATEMENT_TIMEOUT_MS = 400;
const CONNECT_TIMEOUT_MS = 300;

describe('PostgreSQL store faults', () => {
  const id = randomBytes(6).toString('hex');
  const schema = `t_${id}`;
  const applicationName = `conclave_faults_${id}`;
  const told: Array<{ level: 'warn' | 'info'; msg: string }> = [];
  let store: Store;
  let admin: pg.Client;
  let locker: pg.Client | undefined;

  beforeAll(async () => {
    const url = new URL(TEST_POSTGRES_URL);
    url.searchParams.set('application_name', applicationName);
    store = await openStore(url.toString(), {
      schema,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      logger: { warn: (_o, msg) => told.push({ level: 'warn', msg }), info: (_o, msg) => told.push({ level: 'info', msg }) },
    });
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
  });
  afterEach(async () => {
    await locker?.end();
    locker = undefined;
  });
  afterAll(async () => {
    await store?.close();
    await admin?.query(`drop schema if exists ${schema} cascade`);
    await admin?.end();
  });

  /** Holds a row lock on `sid` (or the whole table) in a transaction of its own until `locker.end()`. */
  async function lock(sql: string, values: unknown[] = []): Promise<void> {
    locker = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await locker.connect();
    await locker.query('begin');
    await locker.query(sql, values);
  }

  /** The outage told once from line `from` on, and its end (told a second after its last fault). */
  const toldOnce = (from: number): Promise<void> =>
    vi.waitFor(
      () =>
        expect(told.slice(from).map((t) => `${t.level}: ${t.msg.split(':')[0]}`)).toEqual([
          'warn: PostgreSQL is unavailable',
          'info: PostgreSQL is available again',
        ]),
      { timeout: 5000, interval: 20 },
    );

  /** The store's connections waiting for a lock, as the server sees them. */
  const waiting = async (): Promise<number[]> =>
    (await admin.query<{ pid: number }>(`select pid from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`, [applicationName])).rows.map(
      (r) => r.pid,
    );

  it('a connection terminated while its query runs rejects that call with StoreUnavailableError, and the next call works', async () => {
    const accountSid = newSid('AC');
    await store.insertAccount({ sid: accountSid, ownerAccountSid: accountSid, friendlyName: 'a', authToken: 'x'.repeat(32), status: 'active', dateCreated: 1, dateUpdated: 1 });
    const conference = aConference({ accountSid });
    await store.insertConference(conference);
    const from = told.length;
    await lock(`select * from ${schema}.conferences where sid = $1 for update`, [conference.sid]);
    const other = aConference({ accountSid });
    // Inserts a conference, then waits for the locked row: the whole transaction must vanish.
    const blocked = store.transaction(async (tx) => {
      await tx.insertConference(other);
      return tx.lockConference(conference.sid);
    });
    const outcome = blocked.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await vi.waitFor(async () => expect(await waiting()).toHaveLength(1), { interval: 10 });
    await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [await waiting()]);
    expect(await outcome).toBeInstanceOf(StoreUnavailableError);
    await locker!.end();
    locker = undefined;

    expect(await store.findConference(conference.accountSid, other.sid)).toBeUndefined();
    expect(await store.findConference(conference.accountSid, conference.sid)).toEqual(conference);
    await toldOnce(from);
  });

  it('a statement held by a lock fails at the statement timeout, and a pool with no free connection fails at the connect timeout', async () => {
    const from = told.length;
    await lock(`lock table ${schema}.conferences in access exclusive mode`);
    const started = performance.now();
    // More calls than the pool (10) has connections: the last ones wait for one, and give up.
    const outcomes = await Promise.all(
      Array.from({ length: 14 }, () =>
        store.findConference('AC0', 'CF0').then(
          () => 'resolved',
          (error: unknown) => error,
        ),
      ),
    );
    const elapsed = performance.now() - started;
    for (const outcome of outcomes) expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect(elapsed).toBeLessThan(STATEMENT_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 1000);
    await locker!.end();
    locker = undefined;
    expect(await store.findConference('AC0', 'CF0')).toBeUndefined();
    // 14 calls failed: one outage in the log, and its end.
    await toldOnce(from);
  });
});
