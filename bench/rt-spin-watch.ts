/**
 * Part of bench/cluster-conference.ts: which real-time threads kept a core for most of a
 * second while a window was measured, and how long the machine stalled for a process at
 * normal priority meanwhile (Linux /proc only).
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Threads of the nodes that ran most of a second under SCHED_FIFO/RR: a real-time thread that
 * keeps a core that long starves everything at normal priority on it — other processes, the
 * node's own V8 helper threads — until the kernel's RT throttling (sched_rt_runtime_us, 950 ms
 * of each second by default) stops it. Sampled from /proc/<pid>/task/<tid>/schedstat (run time,
 * ns) every 250 ms, over the last second. The real-time threads of every other process on the
 * machine (looked for every 2 s) are watched too, as "elsewhere": the machine is shared. Also
 * the longest gap of this process's own 10 ms timer: how long the whole machine stalled for a
 * process at normal priority.
 */
export class SpinWatch {
  /** Per node: episodes (a thread > 600 ms in a second, counted once per 2 s) and the most run time of one thread in a second, ms. */
  readonly spins = new Map<string, { episodes: number; maxMs: number }>();
  maxGapMs = 0;
  private readonly history: { at: number; runs: Map<string, number> }[] = [];
  private readonly lastSeen = new Map<string, number>();
  private readonly sampler: NodeJS.Timeout;
  private readonly clock: NodeJS.Timeout;
  private lastTick = performance.now();
  /** Real-time threads of other processes, as `pid/tid`. */
  private elsewhere: string[] = [];
  private readonly scanner: NodeJS.Timeout;

  constructor(private readonly nodes: { name: string; pid: number }[]) {
    for (const n of [...nodes.map((x) => x.name), 'elsewhere']) this.spins.set(n, { episodes: 0, maxMs: 0 });
    this.scan();
    this.scanner = setInterval(() => this.scan(), 2000);
    this.sampler = setInterval(() => this.sample(), 250);
    this.clock = setInterval(() => {
      const now = performance.now();
      this.maxGapMs = Math.max(this.maxGapMs, now - this.lastTick);
      this.lastTick = now;
    }, 10);
  }

  /** The user-space threads of other processes that run under SCHED_FIFO or SCHED_RR. */
  private scan(): void {
    const mine = new Set(this.nodes.map((n) => String(n.pid)));
    const found: string[] = [];
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || mine.has(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/cmdline`).length === 0) continue; // a kernel thread
        for (const tid of readdirSync(`/proc/${pid}/task`)) if (this.realtime(`x ${pid}/${tid}`)) found.push(`${pid}/${tid}`);
      } catch {
        // the process ended
      }
    }
    this.elsewhere = found;
  }

  private sample(): void {
    const at = performance.now();
    const runs = new Map<string, number>();
    for (const key of this.elsewhere) {
      try {
        runs.set(`elsewhere ${key}`, Number(readFileSync(`/proc/${key.replace('/', '/task/')}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
      } catch {
        // the thread ended
      }
    }
    for (const n of this.nodes) {
      let tids: string[] = [];
      try {
        tids = readdirSync(`/proc/${n.pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        try {
          runs.set(`${n.name} ${n.pid}/${tid}`, Number(readFileSync(`/proc/${n.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
        } catch {
          // the thread ended
        }
      }
    }
    // Over each earlier sample of the last 2 s at least 500 ms back (while a real-time thread
    // keeps both cores, this process does not sample at all: the sample before is then ~1 s old).
    const olds = this.history.filter((h) => at - h.at >= 500 && at - h.at <= 2000);
    this.history.push({ at, runs });
    if (this.history.length > 9) this.history.shift();
    for (const [key, ms] of runs) {
      let share = 0;
      for (const old of olds) share = Math.max(share, (ms - (old.runs.get(key) ?? ms)) / (at - old.at));
      if (share <= 0.6 || !this.realtime(key)) continue;
      const spin = this.spins.get(key.slice(0, key.indexOf(' ')))!;
      spin.maxMs = Math.max(spin.maxMs, 1000 * share);
      if (at - (this.lastSeen.get(key) ?? -Infinity) > 2000) spin.episodes++;
      this.lastSeen.set(key, at);
    }
  }

  /** Whether the thread runs under SCHED_FIFO (1) or SCHED_RR (2): field 41 of its stat. */
  private realtime(key: string): boolean {
    try {
      const stat = readFileSync(`/proc/${key.slice(key.indexOf(' ') + 1).replace('/', '/task/')}/stat`, 'utf8');
      const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
      return policy === 1 || policy === 2;
    } catch {
      return false;
    }
  }

  stop(): void {
    clearInterval(this.scanner);
    clearInterval(this.sampler);
    clearInterval(this.clock);
  }
}

