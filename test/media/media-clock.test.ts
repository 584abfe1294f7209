/**
 * The media clock keeps a 20 ms average period without drift, stops cleanly, and skips (and
 * counts) deadlines missed while the event loop was blocked. Assertions are on averages and
 * counts, not on individual tick times, so they hold on a loaded 2-core machine.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { MediaClock } from '../../src/media/media-clock.js';

function runTicks(count: number, onEach?: (n: number) => void): Promise<{ times: number[]; clock: MediaClock }> {
  return new Promise((resolve) => {
    const times: number[] = [];
    const clock = new MediaClock(() => {
      times.push(performance.now());
      onEach?.(times.length);
      if (times.length === count) {
        clock.stop();
        resolve({ times, clock });
      }
    });
    clock.start();
  });
}

describe('MediaClock', () => {
  it('ticks every 20 ms on average without drift', async () => {
    const { times, clock } = await runTicks(25);
    expect(times).toHaveLength(25);
    expect(clock.stats.ticks).toBe(25);
    expect(clock.running).toBe(false);
    // Average period from first to last tick: drift would accumulate here; setTimeout's own
    // ~1 ms lateness per tick would show up as a 21+ ms average with a naive loop.
    // A skipped deadline (the loop blocked a whole interval) is a known gap, not drift.
    const avg = (times[24]! - times[0]!) / (24 + clock.stats.skipped);
    expect(avg).toBeGreaterThan(18);
    expect(avg).toBeLessThan(22);
    // No further ticks after stop().
    await new Promise((r) => setTimeout(r, 60));
    expect(clock.stats.ticks).toBe(25);
  });

  it('skips and counts deadlines missed while the loop is blocked', async () => {
    const { times, clock } = await runTicks(12, (n) => {
      if (n === 3) {
        const until = performance.now() + 75; // block the event loop ~3.75 intervals
        while (performance.now() < until) {
          /* busy */
        }
      }
    });
    expect(clock.stats.skipped).toBeGreaterThanOrEqual(2);
    expect(clock.stats.late).toBeGreaterThanOrEqual(1);
    // The schedule stays on the original grid: 11 intervals plus the skipped ones.
    const span = times[11]! - times[0]!;
    const expected = (11 + clock.stats.skipped) * 20;
    expect(Math.abs(span - expected)).toBeLessThan(25);
  });

  it('start and stop are idempotent', () => {
    const clock = new MediaClock(() => undefined);
    clock.start();
    clock.start();
    expect(clock.running).toBe(true);
    clock.stop();
    clock.stop();
    expect(clock.running).toBe(false);
  });
});
