/**
 * A drift-free 20 ms media clock for the mixing loop.
 *
 * FreeSWITCH (`switch_core_timer_next`) and Asterisk (`ast_timer_set_rate` + timing fd) both
 * mix on a dedicated timer rather than on packet arrival, so a silent or DTX sender cannot stall
 * the room (reference/media-plane.md §1.1, §2.3). Node has no periodic timer fd, and
 * `setInterval` accumulates error, so each tick is scheduled against an absolute deadline:
 * `next += 20; setTimeout(tick, next - now)`. Lateness in one tick is absorbed by the following
 * one instead of shifting every later tick.
 *
 * Overload policy: a tick that fires more than `lateThresholdMs` after its deadline counts as
 * late. When the loop falls a whole interval or more behind (a GC pause, a blocked loop), the
 * missed deadlines are skipped and counted rather than run back to back: a burst of catch-up
 * mixes would only send a burst of packets the far end plays late anyway, and the jitter buffers
 * shed the surplus input.
 */
import { performance } from 'node:perf_hooks';

export interface MediaClockOptions {
  /** Tick period in ms. */
  intervalMs?: number;
  /** A tick later than this after its deadline counts as late, in ms. */
  lateThresholdMs?: number;
}

export interface MediaClockStats {
  /** Ticks run since start. */
  ticks: number;
  /** Ticks that ran more than the late threshold after their deadline (skipping ones included). */
  late: number;
  /** Deadlines dropped because the loop was a whole interval or more behind. */
  skipped: number;
  /** Largest lateness seen, in ms. */
  maxLateMs: number;
}

export class MediaClock {
  readonly stats: MediaClockStats = { ticks: 0, late: 0, skipped: 0, maxLateMs: 0 };

  private readonly intervalMs: number;
  private readonly lateMs: number;
  private readonly onTick: () => void;
  /** Bound once so scheduling a tick creates no closure. */
  private readonly fire: () => void;
  private timer: NodeJS.Timeout | null = null;
  private next = 0;

  constructor(onTick: () => void, options: MediaClockOptions = {}) {
    this.onTick = onTick;
    this.intervalMs = options.intervalMs ?? 20;
    this.lateMs = options.lateThresholdMs ?? 5;
    this.fire = () => this.run();
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** Starts ticking; the first tick is one interval from now. Idempotent. */
  start(): void {
    if (this.timer !== null) return;
    this.next = performance.now() + this.intervalMs;
    this.timer = setTimeout(this.fire, this.intervalMs);
  }

  /** Stops ticking; a tick in progress completes. Idempotent. */
  stop(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  private run(): void {
    const now = performance.now();
    const lateness = now - this.next;
    if (lateness > this.lateMs) this.stats.late++;
    if (lateness > this.stats.maxLateMs) this.stats.maxLateMs = lateness;
    if (lateness >= this.intervalMs) {
      // Skip every whole interval missed; the tick that runs now stands for the latest deadline
      // passed, so the grid stays aligned with the original start.
      const missed = Math.floor(lateness / this.intervalMs);
      this.stats.skipped += missed;
      this.next += missed * this.intervalMs;
    }
    this.stats.ticks++;
    try {
      this.onTick();
    } finally {
      // onTick may have called stop().
      if (this.timer !== null) {
        this.next += this.intervalMs;
        const delay = this.next - performance.now();
        this.timer = setTimeout(this.fire, delay > 0 ? delay : 0);
      }
    }
  }
}
