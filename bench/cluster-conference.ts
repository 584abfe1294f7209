/**
 * One conference of 250 spread over two nodes, and what a trunk costs (issue 11): the same
 * conference of 250 SIP/RTP callers run by one node, then by two nodes on one PostgreSQL schema
 * with 125 callers on each (cascaded mixers linked by one RTP trunk each way,
 * src/endpoints/media/conference-trunks.ts), side by side in one run, several runs alternating
 * the order.
 *
 *   npx tsx bench/cluster-conference.ts [--runs 3] [--window 20] [--warmup 3] [--idle 5]
 *                                       [--quiet-wait 60] [--realtime auto|off|N] [--gen-realtime 0]
 *                                       [--only one,two]
 *
 * Each scenario starts fresh node processes (bench/cluster-conference-node.ts: what `conclave
 * serve` runs, plus an IPC channel to read the media engine's stats) on a fresh schema of the
 * test database, with the same owner account, each on its own SIP port and RTP range. One
 * number's VoiceUrl (a webhook receiver in this process) puts every caller in the conference
 * `bench` (`<Conference beep="false">`). The callers:
 * - 246 legs of the project's load generator (bench/media-loadgen.ts), as two generator
 *   processes of 123 legs each (so that the generator costs the same in both scenarios and each
 *   node's callers are reported apart): 172-byte PCMU every 20 ms, 3 talkers (300, 410 and
 *   520 Hz voices with a syllable envelope), the rest near-silent noise — the load of
 *   bench/media-capacity.ts's "one room of 250";
 * - 4 probe phones in this process (bench/burst-probes.ts): a talker and a silent listener per
 *   node, each talker silent but for a 60 ms tone burst every 200 ms.
 * Every caller is a real SIP call from this process (one user agent, SDP offers naming each
 * generator leg's port). "one node": all 250 call node A. "two nodes": talker A calls node A
 * first and is connected before anyone else calls, so A is the conference's home; then node A
 * gets the listener A and generator 0 (125 calls) and node B the talker B, listener B and
 * generator 1 (125 calls).
 *
 * Measured in a window after a warm-up, per node: CPU (utime + stime of /proc/<pid>/stat, % of
 * one core), late and skipped media ticks (the engine's stats, as media-capacity.ts: a tick
 * starting > 5 ms after its deadline), packets in and out per second (the engine's per-leg
 * counters: callers and trunk legs apart), mix packets the generator received vs expected and
 * its p99.9 inter-arrival gap, uplink packets accepted vs sent, RSS; each node's CPU is also
 * taken in an idle window before any call, and the media threads' busy share (their event-loop
 * utilisation) apart from the rest of the process. "Clean" is media-capacity.ts's: < 0.1 % late
 * ticks and < 0.1 % of mix packets lost. Also per window: threads that ran most of a second
 * under SCHED_FIFO, the nodes' and any other process's (bench/rt-spin-watch.ts), and the
 * longest stall of this process's own clock, so that a window hit by a machine-wide stall is
 * told apart ("windows without a stall" in the summary); the nodes' warnings, by phase; and
 * after the nodes stopped, what they left stored as live (calls, participants, conferences).
 *
 * Added latency: for each burst, the delay from its first frame's send (this process's clock)
 * to the kernel arrival of the first listener frame with that tone (Goertzel) at the listener
 * on the talker's node and at the listener on the other node; the extra delay of the trunk is
 * the difference, burst by burst. In "one node" both listeners are on the one node: the
 * difference is the control (≈ 0).
 *
 * CPU per remote participant: (both nodes' CPU in "two nodes" − the node's in "one node") / 125,
 * medians over runs. Everything runs on this machine: the nodes, the generators, this process
 * and PostgreSQL share its cores, so the figures are ratios side by side, not capacities.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import type { EngineStats, LegStats } from '../src/media/protocol.js';
import { nativeUdp } from '../src/media/rtp/native-udp.js';
import { wallNow } from '../src/media/rtp/rtp-socket.js';
import { writeOffer, type RemoteAudio } from '../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../src/sip/sdp/session-audio.js';
import { SipCombinedTransport } from '../src/sip/transport/combined-transport.js';
import type { SipCall } from '../src/sip/ua/call.js';
import { SipUserAgent } from '../src/sip/ua/user-agent.js';
import pg from 'pg';
import { dropSchema, newSchemaName, nodeDatabaseUrl } from '../test/helpers/node-process.js';
import { TEST_POSTGRES_URL } from '../test/helpers/stores.js';
import { answer, startReceiver, type Receiver } from '../test/helpers/webhook-receiver.js';
import { BURST_FRAMES, delays, HEAR_WITHIN_MS, HEARD, Probes, type Probe } from './burst-probes.js';
import type { NodeClosed, NodeReady, NodeStatsReply } from './cluster-conference-node.js';
import type { GenReply, GenReport, GenRequest } from './media-ipc.js';
import { isMessage } from './protocol.js';
import { SpinWatch } from './rt-spin-watch.js';

const NUMBER = '+15005550150';
const CONFERENCE = 'bench';
const PARTICIPANTS = 250;
/** Legs per generator process; 2 × 123 + 4 probes = 250. */
const GEN_LEGS = 123;
/** The generators' talkers (media-capacity.ts's room of 250 has 3). */
const GEN_VOICES = [[300, 410], [520]] as const;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Options {
  runs: number;
  windowS: number;
  warmupS: number;
  idleS: number;
  quietWaitS: number;
  realtime: string;
  genRealtime: number;
  only: Set<Scenario>;
}

type Scenario = 'one' | 'two';

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 3, windowS: 20, warmupS: 3, idleS: 5, quietWaitS: 60, realtime: 'auto', genRealtime: 0, only: new Set(['one', 'two']) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--runs') o.runs = Number(v);
    else if (a === '--window') o.windowS = Number(v);
    else if (a === '--warmup') o.warmupS = Number(v);
    else if (a === '--idle') o.idleS = Number(v);
    else if (a === '--quiet-wait') o.quietWaitS = Number(v);
    else if (a === '--realtime') o.realtime = v;
    else if (a === '--gen-realtime') o.genRealtime = Number(v);
    else if (a === '--only') {
      const picked = v.split(',').filter((s) => s !== '');
      if (!picked.every((s): s is Scenario => s === 'one' || s === 'two')) throw new Error('--only one,two');
      o.only = new Set(picked);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.runs >= 1 && o.windowS > 0 && o.windowS <= 120 && o.warmupS >= 0 && o.idleS >= 0)) throw new Error('bad --runs/--window/--warmup/--idle');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Processes: nodes and load generators.

/** What the bench is doing, for the nodes' log lines. */
let phase = 'start';
/** The nodes' log lines (warnings and worse at CONCLAVE_LOG_LEVEL=warn) by phase. */
const nodeLog = new Map<string, number>();

function setPhase(next: string): void {
  phase = next;
  if (process.env.BENCH_TRACE === '1') console.log(`  [${new Date().toISOString()}] ${next}`);
}

function logOf(node: string, line: string): void {
  nodeLog.set(phase, (nodeLog.get(phase) ?? 0) + 1);
  let msg = line;
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string }; reason?: string };
    msg = [entry.msg, entry.err?.message ?? entry.reason].filter((x) => x !== undefined).join(': ');
  } catch {
    // not a JSON log line: shown as it is
  }
  console.log(`  [node ${node}, ${phase}] ${msg.slice(0, 300)}`);
}

/** A node child (cluster-conference-node.ts) with its stats request. */
class Node {
  private stopping = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly ready: NodeReady,
    readonly api: string,
    private readonly authorization: string,
  ) {}

  static start(name: string, env: Record<string, string>, owner: { accountSid: string; authToken: string }): Promise<Node> {
    const file = fileURLToPath(new URL('./cluster-conference-node.ts', import.meta.url));
    const child = fork(file, [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // The node's log lines (warnings and worse), each marked with the bench's phase at the time.
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') logOf(name, line);
      });
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node ${name} did not start within 60 s`));
      }, 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`node ${name} exited before it was ready (${code ?? 'signal'})`));
      });
      child.on('message', (m) => {
        if (!isMessage<NodeReady>(m, 'ready')) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        const authorization = `Basic ${Buffer.from(`${owner.accountSid}:${owner.authToken}`).toString('base64')}`;
        const node = new Node(name, child, m, `${m.baseUrl}/2010-04-01/Accounts/${owner.accountSid}`, authorization);
        // A node that falls over under the load is a finding, not a bench failure to guess at.
        child.once('exit', (code, signal) => {
          if (!node.stopping) logOf(name, `EXITED unexpectedly (code ${code ?? 'none'}, signal ${signal ?? 'none'})`);
        });
        resolve(node);
      });
    });
  }

  get pid(): number {
    return this.ready.pid;
  }

  stats(): Promise<EngineStats> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`node ${this.name}: no stats within 10 s`));
      }, 10_000);
      const onMessage = (m: unknown): void => {
        if (isMessage<NodeStatsReply>(m, 'stats')) {
          clearTimeout(timer);
          this.child.off('message', onMessage);
          resolve(m.stats);
        } else if (isMessage<{ type: 'stats-failed'; error: string }>(m, 'stats-failed')) {
          clearTimeout(timer);
          this.child.off('message', onMessage);
          reject(new Error(`node ${this.name}: stats failed: ${m.error}`));
        }
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' });
    });
  }

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${this.api}${path}`, {
      method,
      headers: { authorization: this.authorization, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  /** Asks the node to stop (its calls ended, trunks closed); SIGKILL after 30 s. Resolves with how its close went (undefined: it said nothing). */
  stop(): Promise<NodeClosed | undefined> {
    const child = this.child;
    this.stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let closed: NodeClosed | undefined;
      child.on('message', (m) => {
        if (isMessage<NodeClosed>(m, 'closed')) closed = m;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(closed);
      });
      if (child.connected) child.send({ type: 'stop' });
      else child.kill('SIGTERM');
    });
  }
}

/** The load generator child (bench/media-loadgen.ts), one request at a time (as media-capacity.ts drives it). */
class Generator {
  private constructor(private readonly child: ChildProcess) {}

  static start(realtime: number): Generator {
    const file = fileURLToPath(new URL('./media-loadgen.ts', import.meta.url));
    return new Generator(fork(file, [String(realtime)], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  request<T extends GenReply['type']>(msg: GenRequest, reply: T, timeoutMs = 60_000): Promise<Extract<GenReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`load generator: no ${reply} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: GenReply): void => {
        if (m.type !== reply) return;
        cleanup();
        resolve(m as Extract<GenReply, { type: T }>);
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`load generator exited (${code ?? 'signal'})`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(msg);
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.disconnect();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// CPU and memory from /proc.

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
function processCpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Busy and total jiffies of all CPUs. */
function machineTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

const busyPct = (a: { busy: number; total: number }, b: { busy: number; total: number }): number =>
  b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : 0;

/** Waits (up to `maxS`) for a second in which the machine is < 10 % busy; returns how busy the last second was. */
async function quietSecond(maxS: number): Promise<number> {
  let busy = 100;
  for (const end = Date.now() + maxS * 1000; ; ) {
    const a = machineTimes();
    await sleep(1000);
    busy = busyPct(a, machineTimes());
    if (busy < 10 || Date.now() > end) return busy;
  }
}


// ---------------------------------------------------------------------------------------------
// SIP callers.

interface Caller {
  call: SipCall;
  remote: RemoteAudio;
}

class Phones {
  private count = 0;
  private readonly calls: SipCall[] = [];

  private constructor(
    private readonly transport: SipCombinedTransport,
    private readonly ua: SipUserAgent,
  ) {}

  static async open(): Promise<Phones> {
    const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });
    const ua = new SipUserAgent({ transport, address: transport.address });
    return new Phones(transport, ua);
  }

  /** Calls the number on `node` offering `rtpPort` for audio; resolves once answered. */
  dial(node: Node, rtpPort: number): Promise<Caller> {
    const n = ++this.count;
    const from = `sip:caller${n}@127.0.0.1:${this.transport.address.port}`;
    const call = this.ua.invite({
      to: `sip:${NUMBER}@127.0.0.1:${node.ready.sipPort}`,
      from,
      sdpOffer: writeOffer({ address: '127.0.0.1', port: rtpPort, sessionId: String(1000 + n), sessionVersion: 1 }),
      timeoutMs: 30_000,
    });
    this.calls.push(call);
    return new Promise((resolve, reject) => {
      call.on('answered', (a) => resolve({ call, remote: rtpAudio(a.remoteAudio) }));
      call.on('failed', (f) => reject(new Error(`call ${n} to node ${node.name} failed: ${f.status} ${f.reason}`)));
    });
  }

  get ended(): number {
    return this.calls.filter((c) => c.ended).length;
  }

  async close(): Promise<void> {
    this.ua.close();
    await this.transport.close();
  }
}

async function poll<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  for (const end = Date.now() + timeoutMs; ; ) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The live conference's SID and how many of its participants are connected, through `node`'s API. */
async function connected(node: Node): Promise<{ sid: string; count: number } | undefined> {
  const list = await node.request('GET', `/Conferences.json?FriendlyName=${CONFERENCE}`);
  // With one participant it is not started yet (init); with two, in-progress.
  const conferences = (list.json.conferences ?? []) as { sid: string; status: string }[];
  const sid = conferences.find((c) => c.status !== 'completed')?.sid;
  if (sid === undefined) return undefined;
  const parts = await node.request('GET', `/Conferences/${sid}/Participants.json?PageSize=1000`);
  const participants = (parts.json.participants ?? []) as { status: string }[];
  return { sid, count: participants.filter((p) => p.status === 'connected').length };
}

/**
 * What the stopped nodes left stored as live: calls not ended, participants not completed,
 * conferences not completed ('' when nothing). A node that stops ends its calls first
 * (app.ts close), so after a clean shutdown there is nothing.
 */
async function leftOpen(schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    const count = async (sql: string): Promise<string> =>
      (await client.query<{ status: string; n: string }>(sql)).rows.map((r) => `${r.n} ${r.status}`).join(', ');
    const calls = await count(`select status, count(*) as n from calls where status not in ('completed', 'failed', 'busy', 'no-answer', 'canceled') group by status`);
    const participants = await count(`select status, count(*) as n from participants where status <> 'completed' group by status`);
    const conferences = await count(`select status, count(*) as n from conferences where status <> 'completed' group by status`);
    return [calls && `calls ${calls}`, participants && `participants ${participants}`, conferences && `conferences ${conferences}`].filter((x) => x !== '').join('; ');
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// One scenario.

interface NodeRow {
  scenario: Scenario;
  run: number;
  node: string;
  callers: number;
  idleCpu: number;
  cpu: number;
  ticks: number;
  latePct: number;
  worstWorkerLatePct: number;
  skipped: number;
  tickMeanMs: number;
  callerInPps: number;
  callerOutPps: number;
  trunkInPps: number;
  trunkOutPps: number;
  trunkLost: number;
  trunkLegs: string[];
  rxPct: number;
  offeredPct: number;
  uplinkPct: number;
  gapP999: number;
  gapMax: number;
  rssMb: number;
  /** The media threads' busy time (event-loop utilisation, summed over the node's media workers), % of one core. */
  mediaBusy: number;
  /** Episodes of a real-time thread of the node running > 600 ms in a second, and the most it ran in one second (ms). */
  spinEpisodes: number;
  spinMaxMs: number;
}

interface ScenarioResult {
  scenario: Scenario;
  run: number;
  nodes: NodeRow[];
  genCpu: number;
  /** The longest gap of this process's 10 ms timer in the window (a machine-wide stall at normal priority). */
  benchStallMs: number;
  /** Real-time threads of other processes that ran > 600 ms in a second: episodes, and the most in one second (ms). */
  elsewhereSpins: { episodes: number; maxMs: number };
  busy: number;
  busyBefore: number;
  setupS: number;
  /** Per talker: delays to the listener on its node and on the other node, burst by burst. */
  latency: { A: { same: (number | undefined)[]; other: (number | undefined)[] }; B: { same: (number | undefined)[]; other: (number | undefined)[] } };
  /** Frames heard with each tone at each listener vs burst frames sent: far above 1 = the tone is not the probe's alone. */
  toneFrames: { A: number; B: number; sentA: number; sentB: number };
}

const delta = (l1: LegStats, l0: LegStats | undefined, k: 'packetsIn' | 'packetsOut' | 'packetsLost'): number => l1[k] - (l0?.[k] ?? 0);

async function runScenario(scenario: Scenario, run: number, o: Options): Promise<ScenarioResult> {
  const schema = newSchemaName();
  const owner = { accountSid: newSid('AC'), authToken: newAuthToken() };
  const receiver: Receiver = await startReceiver((request, response) => {
    if (request.path.startsWith('/voice')) answer(response, 200, 'text/xml', `<Response><Dial><Conference beep="false">${CONFERENCE}</Conference></Dial></Response>`);
    else answer(response, 204, 'text/plain', '');
  });
  const nodes: Node[] = [];
  const gens: Generator[] = [];
  const at = (what: string): void => setPhase(`${scenario} node${scenario === 'one' ? '' : 's'}, run ${run}: ${what}`);
  at('start-up');
  let probes: Probes | undefined;
  let phones: Phones | undefined;
  try {
    const nodeCount = scenario === 'one' ? 1 : 2;
    for (let i = 0; i < nodeCount; i++) {
      const rtp = i === 0 ? '10000-14999' : '15000-19999';
      nodes.push(
        await Node.start(i === 0 ? 'A' : 'B', {
          CONCLAVE_DATABASE: nodeDatabaseUrl(schema),
          CONCLAVE_HTTP_PORT: '0',
          CONCLAVE_SIP_PORT: '0',
          CONCLAVE_RTP_PORTS: rtp,
          CONCLAVE_RTP_TIMEOUT: '0',
          CONCLAVE_ACCOUNT_SID: owner.accountSid,
          CONCLAVE_AUTH_TOKEN: owner.authToken,
          CONCLAVE_MEDIA_REALTIME: o.realtime,
          CONCLAVE_LOG_LEVEL: 'warn',
        }, owner),
      );
    }
    const nodeA = nodes[0]!;
    const nodeB = nodes[nodeCount - 1]!;
    const reg = await nodeA.request('POST', '/IncomingPhoneNumbers.json', { PhoneNumber: NUMBER, VoiceUrl: `${receiver.baseUrl}/voice` });
    if (reg.status !== 201) throw new Error(`registering ${NUMBER}: ${reg.status} ${JSON.stringify(reg.json)}`);

    // Each node's CPU with no call: its fixed cost (lease, LISTEN, timers).
    at('idle');
    const idle0 = nodes.map((n) => processCpuS(n.pid));
    const idleT0 = performance.now();
    await sleep(o.idleS * 1000);
    const idleWall = (performance.now() - idleT0) / 1000;
    const idleCpu = nodes.map((n, i) => (100 * (processCpuS(n.pid) - idle0[i]!)) / idleWall);

    for (let k = 0; k < GEN_VOICES.length; k++) gens.push(Generator.start(o.genRealtime));
    const genPorts = await Promise.all(
      gens.map(async (g, k) => {
        const voices = Array.from({ length: GEN_LEGS }, (_, i) => GEN_VOICES[k]![i] ?? 0);
        return (await g.request({ type: 'open', voices, legsPerSocket: 1 }, 'opened')).ports;
      }),
    );
    probes = await Probes.open();
    phones = await Phones.open();

    // Talker A first, connected before anyone else calls: node A is the conference's home.
    const setupT0 = performance.now();
    const p = probes;
    const ph = phones;
    const dialProbe = async (probe: Probe, node: Node): Promise<void> => {
      probe.target = (await ph.dial(node, probe.socket.localPort)).remote.port;
    };
    at('call set-up');
    await dialProbe(p.talkerA, nodeA);
    await poll(async () => (await connected(nodeA))?.count === 1, 15_000, 'talker A connected');
    await dialProbe(p.listenerA, nodeA);
    await dialProbe(p.talkerB, nodeB);
    await dialProbe(p.listenerB, nodeB);
    // Generator 0 on node A, generator 1 on node B (on A in "one node"); 10 calls at a time.
    const targets = await Promise.all(
      genPorts.map(async (ports, k) => {
        const node = k === 0 ? nodeA : nodeB;
        const out = new Array<number>(ports.length).fill(0);
        for (let b = 0; b < ports.length; b += 10) {
          await Promise.all(ports.slice(b, b + 10).map(async (port, j) => (out[b + j] = (await ph.dial(node, port)).remote.port)));
        }
        return out;
      }),
    );
    await poll(
      async () => {
        const c = await connected(nodeA);
        return c?.count === PARTICIPANTS && c;
      },
      60_000,
      `${PARTICIPANTS} participants connected`,
    );
    const setupS = (performance.now() - setupT0) / 1000;

    // Media on; warm up; the window.
    at('warm-up');
    p.start();
    await Promise.all(gens.map((g, k) => g.request({ type: 'start', targets: targets[k]! }, 'started')));
    await sleep(o.warmupS * 1000);
    const s0 = await Promise.all(nodes.map((n) => n.stats()));
    const cpu0 = nodes.map((n) => processCpuS(n.pid));
    const m0 = machineTimes();
    await Promise.all(gens.map((g) => g.request({ type: 'mark' }, 'marked')));
    p.record(true);
    at('window');
    const t0 = performance.now();
    const watch = new SpinWatch(nodes.map((n) => ({ name: n.name, pid: n.pid })));
    await sleep(o.windowS * 1000);
    watch.stop();
    const reports: GenReport[] = await Promise.all(gens.map((g) => g.request({ type: 'stop' }, 'report')));
    at('after the window');
    const wallS = (performance.now() - t0) / 1000;
    const windowEnd = wallNow();
    const cpu1 = nodes.map((n) => processCpuS(n.pid));
    const m1 = machineTimes();
    const s1 = await Promise.all(nodes.map((n) => n.stats()));
    // The probes keep listening past the window for the last bursts' frames; then stop.
    await sleep(HEAR_WITHIN_MS + 100);
    p.record(false);
    p.stop();
    // Let the last packets arrive, then compare what each node accepted with what was sent.
    await sleep(300);
    const s2 = await Promise.all(nodes.map((n) => n.stats()));
    const rss = nodes.map((n) => rssMb(n.pid));

    const rows: NodeRow[] = nodes.map((node, i) => {
      const a = s0[i]!;
      const b = s1[i]!;
      const before = new Map(a.legs.map((l) => [l.legId, l]));
      let callerIn = 0;
      let callerOut = 0;
      let trunkIn = 0;
      let trunkOut = 0;
      let trunkLost = 0;
      const trunkLegs: string[] = [];
      for (const l of b.legs) {
        const l0 = before.get(l.legId);
        if (l.legId.startsWith('trunk:')) {
          trunkIn += delta(l, l0, 'packetsIn');
          trunkOut += delta(l, l0, 'packetsOut');
          trunkLost += delta(l, l0, 'packetsLost');
          trunkLegs.push(l.legId.replace(/^trunk:CF[0-9a-f]+:/, ''));
        } else {
          callerIn += delta(l, l0, 'packetsIn');
          callerOut += delta(l, l0, 'packetsOut');
        }
      }
      const ticks = b.ticks - a.ticks;
      const w0 = a.workers ?? [];
      const worst = Math.max(0, ...(b.workers ?? []).map((w, k) => {
        const t = w.ticks - (w0[k]?.ticks ?? 0);
        return t > 0 ? (100 * (w.lateTicks - (w0[k]?.lateTicks ?? 0))) / t : 0;
      }));
      // This node's generators (both in "one node") and probes.
      const mine = scenario === 'one' ? reports : [reports[i]!];
      const probesHere = scenario === 'one' ? p.all : i === 0 ? [p.talkerA, p.listenerA] : [p.talkerB, p.listenerB];
      const accepted = s2[i]!.legs.filter((l) => !l.legId.startsWith('trunk:')).reduce((x, l) => x + l.packetsIn, 0);
      const sent = mine.reduce((x, r) => x + r.sentTotal, 0) + probesHere.reduce((x, q) => x + q.sent, 0);
      const received = mine.reduce((x, r) => x + r.received, 0);
      const expected = mine.reduce((x, r) => x + r.expected, 0);
      const offered = mine.reduce((x, r) => x + r.sentWindow, 0) / mine.reduce((x, r) => x + (GEN_LEGS * r.windowMs) / 20, 0);
      return {
        scenario,
        run,
        node: node.name,
        callers: b.legs.filter((l) => !l.legId.startsWith('trunk:')).length,
        idleCpu: idleCpu[i]!,
        cpu: (100 * (cpu1[i]! - cpu0[i]!)) / wallS,
        ticks,
        latePct: ticks > 0 ? (100 * (b.lateTicks - a.lateTicks)) / ticks : 0,
        worstWorkerLatePct: worst,
        skipped: b.skippedTicks - a.skippedTicks,
        tickMeanMs: ticks > 0 ? (b.tickMeanUs * b.ticks - a.tickMeanUs * a.ticks) / ticks / 1000 : 0,
        callerInPps: callerIn / wallS,
        callerOutPps: callerOut / wallS,
        trunkInPps: trunkIn / wallS,
        trunkOutPps: trunkOut / wallS,
        trunkLost,
        trunkLegs,
        rxPct: expected > 0 ? (100 * received) / expected : 0,
        offeredPct: 100 * offered,
        uplinkPct: sent > 0 ? (100 * accepted) / sent : 0,
        gapP999: Math.max(...mine.map((r) => r.gapP999Ms)),
        gapMax: Math.max(...mine.map((r) => r.gapMaxMs)),
        rssMb: rss[i]!,
        mediaBusy: (b.workers ?? []).reduce((x, w, k) => {
          const active = w.elu.activeMs - (w0[k]?.elu.activeMs ?? 0);
          const idle = w.elu.idleMs - (w0[k]?.elu.idleMs ?? 0);
          return x + (active + idle > 0 ? (100 * active) / (active + idle) : 0);
        }, 0),
        spinEpisodes: watch.spins.get(node.name)!.episodes,
        spinMaxMs: watch.spins.get(node.name)!.maxMs,
      };
    });

    // Bursts sent in the window (the probes listened HEAR_WITHIN_MS and more past its end).
    const inWindow = (t: number): boolean => t <= windowEnd;
    const burstsA = p.bursts.A.filter(inWindow);
    const burstsB = p.bursts.B.filter(inWindow);
    const toneCount = (probe: Probe, k: 'a' | 'b'): number => probe.heard.filter((f) => f[k] >= HEARD).length;
    const result: ScenarioResult = {
      scenario,
      run,
      nodes: rows,
      benchStallMs: watch.maxGapMs,
      elsewhereSpins: watch.spins.get('elsewhere')!,
      genCpu: reports.reduce((x, r) => x + (100 * (r.cpuUserMs + r.cpuSystemMs)) / r.windowMs, 0),
      busy: busyPct(m0, m1),
      busyBefore: Number.NaN,
      setupS,
      latency: {
        A: { same: delays(burstsA, p.listenerA, 'a'), other: delays(burstsA, p.listenerB, 'a') },
        B: { same: delays(burstsB, p.listenerB, 'b'), other: delays(burstsB, p.listenerA, 'b') },
      },
      toneFrames: {
        A: toneCount(p.listenerA, 'a') + toneCount(p.listenerB, 'a'),
        B: toneCount(p.listenerA, 'b') + toneCount(p.listenerB, 'b'),
        sentA: 2 * BURST_FRAMES * p.bursts.A.length,
        sentB: 2 * BURST_FRAMES * p.bursts.B.length,
      },
    };
    return result;
  } finally {
    at('shutdown');
    probes?.close();
    await Promise.all(gens.map((g) => g.request({ type: 'close' }, 'closed').catch(() => undefined)));
    await Promise.all(gens.map((g) => g.stop()));
    const closes = await Promise.all(nodes.map((n) => n.stop()));
    if (nodes.length > 0) {
      console.log(`  shutdown: ${nodes.map((n, i) => `node ${n.name} ${closes[i] === undefined ? 'said nothing (killed?)' : `${closes[i]!.clean ? 'clean' : 'NOT clean'} in ${closes[i]!.ms.toFixed(0)} ms`}`).join(', ')}`);
    }
    await phones?.close();
    await receiver.close();
    if (nodes.length > 0) {
      const left = await leftOpen(schema).catch((error: unknown) => `could not read: ${String(error)}`);
      if (left !== '') console.log(`  after shutdown, stored as still live on ${schema}: ${left}`);
    }
    await dropSchema(schema).catch((error: unknown) => console.error(`dropping ${schema}: ${String(error)}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting.

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const median = (values: number[]): number => quantile(values, 0.5);
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '—');
const pct = (x: number, d = 2): string => `${x.toFixed(d)} %`;

function nodeLine(r: NodeRow): string {
  const clean = r.latePct < 0.1 && r.rxPct >= 99.9;
  return `| ${r.scenario === 'one' ? 'one node' : 'two nodes'} | ${r.run} | ${r.node} | ${r.callers} | ${f0(r.cpu)} % (${f1(r.idleCpu)} %) | ${f0(r.mediaBusy)} % | ${pct(r.latePct)} (${pct(r.worstWorkerLatePct)}) | ${r.skipped} | ${f0(r.callerInPps)} / ${f0(r.callerOutPps)} | ${r.trunkLegs.length === 0 ? '—' : `${f0(r.trunkInPps)} / ${f0(r.trunkOutPps)} (lost ${r.trunkLost})`} | ${pct(r.rxPct, 3)} | ${pct(r.uplinkPct, 3)} | ${pct(r.offeredPct)} | ${f1(r.gapP999)} / ${f1(r.gapMax)} ms | ${r.tickMeanMs.toFixed(2)} ms | ${f0(r.rssMb)} MB | ${r.spinEpisodes === 0 ? '0' : `${r.spinEpisodes} (${f0(r.spinMaxMs)} ms/s)`} | ${clean ? 'clean' : 'NOT clean'} |`;
}

const NODE_HEAD =
  '| Scenario | Run | Node | Calls on it | CPU, % of a core (idle) | Media threads busy | Late ticks (worst worker) | Skipped | Caller packets in / out per s | Trunk packets in / out per s | Mix received vs expected | Uplink accepted vs sent | Generator offered | p99.9 / max gap | Mean tick | RSS | RT thread spins | |\n' +
  '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';

function latencyFigures(results: ScenarioResult[], talker: 'A' | 'B'): { same: number[]; other: number[]; extra: number[]; missed: number; bursts: number } {
  const same: number[] = [];
  const other: number[] = [];
  const extra: number[] = [];
  let missed = 0;
  let bursts = 0;
  for (const r of results) {
    const l = r.latency[talker];
    for (let i = 0; i < l.same.length; i++) {
      bursts++;
      const s = l.same[i];
      const o = l.other[i];
      if (s !== undefined) same.push(s);
      if (o !== undefined) other.push(o);
      if (s === undefined || o === undefined) missed++;
      else extra.push(o - s);
    }
  }
  return { same, other, extra, missed, bursts };
}

/** A window in which nothing stalled: no skipped tick on any node, the bench's clock never 200 ms late. */
const quiet = (r: ScenarioResult): boolean => r.benchStallMs < 200 && r.nodes.every((n) => n.skipped === 0);

function summary(results: ScenarioResult[]): string {
  const out: string[] = [];
  out.push(NODE_HEAD);
  for (const r of results) for (const n of r.nodes) out.push(nodeLine(n));
  out.push('');
  out.push('| Scenario | Run | Nodes CPU together | Generators CPU | Machine busy (before) | Longest stall of the bench\'s clock | RT spins of other processes | Call set-up (250 calls) | Burst tone frames heard vs sent (A, B) |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const cpu = r.nodes.reduce((x, n) => x + n.cpu, 0);
    out.push(`| ${r.scenario === 'one' ? 'one node' : 'two nodes'} | ${r.run} | ${f0(cpu)} % | ${f0(r.genCpu)} % | ${f0(r.busy)} % (${f0(r.busyBefore)} %) | ${f0(r.benchStallMs)} ms | ${r.elsewhereSpins.episodes === 0 ? '0' : `${r.elsewhereSpins.episodes} (${f0(r.elsewhereSpins.maxMs)} ms/s)`} | ${r.setupS.toFixed(1)} s | ${(r.toneFrames.A / Math.max(1, r.toneFrames.sentA)).toFixed(2)}, ${(r.toneFrames.B / Math.max(1, r.toneFrames.sentB)).toFixed(2)} |`);
  }
  out.push('');
  out.push('Latency, burst send → first frame with its tone at a listener (ms):');
  out.push('');
  out.push('| Windows | Scenario | Talker (node) | Bursts | Missed | Listener on the talker\'s node p50 / p99 | Listener on the other node p50 / p99 | Extra (other − same), per burst: p50 / p99 / max |');
  out.push('|---|---|---|---:|---:|---:|---:|---:|');
  for (const [label, picked] of [['all', results], ['without a stall', results.filter(quiet)]] as const) {
    for (const scenario of ['one', 'two'] as const) {
      const rs = picked.filter((r) => r.scenario === scenario);
      if (rs.length === 0) continue;
      for (const talker of ['A', 'B'] as const) {
        const l = latencyFigures(rs, talker);
        const who = scenario === 'two' ? (talker === 'A' ? 'A (home) → B' : 'B → A (home)') : `${talker === 'A' ? 'talker A' : 'talker B'} (both listeners on A)`;
        out.push(`| ${label} (${rs.length}) | ${scenario === 'one' ? 'one node' : 'two nodes'} | ${who} | ${l.bursts} | ${l.missed} | ${f1(median(l.same))} / ${f1(quantile(l.same, 0.99))} | ${f1(median(l.other))} / ${f1(quantile(l.other, 0.99))} | ${f1(median(l.extra))} / ${f1(quantile(l.extra, 0.99))} / ${f1(Math.max(...l.extra))} |`);
      }
    }
  }
  const perRun = (scenario: Scenario): string =>
    results
      .filter((r) => r.scenario === scenario)
      .map((r) => {
        const ex = [...latencyFigures([r], 'A').extra, ...latencyFigures([r], 'B').extra];
        return `run ${r.run}${quiet(r) ? '' : ' (stalled)'}: p50 ${f1(median(ex))}, p99 ${f1(quantile(ex, 0.99))}`;
      })
      .join('; ');
  out.push('');
  out.push(`Extra delay per run, both directions (ms): two nodes — ${perRun('two') || '—'}; one node (control) — ${perRun('one') || '—'}`);

  for (const [label, picked] of [['all windows', results], ['windows without a stall', results.filter(quiet)]] as const) {
    const ones = picked.filter((r) => r.scenario === 'one');
    const twos = picked.filter((r) => r.scenario === 'two');
    if (ones.length === 0 || twos.length === 0) continue;
    const c1 = median(ones.map((r) => r.nodes[0]!.cpu));
    const c2 = median(twos.map((r) => r.nodes.reduce((x, n) => x + n.cpu, 0)));
    const idle = median(twos.map((r) => r.nodes[1]!.idleCpu));
    const m1 = median(ones.map((r) => r.nodes[0]!.mediaBusy));
    const m2 = median(twos.map((r) => r.nodes.reduce((x, n) => x + n.mediaBusy, 0)));
    const remote = PARTICIPANTS / 2;
    out.push('');
    out.push(`CPU, medians over ${label} (${ones.length} one-node, ${twos.length} two-node): one node ${f1(c1)} % of a core for ${PARTICIPANTS} calls = ${(c1 / PARTICIPANTS).toFixed(3)} % per participant; two nodes together ${f1(c2)} % = ${(c2 / PARTICIPANTS).toFixed(3)} % per participant.`);
    out.push(`  Extra for spreading: ${f1(c2 - c1)} % of a core, i.e. ${((c2 - c1) / remote).toFixed(3)} % per remote participant (${remote} on node B); of it, node B's idle cost (no call) ${f1(idle)} %.`);
    out.push(`  Media threads busy: one node ${f1(m1)} %, two nodes together ${f1(m2)} % (${f1(m2 - m1)} % more); the rest of the processes (main threads: SIP, API, events; V8 helpers): ${f1(c1 - m1)} % vs ${f1(c2 - m2)} %.`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  console.log(`# cluster conference: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'} (nproc ${os.availableParallelism()}), Node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`# ${o.runs} run(s); warm-up ${o.warmupS} s, window ${o.windowS} s; nodes CONCLAVE_MEDIA_REALTIME=${o.realtime}; generators ${o.genRealtime > 0 ? `SCHED_FIFO ${o.genRealtime}` : 'normal scheduling'}; all on this machine`);
  if (o.genRealtime > 0 && nativeUdp !== null && nativeUdp.setRealtime(o.genRealtime) !== 0) throw new Error(`this process (the probes) could not get SCHED_FIFO ${o.genRealtime}`);
  const results: ScenarioResult[] = [];
  for (let run = 1; run <= o.runs; run++) {
    // Alternate the order (one, two; two, one; …) so that drift on the machine hits both alike.
    const order: Scenario[] = run % 2 === 1 ? ['one', 'two'] : ['two', 'one'];
    for (const scenario of order) {
      if (!o.only.has(scenario)) continue;
      const before = await quietSecond(o.quietWaitS);
      console.log(`# run ${run}, ${scenario === 'one' ? 'one node' : 'two nodes'} (machine ${before.toFixed(0)} % busy before)`);
      const r = await runScenario(scenario, run, o);
      r.busyBefore = before;
      results.push(r);
      for (const n of r.nodes) console.log(`${nodeLine(n)}  trunks: ${n.trunkLegs.join(', ') || 'none'}`);
      console.log(`  longest stall of the bench's own clock in the window: ${f0(r.benchStallMs)} ms; real-time spins of other processes: ${r.elsewhereSpins.episodes}`);
      const la = latencyFigures([r], 'A');
      const lb = latencyFigures([r], 'B');
      console.log(
        `  latency A→ same p50 ${f1(median(la.same))} other p50 ${f1(median(la.other))} extra p50 ${f1(median(la.extra))} p99 ${f1(quantile(la.extra, 0.99))} (missed ${la.missed}/${la.bursts}); ` +
          `B→ same p50 ${f1(median(lb.same))} other p50 ${f1(median(lb.other))} extra p50 ${f1(median(lb.extra))} p99 ${f1(quantile(lb.extra, 0.99))} (missed ${lb.missed}/${lb.bursts}); set-up ${r.setupS.toFixed(1)} s; machine ${f0(r.busy)} %`,
      );
    }
  }
  console.log('');
  console.log(summary(results));
  console.log('');
  console.log(`Node log lines (warnings and worse) by phase: ${[...nodeLog].map(([p, n]) => `${p}: ${n}`).join('; ') || 'none'}`);
}

await main();
