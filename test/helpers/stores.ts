/**
 * Fresh, isolated stores for tests, on either engine: SQLite in a new temporary directory,
 * PostgreSQL in a new schema of the test database. Suites that must hold on both engines
 * loop over `STORE_KINDS` (`describe.each`).
 *
 * PostgreSQL is not optional: when it is unreachable, `openTestStore('postgres')` throws
 * and the tests fail rather than skip, so a green run always means both engines passed.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import { openStore } from '../../src/store/open-store.js';

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** The test database; trust authentication on the local server by default. */
export const TEST_POSTGRES_URL = process.env.CONCLAVE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  store: Store;
  /** Closes the store and deletes what it stored (the directory, or the schema). */
  cleanup(): Promise<void>;
}

export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  return kind === 'sqlite' ? openSqliteTestStore() : openPostgresTestStore();
}

async function openSqliteTestStore(): Promise<TestStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-test-'));
  try {
    const store = await openStore(path.join(dir, 'conclave.sqlite'));
    return {
      store,
      async cleanup() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function openPostgresTestStore(): Promise<TestStore> {
  const schema = `t_${randomBytes(8).toString('hex')}`;
  let store: Store;
  try {
    store = await openStore(TEST_POSTGRES_URL, { schema });
  } catch (error) {
    await dropSchema(schema).catch(() => undefined);
    throw new Error(`PostgreSQL test store at ${TEST_POSTGRES_URL} could not be opened (set CONCLAVE_TEST_POSTGRES_URL): ${String(error)}`, {
      cause: error,
    });
  }
  return {
    store,
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

export interface SharedPostgresStores {
  /** One store per node, each with its own pool and LISTEN connection, on one schema. */
  stores: Store[];
  schema: string;
  /** Opens one more store on the schema (a node that starts later). */
  open(): Promise<Store>;
  /** Closes every store still open and drops the schema. */
  cleanup(): Promise<void>;
}

/** `count` stores on one new PostgreSQL schema, as several nodes of one deployment open it. */
export async function openSharedPostgresStores(count: number): Promise<SharedPostgresStores> {
  const schema = `t_${randomBytes(8).toString('hex')}`;
  const stores: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = await openStore(TEST_POSTGRES_URL, { schema });
    stores.push(store);
    return store;
  };
  try {
    // One after the other: the first migrates, the others find the schema as it left it.
    for (let i = 0; i < count; i++) await open();
  } catch (error) {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await dropSchema(schema).catch(() => undefined);
    throw error;
  }
  return {
    stores,
    schema,
    open,
    async cleanup() {
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
      await dropSchema(schema);
    },
  };
}

/** An owner account (its own owner) in `store`, for the contract tests; returns its SID. */
export async function insertOwnerAccount(store: Store, at: number): Promise<string> {
  const sid = newSid('AC');
  await store.insertAccount({ sid, ownerAccountSid: sid, friendlyName: 'a', authToken: 'x'.repeat(32), status: 'active', dateCreated: at, dateUpdated: at });
  return sid;
}
