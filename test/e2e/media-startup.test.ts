/**
 * How the media plane says it runs, at its start (the first call): the native batched UDP path
 * and SCHED_FIFO media threads by default on this machine (root, the addon built by npm ci),
 * node:dgram and normal scheduling when asked — each in one log line a user can grep for.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { MediaConfig } from '../../src/config.js';
import { until } from '../helpers/until.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close();
});

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

async function startedWith(media: Partial<MediaConfig>): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const t = await startTestApp('sqlite', { media, logger: pino({ level: 'info' }, sink) });
  apps.push(t);
  await placeCall(t, 'sim:alice', '<Response><Pause length="1"/></Response>');
  await until(() => lines.some((l) => l.msg === 'media plane started'), 10_000, 'the media plane start line');
  return lines;
}

describe('media plane start-up', () => {
  it('runs batched native UDP and SCHED_FIFO 10 by default, and says so', async () => {
    const lines = await startedWith({});
    const started = lines.find((l) => l.msg === 'media plane started')!;
    expect(started).toMatchObject({ udp: 'native', realtime: 10 });
    expect(started.workers).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]); // no warning
  });

  it('runs node:dgram at normal priority when asked, without a warning', async () => {
    const lines = await startedWith({ udp: 'dgram', realtimePriority: 0 });
    expect(lines.find((l) => l.msg === 'media plane started')).toMatchObject({ udp: 'dgram', realtime: false });
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('warns when a priority that was asked for is refused (here: one the kernel rejects)', async () => {
    const lines = await startedWith({ realtimePriority: 150, realtimeRequired: true });
    expect(lines.find((l) => l.msg === 'media plane started')).toMatchObject({ udp: 'native', realtime: false });
    const warned = lines.filter((l) => l.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ priority: 150, setting: 'CONCLAVE_MEDIA_REALTIME' });
    expect(warned[0]!.msg).toMatch(/could not get SCHED_FIFO/);
  });
});
