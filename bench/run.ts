/**
 * The benchmark (`npm run bench`): Conclave with 250 participants in one conference against a
 * bare fastify route sending a fixed body of the same size and content type, side by side in one
 * run. Both servers run in child processes; autocannon drives them from this process, in short
 * alternating rounds (ours then bare, then bare then ours, …) so the machine's noise hits both
 * alike, and the table reports medians over rounds and the ours/bare ratios.
 *
 *   npm run bench -- [--duration 3] [--rounds 5] [--warmup 2] [--connections 10]
 *                    [--store sqlite|postgres] [--postgres-url URL] [--only fetch-json,list-50]
 *                    [--profile] [--pin]
 *
 * --profile writes V8 CPU profiles of both servers and prints where their time went;
 * --pin keeps the load generator on CPU 0 and the servers on the others (Linux taskset).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { forkServer, pinSelf, stopServer, type Child } from './children.js';
import { runRound, type RoundResult } from './measure.js';
import { summariseProfiles } from './profile-summary.js';
import { PARTICIPANTS, TARGETS, type BareConfigure, type BareReady, type BareRoute, type ConclaveReady, type StoreKind, type Target } from './protocol.js';
import { cpuBusy, FETCH_GOAL, machine, roundLines, summarise, table, type TargetRounds } from './report.js';

const USAGE = `usage: npm run bench -- [--duration S=3] [--rounds N=5] [--warmup S=2] [--connections N=10]
         [--store sqlite|postgres] [--postgres-url URL] [--only ${TARGETS.map((t) => t.name).join(',')}] [--profile] [--pin]`;

interface Options {
  duration: number;
  rounds: number;
  warmup: number;
  connections: number;
  store: StoreKind;
  postgresUrl: string;
  targets: Target[];
  profile: boolean;
  pin: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '10' },
      store: { type: 'string', default: 'sqlite' },
      'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min} (got ${raw})`);
    return n;
  };
  if (values.store !== 'sqlite' && values.store !== 'postgres') throw new Error(`--store must be sqlite or postgres (got ${values.store})`);
  const names = values.only?.split(',').map((s) => s.trim());
  const targets = names ? TARGETS.filter((t) => names.includes(t.name)) : [...TARGETS];
  if (targets.length === 0) throw new Error(`--only names none of ${TARGETS.map((t) => t.name).join(', ')}`);
  return {
    duration: positive('duration', values.duration, 1),
    rounds: positive('rounds', values.rounds, 1),
    warmup: positive('warmup', values.warmup, 0),
    connections: positive('connections', values.connections, 1),
    store: values.store,
    postgresUrl: values['postgres-url'],
    targets,
    profile: values.profile,
    pin: values.pin,
  };
}

/** Conclave's answer to one endpoint, fetched as a real client would (HTTP Basic). */
async function sample(url: string, headers: Record<string, string>): Promise<{ contentType: string; body: string }> {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 300)}`);
  return { contentType: response.headers.get('content-type') ?? '', body };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const { targets, duration, rounds, warmup, connections } = options;
  const seconds = targets.length * 2 * (warmup + rounds * duration);
  console.log(`Machine: ${machine()}`);
  console.log(
    `Store: ${options.store}; ${PARTICIPANTS} participants in one conference; ${connections} connections; ` +
      `${rounds} alternating rounds of ${duration} s per server and endpoint after ${warmup} s of warm-up (~${Math.ceil(seconds)} s of load)`,
  );

  const busy = await cpuBusy(1000);
  if (busy !== undefined) {
    const note = busy > 0.1 ? ' — something else is running; figures will be noisier' : '';
    console.log(`CPU busy before the run (all cores, 1 s): ${(busy * 100).toFixed(0)} %${note}`);
  }

  // --pin: autocannon (this process) on CPU 0, the servers on the other CPUs.
  const serverCpus = options.pin ? { cpus: `1-${os.availableParallelism() - 1}` } : {};
  if (options.pin) {
    if (os.availableParallelism() < 2) throw new Error('--pin needs at least 2 CPUs');
    pinSelf('0');
    console.log(`Pinned: load generator on CPU 0, servers on CPUs ${serverCpus.cpus ?? ''}`);
  }

  const profileDir = options.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-bench-profile-')) : undefined;
  const profileFlags = (name: string): string[] => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name)}`] : []);
  const children: Child<{ type: 'ready' }>[] = [];
  try {
    const ours = await forkServer<ConclaveReady>('./server-under-test.ts', {
      args: [options.store, options.postgresUrl],
      nodeFlags: profileFlags('conclave'),
      ...serverCpus,
    });
    children.push(ours);
    console.log(`Conclave: ${ours.ready.baseUrl} (${ours.ready.store})`);
    const auth = { authorization: `Basic ${Buffer.from(`${ours.ready.accountSid}:${ours.ready.authToken}`).toString('base64')}` };

    const routes: BareRoute[] = [];
    for (const target of targets) {
      const { contentType, body } = await sample(ours.ready.baseUrl + target.path(ours.ready), auth);
      routes.push({ path: `/bare/${target.name}`, contentType, body });
    }
    const configure: BareConfigure = { type: 'configure', routes };
    const bare = await forkServer<BareReady>('./bare-server.ts', { firstMessage: configure, nodeFlags: profileFlags('bare'), ...serverCpus });
    children.push(bare);
    for (const route of routes) {
      const copy = await sample(bare.ready.baseUrl + route.path, {});
      if (copy.body !== route.body || copy.contentType !== route.contentType) throw new Error(`bare ${route.path} does not send what Conclave sends`);
    }
    console.log(`Bare fastify: ${bare.ready.baseUrl}`);

    const measure = (target: Target, which: 'ours' | 'bare', seconds: number): Promise<RoundResult> =>
      which === 'ours'
        ? runRound({ url: ours.ready.baseUrl + target.path(ours.ready), headers: auth, connections, duration: seconds })
        : runRound({ url: `${bare.ready.baseUrl}/bare/${target.name}`, headers: {}, connections, duration: seconds });

    if (warmup > 0) {
      for (const target of targets) for (const which of ['ours', 'bare'] as const) await measure(target, which, warmup);
    }
    const results: TargetRounds[] = targets.map((target, i) => ({
      target,
      bodyBytes: Buffer.byteLength(routes[i]?.body ?? ''),
      ours: [],
      bare: [],
    }));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const);
      for (const result of results) {
        for (const which of order) result[which].push(await measure(result.target, which, duration));
      }
      console.log(`round ${round + 1}/${rounds} done`);
    }

    console.log('');
    for (const result of results) for (const line of roundLines(result)) console.log(line);
    console.log('');
    const summaries = results.map(summarise);
    console.log(table(summaries));
    console.log('');
    console.log('req/s and p99 are medians over rounds; ratios are medians of the per-round ours/bare ratios.');
    for (const s of summaries.filter((s) => s.target.goal)) {
      const verdict = s.rpsRatio >= FETCH_GOAL ? 'meets' : 'MISSES';
      console.log(`${s.target.label}: ${s.rpsRatio.toFixed(2)} of the bare route, ${verdict} the goal of ${FETCH_GOAL}`);
    }
  } finally {
    for (const child of children.reverse()) await stopServer(child.process);
  }
  if (profileDir) {
    for (const name of ['conclave', 'bare']) {
      console.log(`\nCPU profile of the ${name} server, ${path.join(profileDir, name)}:`);
      console.log(summariseProfiles(path.join(profileDir, name)));
    }
    console.log(`\n(profiles kept in ${profileDir}; open them in Chrome DevTools › Performance)`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
