/**
 * Media plane capacity: how many G.711 participants the media worker mixes on this machine with
 * < 0.1 % late ticks and < 0.1 % lost packets, the load generator included.
 *
 *   npx tsx bench/media-capacity.ts [--steps 200,400,600,800,1000,1200] [--big-steps 250,1000]
 *                                   [--warmup 2] [--window 8] [--legs-per-socket 1] [--workers N]
 *                                   [--nice -10] [--realtime 10] [--gen-realtime 10] [--udp native|dgram] [--quiet-wait 120]
 *                                   [--record off|on|compare]
 *
 * This process runs the media plane as production will: MediaClient starting its media worker
 * threads (from source under tsx; --workers, default one per core) and sharding rooms over them. The load generator (bench/media-loadgen.ts) is a separate
 * child process on the same machine, one UDP socket per participant on 127.0.0.1 unless
 * --legs-per-socket says otherwise. Each step builds fresh rooms and legs, warms up, then
 * measures one window:
 * - late / skipped ticks: the engine's `stats` (deltas over the window, all workers; a tick is
 *   late when it starts > 5 ms after its deadline, media-clock.ts);
 * - mix packets received vs expected and p99.9 inter-arrival gap at the load generator;
 * - uplink: packets the engine accepted vs packets the generator sent (whole step, after drain);
 * - CPU of this process (media workers + idle main thread) and of the generator (cpuUsage
 *   deltas, % of one core), each media thread's event-loop utilisation (its busy share of a
 *   core), and how busy the whole machine was (/proc/stat).
 * Series "rooms of 10" (N/10 rooms, 2 talkers each) and "one room of 250" (a 250-leg room with
 * 3 talkers, the rest of N in rooms of 10). A series stops early once far past overload.
 *
 * --record on: every room is recorded (issue 13) as the app records a conference: a tap on its
 * mix whose batches this process appends to one file per room with fs write streams, so the
 * thread hop and the writing are in the media process's CPU; the row says how much audio came
 * vs the rooms × the window. --record compare: every step twice, without and with recording,
 * the order alternating from step to step, and a ratio row after each pair.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MEDIA_CONFIG } from '../src/config.js';
import { MediaClient } from '../src/media/media-client.js';
import type { EngineStats } from '../src/media/protocol.js';
import type { GenReply, GenReport, GenRequest } from './media-ipc.js';

interface Options {
  steps: number[];
  bigSteps: number[];
  warmupS: number;
  windowS: number;
  legsPerSocket: number;
  workers: number | undefined;
  nice: number | undefined;
  /** The media threads' SCHED_FIFO priority (default: the server's, config.ts); 0 = normal. */
  realtime: number;
  genRealtime: number;
  udp: 'native' | 'dgram' | undefined;
  quietWaitS: number;
  record: 'off' | 'on' | 'compare';
}

function parseArgs(argv: string[]): Options {
  const o: Options = { steps: [200, 400, 600, 800, 1000, 1200], bigSteps: [250, 1000], warmupS: 2, windowS: 8, legsPerSocket: 1, workers: undefined, nice: undefined, realtime: DEFAULT_MEDIA_CONFIG.realtimePriority, genRealtime: 0, udp: undefined, quietWaitS: 0, record: 'off' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    const list = (s: string | undefined): number[] => (s ?? '').split(',').filter((x) => x !== '').map(Number);
    if (a === '--steps') o.steps = list(v);
    else if (a === '--big-steps') o.bigSteps = list(v);
    else if (a === '--warmup') o.warmupS = Number(v);
    else if (a === '--window') o.windowS = Number(v);
    else if (a === '--legs-per-socket') o.legsPerSocket = Math.max(1, Number(v));
    else if (a === '--workers') o.workers = Math.max(1, Number(v));
    else if (a === '--nice') o.nice = Number(v);
    else if (a === '--realtime') o.realtime = Number(v);
    else if (a === '--gen-realtime') o.genRealtime = Number(v);
    else if (a === '--udp') {
      if (v !== 'native' && v !== 'dgram') throw new Error('--udp native|dgram');
      o.udp = v;
    }
    else if (a === '--quiet-wait') o.quietWaitS = Number(v);
    else if (a === '--record') {
      if (v !== 'off' && v !== 'on' && v !== 'compare') throw new Error('--record off|on|compare');
      o.record = v;
    }
    else throw new Error(`unknown argument ${a}`);
    i++;
  }
  for (const n of [...o.steps, ...o.bigSteps]) if (!Number.isInteger(n) || n < 10 || n > 5000) throw new Error(`bad step ${n}`);
  if (!(o.windowS > 0 && o.windowS <= 60 && o.warmupS >= 0 && o.warmupS <= 30)) throw new Error('bad --window/--warmup');
  return o;
}

/** The load generator child, one request at a time. */
class Generator {
  private constructor(private readonly child: ChildProcess) {}

  /** `realtime` > 0: the generator's thread runs under SCHED_FIFO at that priority. */
  static start(realtime: number): Generator {
    const file = fileURLToPath(new URL('./media-loadgen.ts', import.meta.url));
    const child = fork(file, [String(realtime)], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Generator(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
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

/** Total, idle, softirq and steal jiffies of all CPUs (loopback UDP is mostly softirq work). */
function cpuTimes(): { total: number; idle: number; softirq: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), idle, softirq: f[6] ?? 0, steal: f[7] ?? 0 };
}

type Layout = 'rooms10' | 'big250';

interface Plan {
  rooms: { id: string; size: number; talkers: number }[];
  voices: number[];
}

function plan(n: number, layout: Layout): Plan {
  const rooms: Plan['rooms'] = [];
  let left = n;
  if (layout === 'big250') {
    const size = Math.min(250, left);
    rooms.push({ id: 'big', size, talkers: 3 });
    left -= size;
  }
  for (let r = 0; left > 0; r++) {
    const size = Math.min(10, left);
    rooms.push({ id: `r${r}`, size, talkers: 2 });
    left -= size;
  }
  const voices: number[] = [];
  for (const room of rooms) for (let i = 0; i < room.size; i++) voices.push(i < room.talkers ? 300 + 110 * i : 0);
  return { rooms, voices };
}

interface Row {
  series: string;
  /** Whether every room was recorded, and the audio that came vs rooms × window (1 = all). */
  recorded: number | null;
  n: number;
  rooms: number;
  ticks: number;
  latePct: number;
  skipped: number;
  maxLateMs: number;
  tickMeanUs: number;
  rxPct: number;
  uplinkPct: number;
  /** Packets the generator sent in the window vs N × 50 per second: the load really offered. */
  offeredPct: number;
  p999: number;
  gapMax: number;
  mediaCpu: number;
  genCpu: number;
  busy: number;
  genLatePct: number;
  /** Each media thread's busy share of a core over the window (event-loop utilisation). */
  threadBusy: number[];
  worstWorkerLatePct: number;
  /** How busy the machine was in the second before the step, with our processes idle. */
  bgBusy: number;
  rssMb: number;
  /** Softirq and steal shares of the machine in the window. */
  softirq: number;
  steal: number;
}

/**
 * Every room recorded as the app does it: a tap on the room's mix, its batches appended to a
 * file per room by this (the main) thread. Counts the samples that came, for the window.
 */
class Recorders {
  samples = 0;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'conclave-bench-rec-'));
  private readonly files = new Map<string, WriteStream>();
  private readonly onBatch = (n: { tapId: string; pcm: Int16Array }): void => {
    this.samples += n.pcm.length;
    this.files.get(n.tapId)?.write(new Uint8Array(n.pcm.buffer, n.pcm.byteOffset, n.pcm.byteLength));
  };

  constructor(private readonly client: MediaClient) {
    client.on('recorded', this.onBatch);
  }

  async start(roomIds: string[]): Promise<void> {
    for (const roomId of roomIds) {
      this.files.set(roomId, createWriteStream(path.join(this.dir, `${roomId}.pcm`)));
      await this.client.request('startRecording', { tapId: roomId, target: { roomId }, channels: 1, track: 'both' });
    }
  }

  /** Stops every tap (its last batch arrives before the reply), closes the files and removes them. */
  async close(): Promise<void> {
    for (const roomId of this.files.keys()) await this.client.request('stopRecording', { tapId: roomId, target: { roomId } });
    this.client.off('recorded', this.onBatch);
    await Promise.all(
      [...this.files.values()].map(async (file) => {
        file.end();
        await once(file, 'close');
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function runStep(client: MediaClient, gen: Generator, n: number, layout: Layout, o: Options, record: boolean): Promise<Row> {
  const p = plan(n, layout);
  // Other work on the shared machine skews everything: wait (up to --quiet-wait s) for a second
  // in which the machine is < 10 % busy with our processes idle, and record how busy it was.
  let bgBusy = 100;
  for (const end = Date.now() + o.quietWaitS * 1000; ; ) {
    const b0 = cpuTimes();
    await sleep(1000);
    const b1 = cpuTimes();
    bgBusy = b1.total > b0.total ? (100 * (b1.total - b0.total - (b1.idle - b0.idle))) / (b1.total - b0.total) : 0;
    if (bgBusy < 10 || Date.now() > end) break;
  }
  const { ports } = await gen.request({ type: 'open', voices: p.voices, legsPerSocket: o.legsPerSocket }, 'opened');
  const targets: number[] = new Array<number>(n).fill(0);
  let i = 0;
  // Room by room, as conferences fill up: MediaClient places each new room on the worker with
  // the fewest legs, so creating all rooms first would balance rooms, not legs.
  for (const room of p.rooms) {
    await client.request('createRoom', { roomId: room.id });
    const jobs: { i: number; roomId: string }[] = [];
    for (let k = 0; k < room.size; k++) jobs.push({ i: i++, roomId: room.id });
    for (let b = 0; b < jobs.length; b += 50) {
      await Promise.all(
        jobs.slice(b, b + 50).map(async (j) => {
        const r = await client.request('addLeg', {
          roomId: j.roomId,
          legId: `L${j.i}`,
          kind: 'rtp',
          codec: 'PCMU',
          remote: { address: '127.0.0.1', port: ports[j.i]! },
          rtpTimeoutMs: 0,
        });
        targets[j.i] = r.localPort!;
        }),
      );
    }
  }
  const recorders = record ? new Recorders(client) : null;
  await recorders?.start(p.rooms.map((r) => r.id));
  await gen.request({ type: 'start', targets }, 'started');
  await sleep(o.warmupS * 1000);

  const samples0 = recorders?.samples ?? 0;
  const s0 = await client.request('stats', {});
  const cpu0 = process.cpuUsage();
  const m0 = cpuTimes();
  await gen.request({ type: 'mark' }, 'marked');
  const t0 = performance.now();
  await sleep(o.windowS * 1000);
  const rep: GenReport = await gen.request({ type: 'stop' }, 'report');
  const cpu1 = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const recordedShare = recorders ? (recorders.samples - samples0) / ((p.rooms.length * wallMs * 8000) / 1000) : null;
  const m1 = cpuTimes();
  const s1 = await client.request('stats', {});
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  // Let the last sent packets arrive, then compare what the engine accepted with what was sent.
  await sleep(300);
  const s2: EngineStats = await client.request('stats', {});
  const accepted = s2.legs.reduce((a, l) => a + l.packetsIn, 0);

  await recorders?.close();
  for (const room of p.rooms) await client.request('destroyRoom', { roomId: room.id });
  await gen.request({ type: 'close' }, 'closed');

  const ticks = s1.ticks - s0.ticks;
  const late = s1.lateTicks - s0.lateTicks;
  const tickMeanUs = ticks > 0 ? (s1.tickMeanUs * s1.ticks - s0.tickMeanUs * s0.ticks) / ticks : 0;
  const w0 = s0.workers ?? [];
  const w1 = s1.workers ?? [];
  const threadBusy = w1.map((w, k) => {
    const a = w.elu.activeMs - (w0[k]?.elu.activeMs ?? 0);
    const idle = w.elu.idleMs - (w0[k]?.elu.idleMs ?? 0);
    return a + idle > 0 ? (100 * a) / (a + idle) : 0;
  });
  const worstWorkerLatePct = Math.max(
    0,
    ...w1.map((w, k) => {
      const t = w.ticks - (w0[k]?.ticks ?? 0);
      return t > 0 ? (100 * (w.lateTicks - (w0[k]?.lateTicks ?? 0))) / t : 0;
    }),
  );
  const total = m1.total - m0.total;
  return {
    series: layout === 'rooms10' ? 'rooms of 10' : 'one room of 250',
    recorded: recordedShare,
    n,
    rooms: p.rooms.length,
    ticks,
    latePct: ticks > 0 ? (100 * late) / ticks : 0,
    skipped: s1.skippedTicks - s0.skippedTicks,
    maxLateMs: s1.maxLateMs,
    tickMeanUs,
    rxPct: rep.expected > 0 ? (100 * rep.received) / rep.expected : 0,
    uplinkPct: rep.sentTotal > 0 ? (100 * accepted) / rep.sentTotal : 0,
    offeredPct: (100 * rep.sentWindow) / ((n * rep.windowMs) / 20),
    p999: rep.gapP999Ms,
    gapMax: rep.gapMaxMs,
    mediaCpu: (100 * (cpu1.user + cpu1.system)) / 1000 / wallMs,
    genCpu: (100 * (rep.cpuUserMs + rep.cpuSystemMs)) / rep.windowMs,
    busy: total > 0 ? (100 * (total - (m1.idle - m0.idle))) / total : 0,
    genLatePct: rep.genTicks > 0 ? (100 * rep.genLateTicks) / rep.genTicks : 0,
    threadBusy,
    worstWorkerLatePct,
    bgBusy,
    rssMb,
    softirq: total > 0 ? (100 * (m1.softirq - m0.softirq)) / total : 0,
    steal: total > 0 ? (100 * (m1.steal - m0.steal)) / total : 0,
  };
}

const pct = (x: number, d = 2): string => `${x.toFixed(d)} %`;
const busyOf = (r: Row): string => r.threadBusy.map((b) => `${b.toFixed(0)} %`).join(' + ');

const recordingOf = (r: Row): string => (r.recorded === null ? 'off' : `every room (${pct(100 * r.recorded, 1)})`);

/** With recording against without, for the same step: media CPU and mean tick as ratios, the rest side by side. */
function ratioOf(off: Row, on: Row): string {
  return (
    `${off.series} N=${off.n}: recording/not — media process CPU ${on.mediaCpu.toFixed(0)} % / ${off.mediaCpu.toFixed(0)} % = ${(on.mediaCpu / off.mediaCpu).toFixed(3)}, ` +
    `threads busy ${busyOf(on)} / ${busyOf(off)}, mean tick ${(on.tickMeanUs / off.tickMeanUs).toFixed(3)}, late ticks ${pct(on.latePct)} / ${pct(off.latePct)}, ` +
    `mix received ${pct(on.rxPct, 3)} / ${pct(off.rxPct, 3)}, uplink ${pct(on.uplinkPct, 3)} / ${pct(off.uplinkPct, 3)}, audio recorded ${pct(100 * (on.recorded ?? 0), 1)}`
  );
}

function tableOf(rows: Row[]): string {
  const head =
    '| Series | Recording (audio came) | N | Rooms | Late ticks (worst worker) | Skipped ticks | Mix packets received vs expected | Uplink accepted vs sent | Generator sent vs N × 50/s | p99.9 gap | Max gap | Media process CPU (% of a core) | Media threads busy | Load gen CPU | Machine busy (before step) | Mean tick | RSS |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map(
    (r) =>
      `| ${r.series} | ${recordingOf(r)} | ${r.n} | ${r.rooms} | ${pct(r.latePct)} (${pct(r.worstWorkerLatePct)}) | ${r.skipped} | ${pct(r.rxPct, 3)} | ${pct(r.uplinkPct, 3)} | ${pct(r.offeredPct, 2)} | ${r.p999.toFixed(1)} ms | ${r.gapMax.toFixed(1)} ms | ${r.mediaCpu.toFixed(0)} % | ${busyOf(r)} | ${r.genCpu.toFixed(0)} % | ${r.busy.toFixed(0)} % (${r.bgBusy.toFixed(0)} %) | ${(r.tickMeanUs / 1000).toFixed(2)} ms | ${r.rssMb.toFixed(0)} MB |`,
  );
  return [head, ...lines].join('\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  console.log(`# media capacity: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, Node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`# warm-up ${o.warmupS} s, window ${o.windowS} s, ${o.legsPerSocket === 1 ? 'one generator socket per participant' : `${o.legsPerSocket} legs per generator socket`}`);
  const client = new MediaClient({
    requestTimeoutMs: 30_000,
    rtpTimeoutMs: 0,
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.nice !== undefined ? { threadNice: o.nice } : {}),
    ...(o.realtime > 0 ? { realtimePriority: o.realtime } : {}),
    ...(o.udp !== undefined ? { udp: o.udp } : {}),
  });
  const w = (await client.request('stats', {})).workers?.[0];
  console.log(
    `# ${client.workerCount} media worker thread(s), UDP ${w?.udp ?? '?'}${w?.realtime ? `, SCHED_FIFO ${o.realtime}` : ', normal scheduling'}${o.nice !== undefined ? `, nice ${o.nice}` : ''}; generator ${o.genRealtime > 0 ? `SCHED_FIFO ${o.genRealtime}` : 'normal scheduling'}`,
  );
  const gen = Generator.start(o.genRealtime);
  const rows: Row[] = [];
  try {
    const ratios: string[] = [];
    let k = 0;
    for (const [layout, steps] of [['rooms10', o.steps], ['big250', o.bigSteps]] as const) {
      for (const n of steps) {
        // compare: off then on, then on then off at the next step, so drift hits both alike.
        const modes = o.record === 'compare' ? (k++ % 2 === 0 ? [false, true] : [true, false]) : [o.record === 'on'];
        const pair: Row[] = [];
        for (const record of modes) {
          const row = await runStep(client, gen, n, layout, o, record);
          rows.push(row);
          pair.push(row);
          console.log(
            `${row.series.padEnd(16)} ${row.recorded === null ? 'rec off' : `rec ${pct(100 * row.recorded, 1)}`}  N=${String(n).padStart(4)}  late ${pct(row.latePct)}  skipped ${row.skipped}  rx ${pct(row.rxPct, 3)}  up ${pct(row.uplinkPct, 3)}  offered ${pct(row.offeredPct, 2)}  p99.9 ${row.p999.toFixed(1)} ms  max ${row.gapMax.toFixed(1)} ms  media ${row.mediaCpu.toFixed(0)} % (threads ${busyOf(row)}, worst worker late ${pct(row.worstWorkerLatePct)})  gen ${row.genCpu.toFixed(0)} % (gen late ${pct(row.genLatePct)})  busy ${row.busy.toFixed(0)} % (softirq ${row.softirq.toFixed(0)} %, steal ${row.steal.toFixed(0)} %, before ${row.bgBusy.toFixed(0)} %)  tick ${(row.tickMeanUs / 1000).toFixed(2)} ms`,
          );
        }
        if (pair.length === 2) {
          const [off, on] = pair[0]!.recorded === null ? [pair[0]!, pair[1]!] : [pair[1]!, pair[0]!];
          ratios.push(ratioOf(off, on));
          console.log(`# ${ratios.at(-1)}`);
        }
        if (pair.every((row) => row.latePct > 25 || row.rxPct < 90)) {
          console.log(`# ${pair[0]!.series}: far past overload at N=${n}; skipping the larger steps`);
          break;
        }
      }
    }
    if (ratios.length > 0) console.log(['', ...ratios].join('\n'));
  } finally {
    await gen.stop();
    await client.close();
  }
  console.log('');
  console.log(tableOf(rows));
}

await main();
