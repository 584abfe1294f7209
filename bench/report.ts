/**
 * What the bench prints: the machine it ran on, and the side-by-side table of Conclave against
 * the bare fastify route (medians over rounds, ratios per round then their median), as a
 * Markdown table that can be pasted into BENCHMARKS.md as is.
 */
import fs from 'node:fs';
import os from 'node:os';
import { median, type RoundResult } from './measure.js';
import type { Target } from './protocol.js';

/** The fetch goal of the issue: at least half the bare route's throughput. */
export const FETCH_GOAL = 0.5;

export interface TargetRounds {
  target: Target;
  bodyBytes: number;
  ours: RoundResult[];
  bare: RoundResult[];
}

export interface Summary {
  target: Target;
  bodyBytes: number;
  oursRps: number;
  bareRps: number;
  oursP99: number;
  bareP99: number;
  /** Median over rounds of ours/bare throughput (paired within a round). */
  rpsRatio: number;
  /** Lowest and highest per-round throughput ratio, to show the spread. */
  rpsRatioRange: [number, number];
  /** Median over rounds of ours/bare p99 (how many times the bare route's tail). */
  p99Ratio: number;
}

export function machine(): string {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const gib = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${os.availableParallelism()} cores (nproc), ${model}, ${gib} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()} ${os.arch()}`;
}

/** Share of all cores busy over `ms` (from /proc/stat), to tell a quiet machine from a shared one; undefined off Linux. */
export async function cpuBusy(ms: number): Promise<number | undefined> {
  const read = (): number[] | undefined => {
    if (!fs.existsSync('/proc/stat')) return undefined;
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    return line.trim().split(/\s+/).slice(1).map(Number);
  };
  const before = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = read();
  if (!before || !after) return undefined;
  const delta = after.map((v, i) => v - (before[i] ?? 0));
  const total = delta.reduce((a, b) => a + b, 0);
  const idle = (delta[3] ?? 0) + (delta[4] ?? 0); // idle + iowait
  return total === 0 ? undefined : (total - idle) / total;
}

export function summarise(rounds: TargetRounds): Summary {
  const pairs = rounds.ours.map((ours, i) => ({ ours, bare: rounds.bare[i] }));
  const paired = pairs.filter((p): p is { ours: RoundResult; bare: RoundResult } => p.bare !== undefined);
  return {
    target: rounds.target,
    bodyBytes: rounds.bodyBytes,
    oursRps: median(rounds.ours.map((r) => r.rps)),
    bareRps: median(rounds.bare.map((r) => r.rps)),
    oursP99: median(rounds.ours.map((r) => r.p99)),
    bareP99: median(rounds.bare.map((r) => r.p99)),
    rpsRatio: median(paired.map((p) => p.ours.rps / p.bare.rps)),
    rpsRatioRange: [Math.min(...paired.map((p) => p.ours.rps / p.bare.rps)), Math.max(...paired.map((p) => p.ours.rps / p.bare.rps))],
    p99Ratio: median(paired.map((p) => p.ours.p99 / p.bare.p99)),
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => n.toFixed(2);
const x = (n: number): string => n.toFixed(2);

export function table(summaries: readonly Summary[]): string {
  const lines = [
    '| endpoint | body bytes | ours req/s | bare req/s | req/s ratio ours/bare (range) | ours p99 ms | bare p99 ms | p99 ratio (ours/bare) | goal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of summaries) {
    const goal = s.target.goal ? (s.rpsRatio >= FETCH_GOAL ? `≥ ${FETCH_GOAL}: met` : `≥ ${FETCH_GOAL}: NOT met`) : '—';
    lines.push(
      `| ${s.target.label} | ${int(s.bodyBytes)} | ${int(s.oursRps)} | ${int(s.bareRps)} | ${x(s.rpsRatio)} (${x(s.rpsRatioRange[0])}–${x(s.rpsRatioRange[1])}) | ${ms(s.oursP99)} | ${ms(s.bareP99)} | ${x(s.p99Ratio)} | ${goal} |`,
    );
  }
  return lines.join('\n');
}

/** One line per round, to show the spread behind the medians. */
export function roundLines(rounds: TargetRounds): string[] {
  return rounds.ours.map((ours, i) => {
    const bare = rounds.bare[i];
    const vs = bare ? `bare ${int(bare.rps)} req/s p99 ${ms(bare.p99)} ms → ratio ${x(ours.rps / bare.rps)}` : 'bare —';
    return `  ${rounds.target.name} round ${i + 1}: ours ${int(ours.rps)} req/s p99 ${ms(ours.p99)} ms | ${vs}`;
  });
}
