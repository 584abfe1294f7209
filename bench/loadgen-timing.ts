/**
 * What the media load generators (bench/media-loadgen.ts for G.711 RTP, bench/webrtc-loadgen.ts
 * for WebRTC) share: the 20 ms pacing of what they send, and the histogram of the gaps between
 * the packets they receive.
 */
import { performance } from 'node:perf_hooks';

export const INTERVAL_MS = 20;
/** A late tick sends the frames it owes, at most this many; a longer debt is dropped. */
const MAX_CATCH_UP = 5;
/** A tick firing this much after its deadline counts as late. */
const LATE_MS = 5;
/** Gap histogram: 0.1 ms bins up to 2 s. */
const BIN_MS = 0.1;
const BINS = 20_001;

/**
 * Calls `sendFrame` every 20 ms on a drift-free timer (absolute deadlines): a late tick sends
 * the frames it owes, at most MAX_CATCH_UP of them, then realigns to the grid. `beforeTick`
 * runs first on every tick (media-loadgen.ts reads its sockets there). Counts ticks, and those
 * that fired > 5 ms late, while counting.
 */
export class FramePacer {
  ticks = 0;
  lateTicks = 0;
  private counting = false;
  private next = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sendFrame: () => void,
    private readonly beforeTick: () => void = () => undefined,
  ) {}

  start(): void {
    this.stop();
    this.next = performance.now();
    this.tick();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Zeroes the counts and counts from now on (a measurement window's start). */
  mark(): void {
    this.ticks = 0;
    this.lateTicks = 0;
    this.counting = true;
  }

  endWindow(): void {
    this.counting = false;
  }

  private tick(): void {
    this.beforeTick();
    const now = performance.now();
    if (this.counting) {
      this.ticks++;
      if (now - this.next > LATE_MS) this.lateTicks++;
    }
    let owed = 0;
    while (this.next <= now && owed < MAX_CATCH_UP) {
      this.sendFrame();
      this.next += INTERVAL_MS;
      owed++;
    }
    // Far behind: drop the rest of the debt and realign to the grid.
    if (this.next <= now) this.next += Math.ceil((now - this.next) / INTERVAL_MS) * INTERVAL_MS;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.next - performance.now()));
  }
}

/** Inter-arrival gaps in 0.1 ms bins up to 2 s (longer ones in the last bin). */
export class GapHistogram {
  private readonly bins = new Uint32Array(BINS);

  add(gapMs: number): void {
    const bin = Math.round(gapMs / BIN_MS);
    this.bins[bin < BINS ? bin : BINS - 1]!++;
  }

  reset(): void {
    this.bins.fill(0);
  }

  /** The nearest-rank percentile, ms (0 when empty). */
  percentile(p: number): number {
    let total = 0;
    for (let i = 0; i < BINS; i++) total += this.bins[i]!;
    if (total === 0) return 0;
    const rank = Math.ceil(total * p);
    let acc = 0;
    for (let i = 0; i < BINS; i++) {
      acc += this.bins[i]!;
      if (acc >= rank) return i * BIN_MS;
    }
    return (BINS - 1) * BIN_MS;
  }

  /** The longest gap, ms (to the bin). */
  maxMs(): number {
    for (let i = BINS - 1; i >= 0; i--) if (this.bins[i]! > 0) return i * BIN_MS;
    return 0;
  }
}
