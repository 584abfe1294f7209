/**
 * The reliability probe of issue #10 for PostgreSQL faults, run against a real `conclave serve`
 * child process (of this tree, or of another with `--root`, to measure an older commit the same
 * way) on a database of its own, under load from 8 concurrent clients (half list conferences,
 * half create phone numbers). Three phases, each on a fresh server:
 *
 * 1. terminations: the server's own backends (found by application_name) are terminated N
 *    times, a second apart; did the process survive, and how many answers were 5xx?
 * 2. lock: a table the list reads is held ACCESS EXCLUSIVE for 25 s; latency p50/p99/max and
 *    statuses of the requests in flight meanwhile.
 * 3. outage: the TCP proxy between server and database is cut for 5 s (every socket reset, new
 *    ones refused), then restored; log lines (stdout and stderr) per second meanwhile, and the
 *    time to the first success after the restore.
 *
 * Usage: npx tsx bench/probe-database.ts [--root DIR] [--clients 8] [--terminations N] [--lock-seconds S]
 *        [--outage-seconds S] [--only terminations|lock|outage]
 * (the PostgreSQL of CONCLAVE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test).
 * The server runs with its default timeouts unless CONCLAVE_DATABASE_* are set in the environment.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TEST_POSTGRES_URL } from '../test/helpers/stores.js';
import { PostgresProxy, request, startServer, type ServerUnderTest } from '../test/store/postgres-server.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    root: { type: 'string', default: fileURLToPath(new URL('..', import.meta.url)) },
    terminations: { type: 'string', default: '10' },
    'lock-seconds': { type: 'string', default: '25' },
    'outage-seconds': { type: 'string', default: '5' },
    clients: { type: 'string', default: '8' },
    only: { type: 'string' },
  },
});
const CLIENTS = Number(args.clients);

interface Sample {
  /** `list`: GET Conferences.json (reads the locked table); `create`: POST IncomingPhoneNumbers.json. */
  kind: 'list' | 'create';
  started: number;
  ms: number;
  /** HTTP status, or 0 when the request got no answer (connection refused or reset: the server is gone). */
  status: number;
}

async function admin<R extends pg.QueryResultRow>(sql: string, values: unknown[] = [], database?: string): Promise<R[]> {
  const url = new URL(TEST_POSTGRES_URL);
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A database of this run's own, so that any tree (old or new) can start on it as is. */
async function withDatabase<T>(work: (url: (port?: number) => string, database: string, applicationName: string) => Promise<T>): Promise<T> {
  const id = randomBytes(5).toString('hex');
  const database = `conclave_probe_${id}`;
  const applicationName = `conclave_probe_${id}`;
  await admin(`create database ${database}`);
  try {
    return await work(
      (port) => {
        const url = new URL(TEST_POSTGRES_URL);
        url.pathname = `/${database}`;
        if (port !== undefined) url.port = String(port);
        url.searchParams.set('application_name', applicationName);
        return url.toString();
      },
      database,
      applicationName,
    );
  } finally {
    await admin(`drop database if exists ${database} with (force)`);
  }
}

/** 8 clients in a loop until `stop()`; every answer is sampled. */
function load(server: ServerUnderTest): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const client = async (index: number): Promise<void> => {
    const kind = index % 2 === 0 ? 'list' : 'create';
    while (running) {
      const started = performance.now();
      try {
        const response =
          kind === 'list'
            ? await request(server, '/Conferences.json?PageSize=5')
            : await request(server, '/IncomingPhoneNumbers.json', { PhoneNumber: `+1${2_000_000_000 + Math.floor(Math.random() * 7_999_999_999)}` });
        samples.push({ kind, started, ms: response.ms, status: response.status });
      } catch {
        samples.push({ kind, started, ms: performance.now() - started, status: 0 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const counts = (samples: Sample[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const key = s.status === 0 ? 'no answer' : String(s.status);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};
/** Count, latency percentiles and statuses of one kind of request. */
const summary = (samples: Sample[], kind: Sample['kind']): string => {
  const of = samples.filter((s) => s.kind === kind);
  const ms = of.map((s) => s.ms);
  return `${kind}: ${of.length} requests, p50 ${percentile(ms, 50).toFixed(0)} ms, p99 ${percentile(ms, 99).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms, statuses ${JSON.stringify(counts(of))}`;
};
/** How the process ended, from its last words on stderr (Node prints the unhandled error). */
const lastWords = (server: ServerUnderTest): string =>
  server.exited() ? ` (exited with ${server.child.exitCode ?? server.child.signalCode}: ${server.lines.find((l) => /^(\w*Error|error)\b/.test(l)) ?? 'no error printed'})` : '';
const fiveXx = (samples: Sample[]): number => samples.filter((s) => s.status >= 500).length;

async function terminations(n: number): Promise<void> {
  await withDatabase(async (url, _database, applicationName) => {
    const server = await startServer({ CONCLAVE_DATABASE: url() }, args.root);
    const traffic = load(server);
    let done = 0;
    try {
      for (; done < n && !server.exited(); done++) {
        await sleep(1000);
        await admin('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [applicationName]);
      }
      await sleep(1000);
    } finally {
      await traffic.stop();
    }
    const survived = !server.exited();
    const recovered = survived && (await request(server, '/Conferences.json')).status === 200;
    await server.stop();
    console.log(`\n1. Backends terminated ${done} times, 1 s apart, under ${CLIENTS} clients:`);
    console.log(`   survived: ${survived ? 'yes' : `no${lastWords(server)}`}; answering 200 afterwards: ${recovered ? 'yes' : 'no'}`);
    console.log(`   requests: ${traffic.samples.length}, 5xx: ${fiveXx(traffic.samples)}, statuses: ${JSON.stringify(counts(traffic.samples))}`);
  });
}

async function lock(seconds: number): Promise<void> {
  await withDatabase(async (url, database) => {
    const server = await startServer({ CONCLAVE_DATABASE: url() }, args.root);
    const dbUrl = new URL(TEST_POSTGRES_URL);
    dbUrl.pathname = `/${database}`;
    const locker = new pg.Client({ connectionString: dbUrl.toString() });
    await locker.connect();
    const traffic = load(server);
    await sleep(1000);
    await locker.query('begin');
    await locker.query('lock table conferences in access exclusive mode');
    const from = performance.now();
    await sleep(seconds * 1000);
    const until = performance.now();
    await locker.query('commit');
    await locker.end();
    await sleep(1000);
    await traffic.stop();
    // Every request the lock held up, including those already waiting when it was taken.
    const during = traffic.samples.filter((s) => s.started < until && s.started + s.ms > from);
    const survived = !server.exited();
    await server.stop();
    console.log(`\n2. conferences locked ACCESS EXCLUSIVE for ${seconds} s under ${CLIENTS} clients (requests in flight during the lock); survived: ${survived ? 'yes' : 'no'}`);
    console.log(`   ${summary(during, 'list')}`);
    console.log(`   ${summary(during, 'create')}`);
  });
}

async function outage(seconds: number): Promise<void> {
  await withDatabase(async (url) => {
    const proxy = await PostgresProxy.start();
    const server = await startServer({ CONCLAVE_DATABASE: url(proxy.port) }, args.root);
    const traffic = load(server);
    await sleep(1000);
    const linesBefore = server.lines.length;
    proxy.cut();
    const from = performance.now();
    await sleep(seconds * 1000);
    const until = performance.now();
    const linesDuring = server.lines.length - linesBefore;
    proxy.restore();
    let firstSuccessMs = NaN;
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline && !server.exited()) {
      const ok = traffic.samples.find((s) => s.started >= until && s.status > 0 && s.status < 300);
      if (ok) {
        firstSuccessMs = ok.started + ok.ms - until;
        break;
      }
      await sleep(20);
    }
    await traffic.stop();
    const during = traffic.samples.filter((s) => s.started >= from && s.started < until);
    const survived = !server.exited();
    const ending = lastWords(server);
    await server.stop();
    await proxy.close();
    console.log(`\n3. Database cut off for ${seconds} s (TCP proxy: sockets reset, new ones refused) under ${CLIENTS} clients:`);
    console.log(`   log lines meanwhile: ${linesDuring} (${(linesDuring / ((until - from) / 1000)).toFixed(1)}/s); survived: ${survived ? 'yes' : `no${ending}`}`);
    console.log(`   ${summary(during, 'list')}`);
    console.log(`   ${summary(during, 'create')}`);
    console.log(`   first success after the restore: ${Number.isNaN(firstSuccessMs) ? 'none within 30 s' : `${firstSuccessMs.toFixed(0)} ms`}`);
  });
}

console.log(`probe-database: server from ${args.root}; ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (!args.only || args.only === 'terminations') await terminations(Number(args.terminations));
if (!args.only || args.only === 'lock') await lock(Number(args['lock-seconds']));
if (!args.only || args.only === 'outage') await outage(Number(args['outage-seconds']));
