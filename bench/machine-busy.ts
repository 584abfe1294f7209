/**
 * How busy the whole machine was over a stretch of a bench (Linux /proc/stat: every process,
 * the bench's own included), so figures taken while other work ran can be told apart. Off
 * Linux, NaN.
 */
import fs from 'node:fs';

interface Ticks {
  busy: number;
  total: number;
}

function read(): Ticks | undefined {
  if (!fs.existsSync('/proc/stat')) return undefined;
  const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are the not-busy columns.
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** Starts a stretch; the function it returns gives the share of all cores busy since (0–1). */
export function machineBusy(): () => number {
  const before = read();
  return () => {
    const after = read();
    if (!before || !after || after.total === before.total) return Number.NaN;
    return (after.busy - before.busy) / (after.total - before.total);
  };
}
