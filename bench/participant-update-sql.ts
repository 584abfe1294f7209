/**
 * Where a participant update's time goes on PostgreSQL: every SQL round trip of
 * `POST …/Participants/{CallSid} Muted=true|false`, timed from the client's side.
 *
 *   npx tsx bench/participant-update-sql.ts [--updates 200]
 *
 * A Conclave in this process on a fresh PostgreSQL schema (test/helpers/test-app.ts), one
 * conference of two silent simulated participants (no talk detection, so nothing else queries
 * meanwhile). pg's `Client.prototype.query` is wrapped to note each statement's start and the
 * moment its answer is back; the statements that start while a request is in flight are that
 * request's. Reports per statement (normalised to its first words) how many each update makes
 * and their times, and the request's time in SQL against its whole time. A mute through any
 * node runs these same statements; the cluster benches (bench/cluster-latency.ts) show how
 * they add up when the machine is busy.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startTestApp } from '../test/helpers/test-app.js';
import { percentile } from './measure.js';
import { machineBusy } from './machine-busy.js';
import { machine } from './report.js';

interface Statement {
  start: number;
  ms: number;
  text: string;
}

const { values: args } = parseArgs({ args: process.argv.slice(2), options: { updates: { type: 'string', default: '200' } }, strict: true });

/** The statement's first words: `select * from "participants" where "conference_sid"`. */
function kindOf(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/ (set|values) .*$/i, ' $1 …').split(' = ')[0]!.slice(0, 80);
}

const statements: Statement[] = [];
let recording = false;
type Query = (this: pg.Client, ...args: unknown[]) => unknown;
const query = pg.Client.prototype.query as unknown as Query;
(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...rest: unknown[]): unknown {
  const start = performance.now();
  const result = query.apply(this, rest);
  if (recording && result instanceof Promise) {
    const first = rest[0];
    const text = typeof first === 'string' ? first : String((first as { text?: unknown } | undefined)?.text ?? '');
    void result.then(
      () => statements.push({ start, ms: performance.now() - start, text: kindOf(text) }),
      () => undefined,
    );
  }
  return result;
};

async function main(): Promise<void> {
  const updates = Number(args.updates);
  if (!Number.isInteger(updates) || updates < 1) throw new Error(`--updates must be a whole number ≥ 1 (got ${args.updates})`);
  console.log(`Machine: ${machine()}`);
  const t = await startTestApp('postgres');
  try {
    const base = `/2010-04-01/Accounts/${t.accountSid}`;
    const join = async (to: string): Promise<{ conference_sid: string; call_sid: string }> => {
      const r = await t.request('POST', `${base}/Conferences/room/Participants.json`, { form: { From: '+15005550006', To: to, Beep: 'false' } });
      if (r.status !== 201) throw new Error(r.body);
      return r.json() as { conference_sid: string; call_sid: string };
    };
    const a = await join('sim:a');
    await join('sim:b');
    const path = `${base}/Conferences/${a.conference_sid}/Participants/${a.call_sid}.json`;
    for (let deadline = performance.now() + 10_000; ; ) {
      const r = await t.request('GET', path);
      if ((r.json() as { status: string }).status === 'connected') break;
      if (performance.now() > deadline) throw new Error('the participant never connected');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 0; i < 20; i++) await t.request('POST', path, { form: { Muted: i % 2 === 0 ? 'true' : 'false' } });

    const requests: { start: number; end: number }[] = [];
    const busy = machineBusy();
    recording = true;
    for (let i = 0; i < updates; i++) {
      const start = performance.now();
      const r = await t.request('POST', path, { form: { Muted: i % 2 === 0 ? 'true' : 'false' } });
      requests.push({ start, end: performance.now() });
      if (r.status !== 200) throw new Error(r.body);
    }
    recording = false;
    const busyShare = busy();

    const kinds = new Map<string, number[]>();
    const inSql: number[] = [];
    const whole: number[] = [];
    const counts: number[] = [];
    for (const { start, end } of requests) {
      const mine = statements.filter((s) => s.start >= start && s.start <= end);
      for (const s of mine) kinds.set(s.text, [...(kinds.get(s.text) ?? []), s.ms]);
      inSql.push(mine.reduce((sum, s) => sum + s.ms, 0));
      whole.push(end - start);
      counts.push(mine.length);
    }
    const f = (ms: number): string => ms.toFixed(2);
    const stats = (values: number[]): string => {
      const sorted = [...values].sort((x, y) => x - y);
      return `${f(percentile(sorted, 0.5))} | ${f(percentile(sorted, 0.99))} | ${f(sorted.at(-1) ?? Number.NaN)}`;
    };
    console.log(`${updates} participant updates (Muted toggled), one at a time; machine ${(busyShare * 100).toFixed(0)} % busy meanwhile; milliseconds`);
    console.log('');
    console.log('| statement | per update | p50 | p99 | max |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [text, ms] of kinds) console.log(`| \`${text}\` | ${(ms.length / updates).toFixed(2)} | ${stats(ms)} |`);
    console.log(`| **all SQL of one update** (round trips p50 ${percentile([...counts].sort((x, y) => x - y), 0.5)}) | | ${stats(inSql)} |`);
    console.log(`| **the whole request** (client side) | | ${stats(whole)} |`);
  } finally {
    await t.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
