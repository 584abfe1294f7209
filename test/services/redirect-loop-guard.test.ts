/**
 * The pacing of documents that loop with nothing heard between them: a burst runs at once,
 * then each fetch waits for the floor (told once), and a loop that never plays anything ends;
 * a document that took its time (it played something) starts the count again. Real time, with
 * limits small enough to run in a moment.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { RedirectLoopGuard } from '../../src/services/calls/redirect-loop-guard.js';
import { sleep } from '../../src/services/calls/sleep.js';

const LIMITS = { floorMs: 60, burst: 3, maxQuick: 6 };

describe('RedirectLoopGuard', () => {
  it('lets a burst through, then paces to the floor, tells it once, and ends the loop', async () => {
    let told = 0;
    const guard = new RedirectLoopGuard(() => told++, LIMITS);
    const signal = new AbortController().signal;
    const at: number[] = [];
    const allowed: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      allowed.push(await guard.pace(signal));
      at.push(performance.now());
    }
    // The first document and a burst of three quick ones, then paced ones, then the end.
    expect(allowed).toEqual([true, true, true, true, true, true, true, false]);
    expect(at[3]! - at[0]!).toBeLessThan(LIMITS.floorMs);
    for (let i = 5; i < 7; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(LIMITS.floorMs - 2);
    expect(told).toBe(1);
  });

  it('starts counting again after a document that took at least the floor', async () => {
    const guard = new RedirectLoopGuard(() => undefined, LIMITS);
    const signal = new AbortController().signal;
    for (let i = 0; i < 6; i++) expect(await guard.pace(signal)).toBe(true);
    await sleep(LIMITS.floorMs + 5, signal); // this one played something
    const since = performance.now();
    for (let i = 0; i < 4; i++) expect(await guard.pace(signal)).toBe(true);
    expect(performance.now() - since).toBeLessThan(LIMITS.floorMs);
  });

  it('stops waiting when the call moves on', async () => {
    const guard = new RedirectLoopGuard(() => undefined, { floorMs: 60_000, burst: 0, maxQuick: 10 });
    const moved = new AbortController();
    expect(await guard.pace(moved.signal)).toBe(true);
    const paced = guard.pace(moved.signal);
    moved.abort();
    expect(await paced).toBe(true);
  });
});
