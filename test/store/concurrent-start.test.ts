/**
 * Several nodes started at the same moment on one empty PostgreSQL schema, with the same owner
 * credentials: every one of them migrates (or finds the schema migrated), finds or creates the
 * owner account, prints its banner and answers the API. Before, one of them could die with
 * "Account … already exists" (two nodes inserting the owner at once), and a start failed with
 * `schema "…" does not exist` when any other schema of the database was dropped meanwhile.
 *
 * Real `conclave serve` processes, each round on a fresh schema (the rounds make a race likely;
 * nothing is timed); then the same two races in one process, where they can be made certain:
 * stores (each with its own pool) making the owner account at the same instant, and stores
 * opened on fresh schemas while another session creates and drops schemas of the database.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/domain/ports.js';
import { CredentialCache } from '../../src/services/credential-cache.js';
import { ensureOwnerAccount } from '../../src/services/owner-account.js';
import { openStore } from '../../src/store/open-store.js';
import { TEST_POSTGRES_URL } from '../helpers/stores.js';
import { adminQuery, databaseUrl, isolation, startServer, type ServerUnderTest } from './postgres-server.js';

const NODES = 4;
const ROUNDS = 4;

const started: ServerUnderTest[] = [];
const stores: Store[] = [];
const schemas: string[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
  for (const schema of schemas.splice(0)) await adminQuery(`drop schema if exists ${schema} cascade`);
});

/** Opens a store on `schema` as a node would, kept for closing after the test. */
async function openNodeStore(schema: string, applicationName: string): Promise<Store> {
  const store = await openStore(databaseUrl(schema, applicationName));
  stores.push(store);
  return store;
}

describe('nodes starting at once on an empty PostgreSQL schema', () => {
  it.each(Array.from({ length: ROUNDS }, (_, round) => round + 1))(
    `all ${NODES} start and answer the API with the same owner account (round %i)`,
    async () => {
      const { schema, applicationName } = isolation();
      schemas.push(schema);
      const accountSid = `AC${randomBytes(16).toString('hex')}`;
      const authToken = randomBytes(16).toString('hex');
      const attempts = await Promise.allSettled(
        Array.from({ length: NODES }, (_, node) =>
          startServer({
            CONCLAVE_DATABASE: databaseUrl(schema, applicationName),
            CONCLAVE_ACCOUNT_SID: accountSid,
            CONCLAVE_AUTH_TOKEN: authToken,
            CONCLAVE_RTP_PORTS: `${40000 + node * 200}-${40000 + node * 200 + 199}`,
            CONCLAVE_LOG_LEVEL: 'warn',
          }),
        ),
      );
      for (const attempt of attempts) if (attempt.status === 'fulfilled') started.push(attempt.value);
      const failures = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [String(attempt.reason)] : []));
      expect(failures).toEqual([]);

      const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
      for (const server of started) {
        expect(server.lines).toContain(`  Account SID: ${accountSid}`);
        const response = await fetch(`${server.baseUrl}/2010-04-01/Accounts/${accountSid}.json`, { headers: { authorization } });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ sid: accountSid, owner_account_sid: accountSid, status: 'active' });
      }
      // One account, one set of migrations, whoever won each race.
      const accounts = await adminQuery<{ n: string }>(`select count(*) as n from ${schema}.accounts`);
      expect(Number(accounts[0]!.n)).toBe(1);
      const migrations = await adminQuery<{ name: string }>(`select name from ${schema}.kysely_migration order by name`);
      expect(new Set(migrations.map((m) => m.name)).size).toBe(migrations.length);
    },
    60_000,
  );

  it('makes the owner account once when several nodes ask for it at the same instant, each getting it', async () => {
    const { schema, applicationName } = isolation();
    schemas.push(schema);
    const nodes = [];
    for (let i = 0; i < NODES; i++) nodes.push(await openNodeStore(schema, applicationName));
    const credentials = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };

    const results = await Promise.all(
      nodes.map((store) => ensureOwnerAccount({ store, clock: { now: () => Date.now() }, credentials: new CredentialCache() }, credentials)),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const { account } of results) expect(account).toMatchObject({ sid: credentials.accountSid, ownerAccountSid: credentials.accountSid, authToken: credentials.authToken });
    expect(await nodes[0]!.findAccount(credentials.accountSid)).toMatchObject({ authToken: credentials.authToken });
  });

  it('a node that lost the race with another token sets its own, as a later start would', async () => {
    const { schema, applicationName } = isolation();
    schemas.push(schema);
    const [a, b] = [await openNodeStore(schema, applicationName), await openNodeStore(schema, applicationName)];
    const accountSid = `AC${randomBytes(16).toString('hex')}`;
    const ctx = (store: Store) => ({ store, clock: { now: () => Date.now() }, credentials: new CredentialCache() });
    const [first, second] = await Promise.all([
      ensureOwnerAccount(ctx(a), { accountSid, authToken: 'a'.repeat(32) }),
      ensureOwnerAccount(ctx(b), { accountSid, authToken: 'b'.repeat(32) }),
    ]);
    expect([first.account.authToken, second.account.authToken].sort()).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    expect([first.created, second.created].sort()).toEqual([false, true]);
  });
});

describe('a node starting while other schemas of the database come and go', () => {
  it('opens and migrates its store all the same', async () => {
    // Another session creates and drops schemas, with tables, as fast as it can, until the
    // opens are done: Kysely's migrator lists every table of the database at each start.
    const churn = new pg.Client({ connectionString: TEST_POSTGRES_URL, application_name: 'conclave_churn' });
    await churn.connect();
    let opening = true;
    let churned = 0;
    const churning = (async () => {
      while (opening) {
        const other = `t_churn_${randomBytes(6).toString('hex')}`;
        await churn.query(`create schema ${other}; create table ${other}.a (id serial primary key, b text); create table ${other}.c (id int)`);
        await churn.query(`drop schema ${other} cascade`);
        churned++;
      }
    })();
    const failures: string[] = [];
    try {
      for (let round = 0; round < 8; round++) {
        const { schema, applicationName } = isolation();
        schemas.push(schema);
        const opened = await Promise.allSettled([openStore(databaseUrl(schema, applicationName)), openStore(databaseUrl(schema, applicationName))]);
        for (const result of opened) {
          if (result.status === 'fulfilled') stores.push(result.value);
          else failures.push(String(result.reason));
        }
      }
    } finally {
      opening = false;
      await churning;
      await churn.end();
    }
    expect(churned).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  }, 60_000);
});
