/**
 * The floor under the capacity bench's late ticks: an otherwise idle Node process running the
 * media plane's own MediaClock (20 ms, absolute deadlines, late = > 5 ms after the deadline)
 * with nothing to do per tick. On a shared VM its late ticks are the machine's, not ours: run
 * it next to the capacity bench (or alone) to see how much of the lateness the host adds.
 *
 *   npx tsx bench/media-timer-probe.ts [--seconds 20] [--windows 1]
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaClock } from '../src/media/media-clock.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg('--seconds', 20);
const windows = arg('--windows', 1);

function busy(): { total: number; idle: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3]! + f[4]! };
}

const clock = new MediaClock(() => undefined);
clock.start();
for (let w = 0; w < windows; w++) {
  const s0 = { ...clock.stats };
  const b0 = busy();
  await sleep(seconds * 1000);
  const s1 = { ...clock.stats };
  const b1 = busy();
  const ticks = s1.ticks - s0.ticks;
  const machine = (100 * (b1.total - b0.total - (b1.idle - b0.idle))) / Math.max(1, b1.total - b0.total);
  console.log(
    `${new Date().toISOString().slice(11, 19)}  ticks ${ticks}  late ${((100 * (s1.late - s0.late)) / Math.max(1, ticks)).toFixed(2)} %  skipped ${s1.skipped - s0.skipped}  max late ${s1.maxLateMs.toFixed(1)} ms (since start)  machine busy ${machine.toFixed(0)} %`,
  );
}
clock.stop();
