/**
 * Recordings served as MP3: made from the WAV on the first request, in a worker thread (the event
 * loop keeps its pace meanwhile), cached beside the WAV, and decoded by Debian's `lame --decode`
 * to the same tones and length. Mono at 32 kbit/s, dual as stereo at 64 kbit/s.
 */
import { readdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { concatPcm } from '../../../src/audio/pcm.js';
import { newSid } from '../../../src/domain/sids.js';
import { framesWithTone, meanAmplitude } from '../../media/goertzel.js';
import { batches, channel, decodeMp3, interleave, readAll, silence, tone } from './audio-files.js';
import { useTempStorage } from './temp-storage.js';

const recordings = useTempStorage('conclave-mp3-');

async function recorded(pcm: Int16Array, channels: 1 | 2): Promise<string> {
  const sid = newSid('RE');
  const sink = await recordings.storage.create(sid, channels);
  for (const batch of batches(pcm, channels)) sink.append(batch);
  await sink.finish({ trim: false });
  return sid;
}

describe('MP3', () => {
  it('decodes to the recording: the same tones, at the same times, as long', async () => {
    const sid = await recorded(concatPcm([tone(400, 2), silence(1), tone(1000, 2)]), 1);
    const media = await recordings.storage.read(sid, 'mp3');
    expect(media).toMatchObject({ contentType: 'audio/mpeg' });
    const bytes = await readAll(media!.body);
    expect(bytes.length).toBe(media!.size);
    // 32 kbit/s CBR: 4 KB a second.
    expect(bytes.length).toBeGreaterThan(5 * 3800);
    expect(bytes.length).toBeLessThan(5 * 4400);

    const heard = await decodeMp3(bytes);
    expect(heard).toMatchObject({ channels: 1, rate: 8000 });
    expect(heard.seconds).toBeGreaterThan(4.98);
    expect(heard.seconds).toBeLessThan(5.2);
    const at = (frames: number[]): [number, number] => [frames[0]!, frames[frames.length - 1]!];
    const [from400, to400] = at(framesWithTone(heard.samples, 400, 4000));
    const [from1000, to1000] = at(framesWithTone(heard.samples, 1000, 4000));
    // 50 frames a second. The MP3 has no LAME tag to tell the decoder LAME's delay, so the audio
    // comes some 60 ms (3 frames) late: under 100 ms, as a player would start it.
    expect(from400).toBeLessThanOrEqual(5);
    expect(to400).toBeGreaterThanOrEqual(98);
    expect(to400).toBeLessThanOrEqual(105);
    expect(from1000).toBeGreaterThanOrEqual(149);
    expect(from1000).toBeLessThanOrEqual(155);
    expect(to1000).toBeGreaterThanOrEqual(248);
  });

  it('is stereo for a dual recording, each tone on its own channel', async () => {
    const sid = await recorded(interleave(tone(400, 3), tone(1000, 3)), 2);
    const heard = await decodeMp3(await readAll((await recordings.storage.read(sid, 'mp3'))!.body));
    expect(heard.channels).toBe(2);
    expect(heard.seconds).toBeGreaterThan(2.98);
    expect(heard.seconds).toBeLessThan(3.2);
    const [first, second] = [channel(heard.samples, 0, 2), channel(heard.samples, 1, 2)];
    expect(meanAmplitude(first, 400)).toBeGreaterThan(6000);
    expect(meanAmplitude(second, 1000)).toBeGreaterThan(6000);
    expect(meanAmplitude(first, 1000)).toBeLessThan(300);
    expect(meanAmplitude(second, 400)).toBeLessThan(300);
  });

  it('is made once and cached beside the WAV; made again when the WAV is newer', async () => {
    const sid = await recorded(tone(400, 2), 1);
    const first = await readAll((await recordings.storage.read(sid, 'mp3'))!.body);
    const cached = join(recordings.dir, `${sid}.mp3`);
    const made = (await stat(cached)).mtimeMs;
    expect(await readdir(recordings.dir)).toHaveLength(2);

    const second = await readAll((await recordings.storage.read(sid, 'mp3'))!.body);
    expect(second.equals(first)).toBe(true);
    expect((await stat(cached)).mtimeMs).toBe(made);

    const old = new Date(Date.now() - 60_000);
    await utimes(cached, old, old);
    await readAll((await recordings.storage.read(sid, 'mp3'))!.body);
    expect((await stat(cached)).mtimeMs).toBeGreaterThan(old.getTime());
  });

  it('answers concurrent requests with one encoding and leaves no temporary file', async () => {
    const sid = await recorded(tone(400, 5), 1);
    const bodies = await Promise.all(Array.from({ length: 4 }, async () => readAll((await recordings.storage.read(sid, 'mp3'))!.body)));
    for (const body of bodies) expect(body.equals(bodies[0]!)).toBe(true);
    expect((await readdir(recordings.dir)).sort()).toEqual([`${sid}.mp3`, `${sid}.wav`]);
  });

  it('of a recording still being written here is made of what is on disk, and not cached', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 1);
    for (const batch of batches(tone(400, 2), 1)) sink.append(batch);
    const media = await recordings.storage.read(sid, 'mp3');
    expect(media?.contentType).toBe('audio/mpeg');
    await readAll(media!.body);
    expect(await readdir(recordings.dir)).toEqual([`${sid}.wav`]);
    await sink.finish({ trim: false });
  });

  it('is undefined for a recording there is no WAV of', async () => {
    expect(await recordings.storage.read(newSid('RE'), 'mp3')).toBeUndefined();
  });

  it('is made off the event loop: ten minutes of dual audio take over half a second, and the loop never waits 150 ms', async () => {
    const sid = newSid('RE');
    const sink = await recordings.storage.create(sid, 2);
    const minute = interleave(tone(400, 60), tone(1000, 60));
    for (let i = 0; i < 10; i++) sink.append(minute);
    await sink.finish({ trim: false });

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const media = await recordings.storage.read(sid, 'mp3');
    const took = performance.now() - started;
    delay.disable();
    // Encoded on the loop, the loop would wait the whole encoding; the few tens of ms it may
    // wait are the collection of this test's own 19 MB of audio.
    expect(took).toBeGreaterThan(500);
    expect(delay.max / 1e6).toBeLessThan(150);
    expect(media!.size).toBeGreaterThan(600 * 7800); // 64 kbit/s
    await readAll(media!.body);
  });
});
