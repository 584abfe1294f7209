/**
 * WebRTC participants (issue 16): what a browser participant costs Conclave, beside a plain G.711
 * RTP participant in the same run, and whether 100 of them are carried cleanly.
 *
 *   npx tsx bench/webrtc-capacity.ts [--codec opus|pcmu] [--n 100] [--room 10] [--runs 2]
 *                                    [--window 20] [--warmup 3] [--idle 5] [--gen-procs 2]
 *                                    [--quiet-wait 30] [--realtime auto|off|N] [--gen-realtime 0]
 *                                    [--target conclave|self] [--kinds g711,webrtc]
 *
 * --target conclave (default): one Conclave node (bench/cluster-conference-node.ts: what
 * `conclave serve` runs, plus the media engine's stats over IPC) on a fresh SQLite file. A
 * number's VoiceUrl (a webhook receiver in this process) puts each caller in its room
 * (`<Dial><Conference beep="false">`), rooms of --room. Every participant is a real SIP call
 * over UDP from this process's user agent, whose INVITE carries the participant's offer:
 * - "webrtc": the offer of a werift RTCPeerConnection in a load generator child
 *   (bench/webrtc-loadgen.ts, --gen-procs processes sharing the participants: werift does SRTP
 *   in JavaScript), answered by Conclave's ICE-lite/DTLS-SRTP leg; the answer goes back to the
 *   peer, which connects (ICE, DTLS) and sends its tone in --codec;
 * - "g711": a plain RTP/AVP PCMU offer naming a socket of bench/media-loadgen.ts (the G.711
 *   capacity bench's generator, 172-byte PCMU every 20 ms).
 * Both kinds have the same plan: 2 talkers per room (bench/media-loadgen.ts's voices: 300 and
 * 410 Hz with a syllable envelope, 2 s of every 3), the rest near-silent noise. The two kinds run
 * one after the other on the same node, the order alternating from run to run, so that drift on
 * the machine hits both alike; each run pairs them as a ratio.
 *
 * Measured per phase, in a window after a warm-up: the node's process CPU (utime + stime of
 * /proc/<pid>/stat, % of one core) minus its CPU with no call (--idle window before the first
 * phase), divided by N = CPU per participant; the media threads' busy share (their event-loop
 * utilisation, summed over workers, from the engine's stats); late and skipped ticks (late = a
 * tick starting > 5 ms after its deadline, media-clock.ts) and the mean tick; at the
 * participants: packets per second per participant, received vs expected (the 20 ms slots
 * between a participant's first and last packet) and lost sequence numbers, inter-arrival gaps
 * (the WebRTC generator sees them in JS time, the G.711 one in kernel time), and — one listener
 * per WebRTC room decoding what it gets — whether the room's talkers' tones are heard; uplink
 * packets the engine accepted vs sent; the generators' own CPU and late ticks (a generator that
 * could not keep its 20 ms offers less load: "Generator sent vs N × 50/s"). "Clean" is
 * bench/media-capacity.ts's: < 0.1 % late ticks and < 0.1 % of the mix lost.
 *
 * --target self: no server. Each generator's peers are answered by werift peers in other
 * generator processes (both sides talk): what werift itself costs per peer, and a check of the
 * generator (connect, send, receive, hear) without Conclave.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import type { EngineStats } from '../src/media/protocol.js';
import { writeOffer } from '../src/sip/sdp/audio-session.js';
import { SipCombinedTransport } from '../src/sip/transport/combined-transport.js';
import type { SipCall } from '../src/sip/ua/call.js';
import { SipUserAgent } from '../src/sip/ua/user-agent.js';
import { answer, startReceiver, type Receiver } from '../test/helpers/webhook-receiver.js';
import type { NodeReady, NodeStatsReply } from './cluster-conference-node.js';
import type { GenReply, GenReport, GenRequest } from './media-ipc.js';
import { isMessage } from './protocol.js';
import { machine } from './report.js';
import type { PeerSpec, WebRtcBenchCodec, WGenReply, WGenReport, WGenRequest } from './webrtc-ipc.js';

const NUMBER = '+15005550160';
const TALKERS = [300, 410] as const;
/** WebRTC participants joining at once per generator. */
const BATCH = 10;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

type Kind = 'g711' | 'webrtc';

interface Options {
  codec: WebRtcBenchCodec;
  n: number;
  room: number;
  runs: number;
  windowS: number;
  warmupS: number;
  idleS: number;
  genProcs: number;
  quietWaitS: number;
  realtime: string;
  /** The generators' SCHED_FIFO priority (0 = normal scheduling), as media-capacity.ts --gen-realtime. */
  genRealtime: number;
  target: 'conclave' | 'self';
  kinds: Kind[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { codec: 'opus', n: 100, room: 10, runs: 2, windowS: 20, warmupS: 3, idleS: 5, genProcs: 2, quietWaitS: 30, realtime: 'auto', genRealtime: 0, target: 'conclave', kinds: ['g711', 'webrtc'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--codec') {
      if (v !== 'opus' && v !== 'pcmu') throw new Error('--codec opus|pcmu');
      o.codec = v;
    } else if (a === '--n') o.n = Number(v);
    else if (a === '--room') o.room = Number(v);
    else if (a === '--runs') o.runs = Number(v);
    else if (a === '--window') o.windowS = Number(v);
    else if (a === '--warmup') o.warmupS = Number(v);
    else if (a === '--idle') o.idleS = Number(v);
    else if (a === '--gen-procs') o.genProcs = Number(v);
    else if (a === '--quiet-wait') o.quietWaitS = Number(v);
    else if (a === '--realtime') o.realtime = v;
    else if (a === '--gen-realtime') o.genRealtime = Number(v);
    else if (a === '--target') {
      if (v !== 'conclave' && v !== 'self') throw new Error('--target conclave|self');
      o.target = v;
    } else if (a === '--kinds') {
      const kinds = v.split(',').filter((k) => k !== '');
      if (!kinds.every((k): k is Kind => k === 'g711' || k === 'webrtc')) throw new Error('--kinds g711,webrtc');
      o.kinds = kinds;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(Number.isInteger(o.n) && o.n >= 2 && o.n <= 1000 && o.room >= 2 && o.runs >= 1 && o.genProcs >= 1 && o.genProcs <= 8)) throw new Error('bad --n/--room/--runs/--gen-procs');
  if (!(o.windowS > 0 && o.windowS <= 120 && o.warmupS >= 0 && o.idleS >= 0)) throw new Error('bad --window/--warmup/--idle');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Child processes: the node and the generators.

/** A forked child answering one request at a time with a reply of the expected type (or `error`). */
class Child<Req extends { type: string }, Rep extends { type: string }> {
  private stopping = false;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.once('exit', (code, signal) => {
      if (!this.stopping) console.log(`  [${name}] EXITED unexpectedly (code ${code ?? 'none'}, signal ${signal ?? 'none'})`);
    });
  }

  static fork<Req extends { type: string }, Rep extends { type: string }>(name: string, script: string, args: string[] = [], env?: NodeJS.ProcessEnv): Child<Req, Rep> {
    const file = fileURLToPath(new URL(script, import.meta.url));
    const child = fork(file, args, { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(env ? { env } : {}) });
    return new Child<Req, Rep>(name, child);
  }

  get pid(): number {
    return this.process.pid!;
  }

  request<T extends Rep['type']>(msg: Req, reply: T, timeoutMs = 120_000): Promise<Extract<Rep, { type: T }>> {
    const child = this.process;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no ${reply} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: { type: string; message?: string }): void => {
        if (m.type === 'error') {
          cleanup();
          reject(new Error(`${this.name}: ${msg.type} failed: ${m.message ?? '?'}`));
        } else if (m.type === reply) {
          cleanup();
          resolve(m as Extract<Rep, { type: T }>);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`${this.name} exited (${code ?? 'signal'})`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(msg);
    });
  }

  /** Disconnects (the child closes what it has and exits); SIGKILL after `graceMs`. */
  stop(graceMs = 10_000, message?: object): Promise<void> {
    const child = this.process;
    this.stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (message && child.connected) child.send(message);
      else if (child.connected) child.disconnect();
      else child.kill('SIGTERM');
    });
  }
}

type NodeChild = Child<{ type: 'stats' }, NodeStatsReply>;
type WebRtcGen = Child<WGenRequest, WGenReply>;
type G711Gen = Child<GenRequest, GenReply>;

async function startNode(env: Record<string, string>): Promise<{ node: NodeChild; ready: NodeReady }> {
  const node = Child.fork<{ type: 'stats' }, NodeStatsReply>('node', './cluster-conference-node.ts', [], {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...env,
  });
  const ready = await new Promise<NodeReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the node did not start within 60 s')), 60_000);
    node.process.on('message', (m) => {
      if (!isMessage<NodeReady>(m, 'ready')) return;
      clearTimeout(timer);
      resolve(m);
    });
    node.process.once('exit', (code) => reject(new Error(`the node exited before it was ready (${code ?? 'signal'})`)));
  });
  return { node, ready };
}

// ---------------------------------------------------------------------------------------------
// /proc.

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
function processCpuS(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function machineTimes(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

const busyPct = (a: { busy: number; total: number }, b: { busy: number; total: number }): number =>
  b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : 0;

/** Waits (up to `maxS`) for a second in which the machine is < 10 % busy; returns how busy the last second was. */
async function quietSecond(maxS: number): Promise<number> {
  for (const end = Date.now() + maxS * 1000; ; ) {
    const a = machineTimes();
    await sleep(1000);
    const busy = busyPct(a, machineTimes());
    if (busy < 10 || Date.now() > end) return busy;
  }
}

// ---------------------------------------------------------------------------------------------
// SIP callers: one user agent, an INVITE per participant with the SDP it was given.

class Callers {
  private readonly calls: SipCall[] = [];

  private constructor(
    private readonly transport: SipCombinedTransport,
    private readonly ua: SipUserAgent,
    private readonly sipPort: number,
  ) {}

  static async open(sipPort: number): Promise<Callers> {
    const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });
    return new Callers(transport, new SipUserAgent({ transport, address: transport.address }), sipPort);
  }

  /** Calls the number as `user` (its room is in the name) offering `sdp`; resolves with the answer's SDP. */
  dial(user: string, sdp: string): Promise<string> {
    const call = this.ua.invite({
      to: `sip:${NUMBER}@127.0.0.1:${this.sipPort}`,
      from: `sip:${user}@127.0.0.1:${this.transport.address.port}`,
      sdpOffer: sdp,
      timeoutMs: 30_000,
    });
    this.calls.push(call);
    return new Promise((resolve, reject) => {
      call.on('answered', (a) => resolve(a.sdp));
      call.on('failed', (f) => reject(new Error(`call from ${user} failed: ${f.status} ${f.reason}`)));
    });
  }

  /** Dials every offer, `batch` at a time. */
  async dialAll(users: string[], sdps: string[], batch = 10): Promise<string[]> {
    const out = new Array<string>(sdps.length).fill('');
    for (let b = 0; b < sdps.length; b += batch) {
      await Promise.all(sdps.slice(b, b + batch).map(async (sdp, j) => (out[b + j] = await this.dial(users[b + j]!, sdp))));
    }
    return out;
  }

  /** BYE to every call still up; resolves once all ended (or 10 s passed). */
  async hangupAll(): Promise<void> {
    for (const call of this.calls) if (!call.ended) call.hangup();
    for (const end = Date.now() + 10_000; Date.now() < end && this.calls.some((c) => !c.ended); ) await sleep(50);
    this.calls.length = 0;
  }

  async close(): Promise<void> {
    this.ua.close();
    await this.transport.close();
  }
}

/** The audio port of a plain SDP answer (RFC 4566 m= line). */
function audioPort(sdp: string): number {
  const m = /^m=audio (\d+) /m.exec(sdp);
  if (!m) throw new Error(`no m=audio in the answer: ${sdp.slice(0, 200)}`);
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------
// The plan: rooms of --room, 2 talkers each, one listener per room decoding (WebRTC).

interface Plan {
  rooms: number;
  /** The caller's SIP user: kind, room and index (the webhook puts it in the room). */
  users: string[];
  specs: PeerSpec[];
  voices: number[];
}

function plan(kind: Kind, n: number, roomSize: number): Plan {
  const users: string[] = [];
  const specs: PeerSpec[] = [];
  const voices: number[] = [];
  let rooms = 0;
  for (let i = 0, r = 0; i < n; r++, rooms++) {
    const size = Math.min(roomSize, n - i);
    const talkers = TALKERS.slice(0, Math.min(TALKERS.length, size - 1));
    for (let k = 0; k < size; k++, i++) {
      const voice = talkers[k] ?? 0;
      users.push(`${kind}-r${r}-p${k}`);
      voices.push(voice);
      // The room's last participant listens for its talkers.
      specs.push({ voice, hear: k === size - 1 && voice === 0 ? [...talkers] : null });
    }
  }
  return { rooms, users, specs, voices };
}

/** Splits `items` into `k` contiguous shares (the generators' participants). */
function shares<T>(items: T[], k: number): T[][] {
  const out: T[][] = [];
  const per = Math.ceil(items.length / k);
  for (let i = 0; i < items.length; i += per) out.push(items.slice(i, i + per));
  return out;
}

// ---------------------------------------------------------------------------------------------
// One phase.

interface Row {
  kind: Kind;
  codec: string;
  run: number;
  n: number;
  setupS: number;
  connected: number;
  /** Node process CPU in the window, and the same minus its idle CPU, % of one core. */
  cpu: number;
  cpuLessIdle: number;
  mediaBusy: number;
  threadBusy: number[];
  ticks: number;
  latePct: number;
  skipped: number;
  tickMeanMs: number;
  /** Per participant, packets per second accepted and sent by the engine, and received at the participants. */
  upPps: number;
  downPps: number;
  rxPps: number;
  rxPct: number;
  seqLostPct: number;
  uplinkPct: number;
  offeredPct: number;
  gapP999: number;
  gapMax: number;
  lateGapPct: number;
  listeners: number;
  heard: number;
  toneShare: number;
  undecodable: number;
  genCpu: number[];
  genLatePct: number;
  busy: number;
  busyBefore: number;
  rssMb: number;
}

const clean = (r: Row): boolean => r.latePct < 0.1 && 100 - r.rxPct < 0.1 && r.connected === r.n;

interface Ctx {
  o: Options;
  node: NodeChild | null;
  nodePid: number;
  idleCpu: number;
  callers: Callers | null;
}

function workerBusy(s0: EngineStats, s1: EngineStats): number[] {
  const w0 = s0.workers ?? [];
  return (s1.workers ?? []).map((w, k) => {
    const a = w.elu.activeMs - (w0[k]?.elu.activeMs ?? 0);
    const idle = w.elu.idleMs - (w0[k]?.elu.idleMs ?? 0);
    return a + idle > 0 ? (100 * a) / (a + idle) : 0;
  });
}

async function nodeStats(ctx: Ctx): Promise<EngineStats | null> {
  return ctx.node ? (await ctx.node.request({ type: 'stats' }, 'stats', 10_000)).stats : null;
}

/** Waits until the engine has `n` legs (every call joined its room). */
async function untilLegs(ctx: Ctx, n: number): Promise<void> {
  if (!ctx.node) return;
  for (const end = Date.now() + 60_000; ; ) {
    const s = (await nodeStats(ctx))!;
    if (s.legs.length >= n) return;
    if (Date.now() > end) throw new Error(`only ${s.legs.length} of ${n} legs in the engine after 60 s`);
    await sleep(200);
  }
}

/** The window's figures of either generator kind, in one shape (the WebRTC generator's report's, and its CPU share). */
type GenFigures = Pick<
  WGenReport,
  'windowMs' | 'received' | 'expected' | 'seqLost' | 'sentWindow' | 'sentTotal' | 'gapP999Ms' | 'gapMaxMs' | 'lateGapShare' | 'listeners' | 'heard' | 'toneShare' | 'undecodable' | 'genTicks' | 'genLateTicks'
> & { cpuPct: number };

function g711Figures(r: GenReport): GenFigures {
  return {
    windowMs: r.windowMs,
    received: r.received,
    expected: r.expected,
    seqLost: Math.max(0, r.expected - r.received),
    sentWindow: r.sentWindow,
    sentTotal: r.sentTotal,
    gapP999Ms: r.gapP999Ms,
    gapMaxMs: r.gapMaxMs,
    lateGapShare: Number.NaN,
    listeners: 0,
    heard: 0,
    toneShare: Number.NaN,
    undecodable: 0,
    genTicks: r.genTicks,
    genLateTicks: r.genLateTicks,
    cpuPct: (100 * (r.cpuUserMs + r.cpuSystemMs)) / r.windowMs,
  };
}

function webrtcFigures(r: WGenReport): GenFigures {
  return { ...r, cpuPct: (100 * (r.cpuUserMs + r.cpuSystemMs)) / r.windowMs };
}

async function runPhase(ctx: Ctx, kind: Kind, run: number): Promise<Row> {
  const { o } = ctx;
  const busyBefore = await quietSecond(o.quietWaitS);
  const p = plan(kind, o.n, o.room);
  const t0 = performance.now();
  let measure: () => Promise<GenFigures[]>;
  let startAll: () => Promise<void>;
  let closeAll: () => Promise<void>;
  let connected = o.n;
  if (kind === 'g711') {
    const gen: G711Gen = Child.fork('g711 generator', './media-loadgen.ts', [String(o.genRealtime)]);
    const { ports } = await gen.request({ type: 'open', voices: p.voices, legsPerSocket: 1 }, 'opened');
    const answers = await ctx.callers!.dialAll(p.users, ports.map((port, i) => writeOffer({ address: '127.0.0.1', port, sessionId: String(2000 + i), sessionVersion: 1 })));
    await untilLegs(ctx, o.n);
    startAll = async () => void (await gen.request({ type: 'start', targets: answers.map(audioPort) }, 'started'));
    measure = async () => {
      await gen.request({ type: 'mark' }, 'marked');
      await sleep(o.windowS * 1000);
      return [g711Figures(await gen.request({ type: 'stop' }, 'report'))];
    };
    closeAll = async () => {
      await gen.request({ type: 'close' }, 'closed').catch(() => undefined);
      await gen.stop();
    };
  } else {
    const specShares = shares(p.specs, o.genProcs);
    const userShares = shares(p.users, o.genProcs);
    const gens: WebRtcGen[] = specShares.map((_, k) => Child.fork(`webrtc generator ${k}`, './webrtc-loadgen.ts', [String(o.genRealtime)]));
    // --target self: each generator's peers are answered by the next generator's (a ring), so
    // every process both offers and answers and the load stays even.
    const answerers: WebRtcGen[] = o.target === 'self' ? specShares.map((_, k) => Child.fork(`webrtc answerer ${k}`, './webrtc-loadgen.ts', [String(o.genRealtime)])) : [];
    const all = [...gens, ...answerers];
    // Participants join BATCH at a time per generator (offer, answer, ICE and DTLS done before
    // the next batch), as browsers arrive: 100 DTLS handshakes at once in JavaScript on a
    // loaded 2-core machine time out.
    const conn = await Promise.all(
      gens.map(async (g, k) => {
        const specs = specShares[k]!;
        let connectedHere = 0;
        for (let b = 0; b < specs.length; b += BATCH) {
          const batch = specs.slice(b, b + BATCH);
          const offers = (await g.request({ type: 'offer', codec: o.codec, peers: batch }, 'offers')).sdps;
          let answers: string[];
          if (o.target === 'self') {
            // The listeners' partners talk (410 Hz, one of the tones they listen for), the rest are near-silent.
            const partner = batch.map((s): PeerSpec => ({ voice: s.hear !== null ? TALKERS[1] : 0, hear: null }));
            answers = (await answerers[k]!.request({ type: 'answer', codec: o.codec, peers: partner, offers }, 'answers')).sdps;
          } else answers = await ctx.callers!.dialAll(userShares[k]!.slice(b, b + BATCH), offers);
          if (process.env.BENCH_TRACE === '1') {
            const ice = (sdp: string): string => `${/a=ice-ufrag:(\S+)/.exec(sdp)?.[1] ?? '?'} ${/^m=audio (\d+)/m.exec(sdp)?.[1] ?? '?'} ${/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/.exec(sdp)?.[1] ?? '?'}`;
            offers.forEach((sdp, i) => console.log(`  peer ${b + i}: offer ${ice(sdp)}, answer ${ice(answers[i]!)}`));
          }
          await g.request({ type: 'accept', answers }, 'accepted');
          connectedHere = (await g.request({ type: 'await', timeoutMs: 20_000 }, 'connected')).connected;
        }
        return connectedHere;
      }),
    );
    connected = conn.reduce((x, c) => x + c, 0);
    if (connected < o.n) console.log(`  only ${connected} of ${o.n} WebRTC participants connected (ICE + DTLS)`);
    await untilLegs(ctx, o.n);
    startAll = async () => void (await Promise.all(all.map((g) => g.request({ type: 'start' }, 'started'))));
    measure = async () => {
      await Promise.all(all.map((g) => g.request({ type: 'mark' }, 'marked')));
      await sleep(o.windowS * 1000);
      const reports = await Promise.all(all.map((g) => g.request({ type: 'stop' }, 'report')));
      // Self-test: the answerers' CPU counts as generator CPU; their reception is the offerers' mirror.
      return reports.map(webrtcFigures);
    };
    closeAll = async () => {
      await Promise.all(all.map((g) => g.request({ type: 'close' }, 'closed').catch(() => undefined)));
      await Promise.all(all.map((g) => g.stop()));
    };
  }
  const setupS = (performance.now() - t0) / 1000;
  try {
    await startAll();
    await sleep(o.warmupS * 1000);
    const s0 = await nodeStats(ctx);
    const cpu0 = ctx.node ? processCpuS(ctx.nodePid) : 0;
    const m0 = machineTimes();
    const w0 = performance.now();
    const figures = await measure();
    const wallS = (performance.now() - w0) / 1000;
    const cpu1 = ctx.node ? processCpuS(ctx.nodePid) : 0;
    const m1 = machineTimes();
    const s1 = await nodeStats(ctx);
    const rss = ctx.node ? rssMb(ctx.nodePid) : Number.NaN;
    // The participants' side: the offering generators (in self-test, the answerers mirror them).
    const side = o.target === 'self' && kind === 'webrtc' ? figures.slice(0, Math.ceil(figures.length / 2)) : figures;
    const sum = (k: keyof GenFigures): number => side.reduce((x, f) => x + f[k], 0);
    const windowMs = Math.max(...side.map((f) => f.windowMs));
    let upIn = 0;
    let downOut = 0;
    let ticks = 0;
    let late = 0;
    let skipped = 0;
    let tickMeanMs = 0;
    let threadBusy: number[] = [];
    if (s0 && s1) {
      const before = new Map(s0.legs.map((l) => [l.legId, l]));
      for (const l of s1.legs) {
        upIn += l.packetsIn - (before.get(l.legId)?.packetsIn ?? 0);
        downOut += l.packetsOut - (before.get(l.legId)?.packetsOut ?? 0);
      }
      ticks = s1.ticks - s0.ticks;
      late = s1.lateTicks - s0.lateTicks;
      skipped = s1.skippedTicks - s0.skippedTicks;
      tickMeanMs = ticks > 0 ? (s1.tickMeanUs * s1.ticks - s0.tickMeanUs * s0.ticks) / ticks / 1000 : 0;
      threadBusy = workerBusy(s0, s1);
    }
    const cpu = ctx.node ? (100 * (cpu1 - cpu0)) / wallS : Number.NaN;
    const genTicks = figures.reduce((x, f) => x + f.genTicks, 0);
    return {
      kind,
      codec: kind === 'g711' ? 'PCMU (RTP)' : `${o.codec === 'opus' ? 'Opus' : 'PCMU'} (WebRTC)`,
      run,
      n: o.n,
      setupS,
      connected,
      cpu,
      cpuLessIdle: cpu - ctx.idleCpu,
      mediaBusy: threadBusy.reduce((a, b) => a + b, 0),
      threadBusy,
      ticks,
      latePct: ticks > 0 ? (100 * late) / ticks : 0,
      skipped,
      tickMeanMs,
      rxPps: (1000 * sum('received')) / windowMs / o.n,
      upPps: ctx.node ? upIn / wallS / o.n : Number.NaN,
      downPps: ctx.node ? downOut / wallS / o.n : Number.NaN,
      rxPct: sum('expected') > 0 ? (100 * sum('received')) / sum('expected') : 0,
      seqLostPct: sum('received') + sum('seqLost') > 0 ? (100 * sum('seqLost')) / (sum('received') + sum('seqLost')) : 0,
      uplinkPct: ctx.node && sum('sentWindow') > 0 ? (100 * upIn) / sum('sentWindow') : Number.NaN,
      offeredPct: (100 * sum('sentWindow')) / ((o.n * windowMs) / 20),
      gapP999: Math.max(...side.map((f) => f.gapP999Ms)),
      gapMax: Math.max(...side.map((f) => f.gapMaxMs)),
      lateGapPct: 100 * (side.reduce((x, f) => x + f.lateGapShare * f.received, 0) / Math.max(1, sum('received'))),
      listeners: sum('listeners'),
      heard: sum('heard'),
      undecodable: sum('undecodable'),
      toneShare: sum('listeners') > 0 ? side.reduce((x, f) => x + f.toneShare * f.listeners, 0) / sum('listeners') : Number.NaN,
      genCpu: figures.map((f) => f.cpuPct),
      genLatePct: genTicks > 0 ? (100 * figures.reduce((x, f) => x + f.genLateTicks, 0)) / genTicks : 0,
      busy: busyPct(m0, m1),
      busyBefore,
      rssMb: rss,
    };
  } finally {
    await ctx.callers?.hangupAll();
    await closeAll();
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '—');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');
const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');
const pct = (x: number, d = 2): string => (Number.isFinite(x) ? `${x.toFixed(d)} %` : '—');

function median(values: number[]): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const HEAD =
  '| Run | Participants | N | Connected | Node CPU, % of a core (less idle) | Per connected participant | Media threads busy | Late ticks | Skipped | Mean tick | Packets/s per participant: engine in / engine out / received | Mix received vs expected | Lost (seq) | Gaps > 40 ms | p99.9 / max gap | Uplink accepted | Generator sent vs N × 50/s | Tone heard (listeners, share of frames) | Generator CPU (late ticks) | Machine busy (before) | RSS | |\n' +
  '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';

function line(r: Row): string {
  const tone = r.listeners > 0 ? `${r.heard}/${r.listeners} (${pct(100 * r.toneShare, 0)}${r.undecodable > 0 ? `, ${r.undecodable} undecodable` : ''})` : '—';
  const gen = `${r.genCpu.map((c) => `${f0(c)} %`).join(' + ')} (${pct(r.genLatePct, 1)})`;
  return `| ${r.run} | ${r.codec} | ${r.n} | ${r.connected} | ${f0(r.cpu)} % (${f0(r.cpuLessIdle)} %) | ${f3(r.cpuLessIdle / r.connected)} % | ${f0(r.mediaBusy)} % (${r.threadBusy.map((b) => f0(b)).join(' + ')}) | ${pct(r.latePct)} | ${r.skipped} | ${f2(r.tickMeanMs)} ms | ${f1(r.upPps)} / ${f1(r.downPps)} / ${f1(r.rxPps)} | ${pct(r.rxPct, 3)} | ${pct(r.seqLostPct, 3)} | ${pct(r.lateGapPct, 2)} | ${f1(r.gapP999)} / ${f1(r.gapMax)} ms | ${pct(r.uplinkPct, 3)} | ${pct(r.offeredPct)} | ${tone} | ${gen} | ${f0(r.busy)} % (${f0(r.busyBefore)} %) | ${f0(r.rssMb)} MB | ${clean(r) ? 'clean' : 'NOT clean'} |`;
}

function summary(rows: Row[], o: Options): string {
  const out = [HEAD, ...rows.map(line)];
  if (o.target === 'self') return out.join('\n');
  out.push('', '| Run | WebRTC / G.711 per connected participant: node CPU less idle | Media threads busy | Mean tick (whole phase) |', '|---:|---:|---:|---:|');
  const ratios: { cpu: number; busy: number; tick: number }[] = [];
  const each = (r: Row, k: 'cpuLessIdle' | 'mediaBusy'): number => r[k] / r.connected;
  for (let run = 1; run <= o.runs; run++) {
    const g = rows.find((r) => r.run === run && r.kind === 'g711');
    const w = rows.find((r) => r.run === run && r.kind === 'webrtc');
    if (!g || !w) continue;
    const r = { cpu: each(w, 'cpuLessIdle') / each(g, 'cpuLessIdle'), busy: each(w, 'mediaBusy') / each(g, 'mediaBusy'), tick: w.tickMeanMs / g.tickMeanMs };
    ratios.push(r);
    out.push(
      `| ${run} | ${f3(each(w, 'cpuLessIdle'))} % / ${f3(each(g, 'cpuLessIdle'))} % = ${f2(r.cpu)} | ${f3(each(w, 'mediaBusy'))} % / ${f3(each(g, 'mediaBusy'))} % = ${f2(r.busy)} | ${f2(w.tickMeanMs)} / ${f2(g.tickMeanMs)} ms = ${f2(r.tick)} |`,
    );
  }
  const per = (kind: Kind, k: 'cpuLessIdle' | 'mediaBusy'): number => median(rows.filter((r) => r.kind === kind).map((r) => each(r, k)));
  out.push(
    '',
    `Medians over ${o.runs} run(s), per connected participant: node CPU (less idle) WebRTC ${f3(per('webrtc', 'cpuLessIdle'))} % of a core vs G.711 ${f3(per('g711', 'cpuLessIdle'))} % — ratio ${f2(median(ratios.map((r) => r.cpu)))}; ` +
      `media threads busy WebRTC ${f3(per('webrtc', 'mediaBusy'))} % vs G.711 ${f3(per('g711', 'mediaBusy'))} % — ratio ${f2(median(ratios.map((r) => r.busy)))}. Node idle (no call): ${f1(rows[0] ? rows[0].cpu - rows[0].cpuLessIdle : Number.NaN)} % of a core.`,
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  console.log(`# webrtc capacity: ${machine()}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
  console.log(
    `# target ${o.target}; ${o.n} participants of each kind in rooms of ${o.room} (2 talkers each); WebRTC codec ${o.codec}; ${o.genProcs} WebRTC generator process(es); ${o.runs} run(s); warm-up ${o.warmupS} s, window ${o.windowS} s; node CONCLAVE_MEDIA_REALTIME=${o.realtime}; generators ${o.genRealtime > 0 ? `SCHED_FIFO ${o.genRealtime}` : 'normal scheduling'}`,
  );
  const rows: Row[] = [];
  const owner = { accountSid: newSid('AC'), authToken: newAuthToken() };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-bench-webrtc-'));
  let node: NodeChild | null = null;
  let receiver: Receiver | null = null;
  const ctx: Ctx = { o, node: null, nodePid: 0, idleCpu: 0, callers: null };
  try {
    if (o.target === 'conclave') {
      receiver = await startReceiver((request, response) => {
        const from = String(request.params.From ?? '');
        const room = /(g711|webrtc)-r(\d+)-/.exec(from);
        if (request.path.startsWith('/voice') && room) answer(response, 200, 'text/xml', `<Response><Dial><Conference beep="false">${room[1]}-${room[2]}</Conference></Dial></Response>`);
        else answer(response, request.path.startsWith('/voice') ? 200 : 204, 'text/xml', request.path.startsWith('/voice') ? '<Response><Reject/></Response>' : '');
      });
      const started = await startNode({
        CONCLAVE_DATABASE: path.join(dir, 'conclave.sqlite'),
        CONCLAVE_HTTP_PORT: '0',
        CONCLAVE_SIP_PORT: '0',
        CONCLAVE_RTP_PORTS: '20000-29999',
        CONCLAVE_RTP_TIMEOUT: '0',
        CONCLAVE_ACCOUNT_SID: owner.accountSid,
        CONCLAVE_AUTH_TOKEN: owner.authToken,
        CONCLAVE_MEDIA_REALTIME: o.realtime,
        CONCLAVE_LOG_LEVEL: 'warn',
      });
      node = started.node;
      ctx.node = node;
      ctx.nodePid = started.ready.pid;
      const res = await fetch(`${started.ready.baseUrl}/2010-04-01/Accounts/${owner.accountSid}/IncomingPhoneNumbers.json`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${owner.accountSid}:${owner.authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ PhoneNumber: NUMBER, VoiceUrl: `${receiver.baseUrl}/voice` }).toString(),
      });
      if (res.status !== 201) throw new Error(`registering ${NUMBER}: ${res.status} ${await res.text()}`);
      ctx.callers = await Callers.open(started.ready.sipPort);
      await quietSecond(o.quietWaitS);
      const c0 = processCpuS(ctx.nodePid);
      const t0 = performance.now();
      await sleep(o.idleS * 1000);
      ctx.idleCpu = (100 * (processCpuS(ctx.nodePid) - c0)) / ((performance.now() - t0) / 1000);
      const workers = (await nodeStats(ctx))?.workers ?? [];
      console.log(`# node idle (no call): ${f1(ctx.idleCpu)} % of a core; ${workers.length} media worker(s), UDP ${workers[0]?.udp ?? '?'}, ${workers.every((w) => w.realtime) ? 'SCHED_FIFO' : 'normal scheduling'}`);
    }
    for (let run = 1; run <= o.runs; run++) {
      const kinds: Kind[] = o.target === 'self' ? ['webrtc'] : run % 2 === 1 ? ['g711', 'webrtc'] : ['webrtc', 'g711'];
      for (const kind of kinds.filter((k) => o.kinds.includes(k))) {
        const row = await runPhase(ctx, kind, run);
        rows.push(row);
        console.log(line(row));
      }
    }
  } finally {
    await ctx.callers?.close();
    await node?.stop(30_000, { type: 'stop' });
    await receiver?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('');
  console.log(summary(rows, o));
}

await main();
