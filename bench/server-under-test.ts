/**
 * The server under test, run as a child process of `bench/run.ts`: a real Conclave (the app of
 * `src/app.ts`, silent logger) on a fresh store — a SQLite file in a temporary directory, or a
 * new database on a PostgreSQL server — with an owner account and one conference of 250
 * participants put in through the service layer. It reports where it listens and the SIDs over
 * IPC, and on `stop` closes the app and deletes what it stored.
 *
 * Usage (by run.ts): server-under-test.ts <sqlite|postgres> [postgres-url]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.js';
import type { Config } from '../src/config.js';
import type { Store } from '../src/domain/ports.js';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { joinConference } from '../src/services/join-conference.js';
import { openStore } from '../src/store/open-store.js';
import { isMessage, PARTICIPANTS, type ConclaveReady, type StoreKind, type Stop } from './protocol.js';

interface BenchStore {
  store: Store;
  config: Config['database'];
  description: string;
  cleanup(): Promise<void>;
}

async function openBenchStore(kind: StoreKind, postgresUrl: string): Promise<BenchStore> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-bench-'));
    const file = path.join(dir, 'conclave.sqlite');
    const store = await openStore(file);
    return {
      store,
      config: { kind: 'sqlite', path: file },
      description: `SQLite file in ${dir}`,
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  // A fresh database rather than a fresh schema: Kysely's migrator looks for its
  // kysely_migration tables in every schema of the database, so a schema left by another
  // run (say a killed test) would make migrating a new schema fail.
  const database = `conclave_bench_${randomBytes(6).toString('hex')}`;
  await admin(postgresUrl, `create database ${database}`);
  const url = new URL(postgresUrl);
  url.pathname = `/${database}`;
  const drop = (): Promise<void> => admin(postgresUrl, `drop database if exists ${database} with (force)`);
  try {
    const store = await openStore(url.toString());
    return {
      store,
      config: { kind: 'postgres', url: url.toString() },
      description: `PostgreSQL ${url.host}, fresh database ${database}`,
      cleanup: drop,
    };
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
}

/** Runs one statement on the database of `postgresUrl` (creating or dropping the bench's own). */
async function admin(postgresUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const kind = (process.argv[2] ?? 'sqlite') as StoreKind;
  const postgresUrl = process.argv[3] ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (!process.send) throw new Error('server-under-test.ts runs as a child of bench/run.ts (it needs an IPC channel)');
  const send = process.send.bind(process);

  const bench = await openBenchStore(kind, postgresUrl);
  let app: App | undefined;
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await (app ? app.close() : bench.store.close()).catch((error: unknown) => console.error('closing failed:', error));
    await bench.cleanup().catch((error: unknown) => console.error('cleaning up failed:', error));
    // A normal exit, so that `--cpu-prof` (run.ts --profile) writes its profile.
    process.exit(code);
  };
  process.on('message', (message) => {
    if (isMessage<Stop>(message, 'stop')) void stop(0);
  });
  // The bench process died: do not linger as an orphan holding a port and a temp dir.
  process.on('disconnect', () => void stop(1));

  try {
    const owner = { accountSid: newSid('AC'), authToken: newAuthToken() };
    const config: Config = {
      http: { host: '127.0.0.1', port: 0 },
      database: bench.config,
      credentialsFile: path.join(os.tmpdir(), 'conclave-bench-unused-credentials.json'),
      logLevel: 'silent',
    };
    app = await createApp(config, owner, { store: bench.store, logger: pino({ level: 'silent' }) });
    const { conferenceSid, callSid } = await fillConference(app, owner.accountSid);
    const baseUrl = await app.listen();
    const ready: ConclaveReady = { type: 'ready', baseUrl, ...owner, conferenceSid, callSid, store: bench.description };
    send(ready);
  } catch (error) {
    console.error('server-under-test failed:', error);
    await stop(1);
  }
}

/** 250 participants join one conference through the service layer; returns its SID and a middle participant's. */
async function fillConference(app: App, accountSid: string): Promise<{ conferenceSid: string; callSid: string }> {
  let conferenceSid = '';
  const callSids: string[] = [];
  for (let i = 0; i < PARTICIPANTS; i++) {
    const { conference, participant } = await joinConference(app.services, {
      accountSid,
      friendlyName: 'bench-room',
      label: `caller-${String(i).padStart(3, '0')}`,
    });
    conferenceSid = conference.sid;
    callSids.push(participant.callSid);
  }
  const callSid = callSids[Math.floor(PARTICIPANTS / 2)];
  if (callSid === undefined) throw new Error('no participant joined');
  return { conferenceSid, callSid };
}

main().catch((error: unknown) => {
  console.error('server-under-test failed:', error);
  process.exit(1);
});
