/**
 * Recordings kept as files (FileRecordingStorage): written while they record, served as WAV,
 * removed, swept by retention, and shared by two processes (nodes) on one directory. Every
 * recording is heard back with sox, and its tones found with the Goertzel filter.
 */
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newSid } from '../../../src/domain/sids.js';
import { FileRecordingStorage } from '../../../src/endpoints/recordings/file-recording-storage.js';
import { meanAmplitude } from '../../media/goertzel.js';
import { until } from '../../helpers/until.js';
import { batches, channel, interleave, playWav, readAll, tone } from './audio-files.js';
import { useTempStorage } from './temp-storage.js';

const recordings = useTempStorage('conclave-recordings-', 'recordings');

const wavOf = (sid: string): string => join(recordings.dir, `${sid}.wav`);

describe('a recording being written', () => {
  it('is on disk as a playable WAV every second, before it finishes', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    for (const batch of batches(tone(440, 1.5), 1)) sink.append(batch);
    const heard = await until(async () => {
      const h = await playWav(wavOf(sid));
      return h.seconds >= 1.5 && h;
    }, 5000, 'the first 1.5 s on disk');
    expect(heard).toMatchObject({ channels: 1, rate: 8000, seconds: 1.5 });
    expect(meanAmplitude(heard.samples, 440)).toBeGreaterThan(7000);

    for (const batch of batches(tone(440, 1), 1)) sink.append(batch);
    await until(async () => (await playWav(wavOf(sid))).seconds >= 2.5, 5000, 'the next second on disk');
    expect(await sink.finish({ trim: false })).toBe(3); // 2.5 s, to the nearest second
  });

  it('finishes into a WAV served whole with its size, the tone kept', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    for (const batch of batches(tone(440, 4.2), 1)) sink.append(batch);
    expect(await sink.finish({ trim: false })).toBe(4);

    const media = await recordings.storage.read(sid, 'wav');
    expect(media).toMatchObject({ contentType: 'audio/x-wav', size: 44 + 4.2 * 16000 });
    const bytes = await readAll(media!.body);
    expect(bytes.length).toBe(media!.size);
    const heard = await playWav(wavOf(sid));
    expect(heard.seconds).toBeCloseTo(4.2, 3);
    expect(meanAmplitude(heard.samples, 440)).toBeGreaterThan(7000);
  });

  it('keeps a dual recording as two channels, each its own tone', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 2);
    for (const batch of batches(interleave(tone(400, 2), tone(1000, 2)), 2)) sink.append(batch);
    expect(await sink.finish({ trim: false })).toBe(2);

    const heard = await playWav(wavOf(sid));
    expect(heard).toMatchObject({ channels: 2, seconds: 2 });
    const [first, second] = [channel(heard.samples, 0, 2), channel(heard.samples, 1, 2)];
    expect(meanAmplitude(first, 400)).toBeGreaterThan(7000);
    expect(meanAmplitude(first, 1000)).toBeLessThan(100);
    expect(meanAmplitude(second, 1000)).toBeGreaterThan(7000);
    expect(meanAmplitude(second, 400)).toBeLessThan(100);
  });

  it('takes a copy of each batch: a caller reusing its buffer does not change what was recorded', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    const buffer = new Int16Array(160);
    const source = tone(440, 1);
    for (let i = 0; i < source.length; i += 160) {
      buffer.set(source.subarray(i, i + 160));
      sink.append(buffer);
      buffer.fill(0);
    }
    await sink.finish({ trim: false });
    expect(meanAmplitude((await playWav(wavOf(sid))).samples, 440)).toBeGreaterThan(7000);
  });

  it('is deleted by discard(), which may be called again', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    sink.append(tone(440, 1));
    await sink.discard();
    await sink.discard();
    expect(await recordings.storage.read(sid, 'wav')).toBeUndefined();
    expect(await readdir(recordings.dir)).toEqual([]);
  });
});

describe('files by SID', () => {
  it('never lets a SID name a file outside the directory, nor create one', async () => {
    for (const sid of ['../../etc/passwd', 'RE../../../../etc/hostname', `RE${'0'.repeat(31)}/`, `RE${'A'.repeat(32)}`, '']) {
      expect(await recordings.storage.read(sid, 'wav')).toBeUndefined();
      expect(await recordings.storage.read(sid, 'mp3')).toBeUndefined();
      expect(await recordings.storage.recover(sid)).toBeUndefined();
      await recordings.storage.remove(sid);
      await expect(recordings.storage.create(sid, 1)).rejects.toThrow(/is not a recording SID/);
    }
  });

  it('keeps recordings private: the directory 0700, WAV and MP3 0600', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    sink.append(tone(440, 1));
    await sink.finish({ trim: false });
    await readAll((await recordings.storage.read(sid, 'mp3'))!.body);
    expect((await stat(recordings.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(wavOf(sid))).mode & 0o777).toBe(0o600);
    expect((await stat(join(recordings.dir, `${sid}.mp3`))).mode & 0o777).toBe(0o600);
  });

  it('refuses a second recording with the same SID (the first is left as it was)', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    await expect(recordings.storage.create(sid, 1)).rejects.toMatchObject({ code: 'EEXIST' });
    sink.append(tone(440, 1));
    expect(await sink.finish({ trim: false })).toBe(1);
  });

  it('removes the WAV and the MP3; a recording already gone is no error', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    sink.append(tone(440, 1));
    await sink.finish({ trim: false });
    await readAll((await recordings.storage.read(sid, 'mp3'))!.body);
    expect((await readdir(recordings.dir)).sort()).toEqual([`${sid}.mp3`, `${sid}.wav`]);

    await recordings.storage.remove(sid);
    expect(await readdir(recordings.dir)).toEqual([]);
    expect(await recordings.storage.read(sid, 'wav')).toBeUndefined();
    expect(await recordings.storage.read(sid, 'mp3')).toBeUndefined();
    await recordings.storage.remove(sid);
    await recordings.storage.remove(newSid('RE'));
  });
});

describe('retention', () => {
  it('sweeps recordings last written before the cutoff and stale temporary files, and names the SIDs it deleted', async () => {
    const [old, recent, recording] = [newSid('RE'), newSid('RE'), newSid('RE')];
    for (const sid of [old, recent]) {
      const sink = await recordings.storage.create(sid, 1);
      sink.append(tone(440, 1));
      await sink.finish({ trim: false });
    }
    await readAll((await recordings.storage.read(old, 'mp3'))!.body);
    const live = await recordings.storage.create(recording, 1);
    live.append(tone(440, 1));

    const day = 86_400_000;
    const now = Date.now();
    const longAgo = new Date(now - 40 * day);
    for (const name of [`${old}.wav`, `${old}.mp3`, `${recording}.wav`]) await utimes(join(recordings.dir, name), longAgo, longAgo);
    // An MP3 a crashed process was making, and a trim cut short.
    await writeFile(join(recordings.dir, `${recent}.mp3.0b6f.tmp`), 'partial');
    await writeFile(join(recordings.dir, `${recent}.wav.trim.tmp`), 'partial');
    await utimes(join(recordings.dir, `${recent}.mp3.0b6f.tmp`), new Date(now - 2 * 3600_000), new Date(now - 2 * 3600_000));

    expect(await recordings.storage.sweepExpired(now - 30 * day)).toEqual([old]);
    expect((await readdir(recordings.dir)).sort()).toEqual([`${recent}.wav`, `${recent}.wav.trim.tmp`, `${recording}.wav`].sort());
    expect(await recordings.storage.read(old, 'wav')).toBeUndefined();
    await live.finish({ trim: false });
  });

  it('sweeps nothing, and fails nothing, before the directory exists', async () => {
    expect(await recordings.storage.sweepExpired(Date.now())).toEqual([]);
  });
});

describe('one directory shared by two nodes', () => {
  it('serves what the other node recorded, WAV and MP3, both nodes making the MP3 at once', async () => {
    const other = new FileRecordingStorage(recordings.dir);
    try {
      const sid = newSid('RE');
      const sink = await other.create(sid, 1);
      for (const batch of batches(tone(440, 3), 1)) sink.append(batch);
      await sink.finish({ trim: false });

      const [here, there] = await Promise.all([recordings.storage.read(sid, 'mp3'), other.read(sid, 'mp3')]);
      const [a, b] = await Promise.all([readAll(here!.body), readAll(there!.body)]);
      expect(a.length).toBeGreaterThan(0);
      expect(a.equals(b)).toBe(true);
      expect((await readdir(recordings.dir)).sort()).toEqual([`${sid}.mp3`, `${sid}.wav`]);
      expect((await stat(join(recordings.dir, `${sid}.mp3`))).size).toBe(a.length);
      expect((await recordings.storage.read(sid, 'wav'))?.size).toBe(44 + 3 * 16000);
    } finally {
      await other.close();
    }
  });
});
