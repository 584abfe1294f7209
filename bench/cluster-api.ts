/**
 * API throughput with two nodes (issue 11): the same requests against one node, and spread
 * over two nodes that share one PostgreSQL schema, side by side in one run — plus, for
 * reference, a node alone on a schema of its own (no other node to tell).
 *
 *   npx tsx bench/cluster-api.ts [--duration 5] [--rounds 5] [--warmup 2] [--connections 10]
 *                                [--conferences 10] [--per-conference 5] [--only get,mute] [--profile]
 *
 * Set-up: two `conclave serve` processes A and B on one fresh schema, and a third, "solo", on
 * another (bench/cluster-nodes.ts). Each deployment gets `--conferences` conferences of
 * `--per-conference` silent simulated participants; on the pair, half the conferences are
 * created through A and half through B, so half the calls run on each node.
 *
 * Endpoints, each request to the next participant in turn:
 * - get: `GET …/Conferences/CF…/Participants/CA….json`
 * - mute: `POST …/Participants/CA….json` with `Muted=true`/`false`, alternating per
 *   participant — a committed change whose event goes to both nodes by NOTIFY, and whose media
 *   flags the call's node applies.
 *
 * Layouts, in rotating order within each round so that the machine's drift hits all alike:
 * - one: every connection to node A (B is up and hears every event);
 * - two: half the connections to A, half to B (two autocannon instances at once; even
 *   participants through A, odd through B);
 * - solo: every connection to the node alone.
 * Throughput is completed 2xx answers per second (both instances summed); p99 is over every
 * answer's own time. Any error, timeout or non-2xx voids the run (as bench/measure.ts).
 * `--profile` writes CPU profiles of A, B and the solo node (start-up included: use `--only`
 * and longer rounds to see one endpoint) and prints where their time went.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { NodeProcess } from '../test/helpers/node-process.js';
import { startCluster, treeDescription, type Cluster } from './cluster-nodes.js';
import { median, percentile } from './measure.js';
import { machineBusy } from './machine-busy.js';
import { summariseProfiles } from './profile-summary.js';
import { cpuBusy, machine } from './report.js';

const FROM = '+15005550006';
const ENDPOINTS = ['get', 'mute'] as const;
type Endpoint = (typeof ENDPOINTS)[number];
const LAYOUTS = ['one', 'two', 'solo'] as const;
type Layout = (typeof LAYOUTS)[number];

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    conferences: { type: 'string', default: '10' },
    'per-conference': { type: 'string', default: '5' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
  strict: true,
});

function whole(name: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min} (got ${raw})`);
  return n;
}

interface Target {
  node: NodeProcess;
  /** Paths under the account, e.g. `/Conferences/CF…/Participants/CA….json`. */
  participants: string[];
  connections: number;
}

interface Loaded {
  ok: number;
  seconds: number;
  latencies: number[];
}

/** One autocannon instance against `target` for `seconds`, each request to the next participant. */
async function load(target: Target, endpoint: Endpoint, seconds: number): Promise<Loaded> {
  const { node, participants } = target;
  const authorization = `Basic ${Buffer.from(`${node.accountSid}:${node.authToken}`).toString('base64')}`;
  const prefix = new URL(node.api).pathname;
  let next = 0;
  const instance = autocannon(
    {
      url: node.baseUrl,
      connections: target.connections,
      duration: seconds,
      pipelining: 1,
      headers: { authorization, ...(endpoint === 'mute' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      requests: [
        {
          method: endpoint === 'mute' ? 'POST' : 'GET',
          setupRequest: (request) => {
            const n = next++;
            const path = prefix + participants[n % participants.length]!;
            if (endpoint === 'get') return { ...request, path };
            // Each participant is muted on one visit and unmuted on the next.
            return { ...request, path, body: Math.floor(n / participants.length) % 2 === 0 ? 'Muted=true' : 'Muted=false' };
          },
        },
      ],
    },
    () => undefined,
  );
  const latencies: number[] = [];
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await new Promise<autocannon.Result>((resolve) => instance.once('done', resolve));
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${node.baseUrl} ${endpoint}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts; the measurement is void`);
  }
  return { ok: result['2xx'], seconds: result.duration, latencies };
}

interface RoundResult {
  rps: number;
  p50: number;
  p99: number;
  /** Share of all cores busy during the round (this process, the nodes, PostgreSQL, the rest). */
  busy: number;
}

async function measure(targets: readonly Target[], endpoint: Endpoint, seconds: number): Promise<RoundResult> {
  const busy = machineBusy();
  const runs = await Promise.all(targets.map((t) => load(t, endpoint, seconds)));
  const busyShare = busy();
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return {
    rps: runs.reduce((sum, r) => sum + r.ok / r.seconds, 0),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    busy: busyShare,
  };
}

/** Conferences of silent simulated participants, created through `through[i % through.length]`; resolves with their paths. */
async function populate(through: readonly NodeProcess[], conferences: number, perConference: number, tag: string): Promise<string[]> {
  const created: { node: NodeProcess; path: string }[] = [];
  for (let c = 0; c < conferences; c++) {
    const node = through[c % through.length]!;
    for (let p = 0; p < perConference; p++) {
      const r = await node.request('POST', `/Conferences/${tag}-${c}/Participants.json`, { From: FROM, To: `sim:${tag}-${c}-${p}`, Beep: 'false' });
      if (r.status !== 201) throw new Error(`Create Participant: ${r.status} ${r.body.slice(0, 300)}`);
      created.push({ node, path: `/Conferences/${String(r.json.conference_sid)}/Participants/${String(r.json.call_sid)}.json` });
    }
  }
  const deadline = performance.now() + 30_000;
  for (const { node, path } of created) {
    for (;;) {
      const r = await node.request('GET', path);
      if (r.status === 200 && r.json.status === 'connected') break;
      if (performance.now() > deadline) throw new Error(`${path} not connected: ${r.status} ${r.body.slice(0, 200)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  // Interleaved by conference: consecutive requests go to different conferences (no lock queue).
  const byConference: string[][] = Array.from({ length: conferences }, (_, c) => created.slice(c * perConference, (c + 1) * perConference).map((x) => x.path));
  const paths: string[] = [];
  for (let p = 0; p < perConference; p++) for (const conference of byConference) paths.push(conference[p]!);
  return paths;
}

async function main(): Promise<void> {
  const duration = whole('duration', args.duration, 1);
  const rounds = whole('rounds', args.rounds, 1);
  const warmup = whole('warmup', args.warmup, 0);
  const connections = whole('connections', args.connections, 2);
  const conferences = whole('conferences', args.conferences, 2);
  const perConference = whole('per-conference', args['per-conference'], 1);
  const endpoints = args.only ? ENDPOINTS.filter((e) => args.only!.split(',').includes(e)) : [...ENDPOINTS];
  if (endpoints.length === 0) throw new Error(`--only names none of ${ENDPOINTS.join(', ')}`);
  console.log(`Machine: ${machine()}`);
  console.log(`Tree: ${treeDescription()}`);
  const busy = await cpuBusy(1000);
  if (busy !== undefined) console.log(`CPU busy before the run (all cores, 1 s): ${(busy * 100).toFixed(0)} %`);
  console.log(
    `${conferences} conferences × ${perConference} simulated participants per deployment; ${connections} connections; ` +
      `${rounds} rounds of ${duration} s per layout and endpoint after ${warmup} s of warm-up`,
  );

  const profileRoot = args.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-cluster-api-profile-')) : undefined;
  const profileOf = (name: string): string | undefined => (profileRoot ? path.join(profileRoot, name) : undefined);
  const started: Cluster[] = [];
  try {
    const pair = await startCluster({ count: 2, profileDirs: [profileOf('A'), profileOf('B')] });
    started.push(pair);
    const solo = await startCluster({ count: 1, firstRtpPort: 50000, profileDirs: [profileOf('solo')] });
    started.push(solo);
    const [nodeA, nodeB] = pair.nodes as [NodeProcess, NodeProcess];
    const soloNode = solo.nodes[0]!;
    const pairPaths = await populate([nodeA, nodeB], conferences, perConference, 'pair');
    const soloPaths = await populate([soloNode], conferences, perConference, 'solo');
    const half = Math.floor(connections / 2);
    const layouts: Record<Layout, Target[]> = {
      one: [{ node: nodeA, participants: pairPaths, connections }],
      two: [
        { node: nodeA, participants: pairPaths.filter((_, i) => i % 2 === 0), connections: connections - half },
        { node: nodeB, participants: pairPaths.filter((_, i) => i % 2 === 1), connections: half },
      ],
      solo: [{ node: soloNode, participants: soloPaths, connections }],
    };

    if (warmup > 0) for (const endpoint of endpoints) for (const layout of LAYOUTS) await measure(layouts[layout], endpoint, warmup);
    const results = new Map<string, RoundResult[]>();
    for (let round = 0; round < rounds; round++) {
      const order = LAYOUTS.map((_, i) => LAYOUTS[(i + round) % LAYOUTS.length]!);
      for (const endpoint of endpoints) {
        for (const layout of order) {
          const r = await measure(layouts[layout], endpoint, duration);
          const key = `${endpoint}/${layout}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.log(`  round ${round + 1} ${endpoint} ${layout}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, machine ${(r.busy * 100).toFixed(0)} % busy`);
        }
      }
    }

    const int = (n: number): string => Math.round(n).toLocaleString('en-US');
    const ms = (n: number): string => n.toFixed(2);
    console.log('');
    console.log(
      '| endpoint | one node req/s | two nodes req/s | two/one (range) | solo req/s | one node p99 ms | two nodes p99 ms | solo p99 ms | machine busy (one / two / solo) |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const endpoint of endpoints) {
      const of = (layout: Layout): RoundResult[] => results.get(`${endpoint}/${layout}`) ?? [];
      const ratios = of('two').map((r, i) => r.rps / (of('one')[i]?.rps ?? Number.NaN));
      const med = (layout: Layout, key: 'rps' | 'p99' | 'busy'): number => median(of(layout).map((r) => r[key]));
      const pct = (layout: Layout): string => `${(med(layout, 'busy') * 100).toFixed(0)} %`;
      console.log(
        `| ${endpoint === 'get' ? 'GET Participant' : 'POST Participant Muted'} | ${int(med('one', 'rps'))} | ${int(med('two', 'rps'))} | ` +
          `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${int(med('solo', 'rps'))} | ` +
          `${ms(med('one', 'p99'))} | ${ms(med('two', 'p99'))} | ${ms(med('solo', 'p99'))} | ${pct('one')} / ${pct('two')} / ${pct('solo')} |`,
      );
    }
    console.log('');
    console.log('req/s, p99 and busy are medians over rounds; two/one is the median of the per-round ratios.');
  } finally {
    for (const cluster of started) await cluster.close();
  }
  if (profileRoot) {
    for (const name of ['A', 'B', 'solo']) {
      console.log(`\nCPU profile of node ${name}:`);
      console.log(summariseProfiles(path.join(profileRoot, name)));
    }
    console.log(`\n(profiles kept in ${profileRoot})`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
