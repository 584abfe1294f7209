/**
 * A process killed with SIGKILL mid-recording leaves a WAV that plays up to about the kill, and
 * `recover` makes its header say all that reached the disk and gives its duration.
 */
import { spawn } from 'node:child_process';
import { open, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newSid } from '../../../src/domain/sids.js';
import { meanAmplitude } from '../../media/goertzel.js';
import { until } from '../../helpers/until.js';
import { channel, interleave, playWav, tone } from './audio-files.js';
import { useTempStorage } from './temp-storage.js';

const recorder = fileURLToPath(new URL('./record-until-killed.ts', import.meta.url));
const recordings = useTempStorage('conclave-crash-');

describe('kill -9 during a recording', () => {
  it.each([1, 2] as const)('leaves %i-channel audio up to about the kill, which recover makes whole', async (channels) => {
    const sid = newSid('RE');
    const wav = join(recordings.dir, `${sid}.wav`);
    const child = spawn(process.execPath, ['--import', 'tsx', recorder, recordings.dir, sid, String(channels)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      // The header on disk says 2.5 s: the recorder has been at it for 2.5 to 3.5 s.
      await until(async () => ((await playWav(wav).catch(() => undefined))?.seconds ?? 0) >= 2.5, 15_000, 'a recording of 2.5 s on disk');
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }

    // Before recovery it already plays, up to its last header rewrite (at most a second behind).
    const left = await playWav(wav);
    const { size } = await stat(wav);
    const onDisk = (size - 44) / (2 * channels) / 8000;
    expect(left.seconds).toBeGreaterThanOrEqual(2.5);
    expect(onDisk - left.seconds).toBeLessThanOrEqual(1.1);

    const duration = await recordings.storage.recover(sid);
    const heard = await playWav(wav);
    expect(heard.seconds).toBeCloseTo(onDisk, 3);
    expect(duration).toBe(Math.round(onDisk));
    const first = channels === 2 ? channel(heard.samples, 0, 2) : heard.samples;
    expect(meanAmplitude(first, 400)).toBeGreaterThan(7000);
    if (channels === 2) expect(meanAmplitude(channel(heard.samples, 1, 2), 1000)).toBeGreaterThan(7000);
    // Recovering again changes nothing.
    expect(await recordings.storage.recover(sid)).toBe(duration);
  });

  it('drops a torn last sample and corrects a header never rewritten', async () => {
    const sid = newSid('RE');
    const wav = join(recordings.dir, `${sid}.wav`);
    const sink = await recordings.storage.create(sid, 2);
    sink.append(interleave(tone(400, 3), tone(1000, 3)));
    await sink.finish({ trim: false });
    // As a crash before the first header rewrite leaves it: sizes of 0, and three bytes of a sample frame.
    const file = await open(wav, 'r+');
    await file.write(Buffer.alloc(4), 0, 4, 4);
    await file.write(Buffer.alloc(4), 0, 4, 40);
    await file.write(Buffer.from([1, 2, 3]), 0, 3, 44 + 96_000);
    await file.close();
    expect((await playWav(wav)).seconds).toBe(0);

    expect(await recordings.storage.recover(sid)).toBe(3);
    expect((await stat(wav)).size).toBe(44 + 96_000);
    expect((await playWav(wav)).seconds).toBe(3);
  });

  it('has nothing to recover from a missing file, a header alone, or a file cut inside its header', async () => {
    expect(await recordings.storage.recover(newSid('RE'))).toBeUndefined();

    const headerOnly = newSid('RE');
    await (await recordings.storage.create(headerOnly, 1)).finish({ trim: false });
    expect(await recordings.storage.recover(headerOnly)).toBeUndefined();

    const cut = newSid('RE');
    const sink = await recordings.storage.create(cut, 1);
    sink.append(tone(400, 1));
    await sink.finish({ trim: false });
    await truncate(join(recordings.dir, `${cut}.wav`), 20);
    expect(await recordings.storage.recover(cut)).toBeUndefined();
  });

  it('clears what a trim cut short by the crash left, and keeps the untrimmed recording', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    sink.append(tone(400, 2));
    await sink.finish({ trim: false });
    await writeFile(join(recordings.dir, `${sid}.wav.trim.tmp`), 'half a copy');
    expect(await recordings.storage.recover(sid)).toBe(2);
    expect(await readdir(recordings.dir)).toEqual([`${sid}.wav`]);
  });
});
