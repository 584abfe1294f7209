/**
 * `finish({ trim: true })`: Twilio's trim-silence. Leading and trailing silence (20 ms frames
 * whose mean |sample| is under 256) is cut, 200 ms of margin kept on each side, both channels of
 * a dual recording cut together; what lies between is kept untouched, silence included.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concatPcm } from '../../../src/audio/pcm.js';
import { newSid } from '../../../src/domain/sids.js';
import { framesWithTone } from '../../media/goertzel.js';
import { batches, channel, interleave, playWav, silence, tone, type Heard } from './audio-files.js';
import { useTempStorage } from './temp-storage.js';

const recordings = useTempStorage('conclave-trim-');

async function record(pcm: Int16Array, channels: 1 | 2, trim: boolean): Promise<{ duration: number; heard: Heard }> {
  const sid = newSid('RE');
  const sink = await recordings.storage.create(sid, channels);
  for (const batch of batches(pcm, channels)) sink.append(batch);
  const duration = await sink.finish({ trim });
  return { duration, heard: await playWav(join(recordings.dir, `${sid}.wav`)) };
}

/** Low hiss, as an idle line carries: mean |sample| about 50, well under the threshold. */
function hiss(seconds: number): Int16Array {
  const pcm = new Int16Array(Math.round(seconds * 8000));
  let seed = 7;
  for (let i = 0; i < pcm.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    pcm[i] = (seed % 201) - 100;
  }
  return pcm;
}

describe('trim-silence', () => {
  it('cuts the silence before and after the sound, keeping 200 ms each side and the pause inside', async () => {
    const pcm = concatPcm([silence(2), tone(400, 1), hiss(1.5), tone(1000, 0.5), hiss(3)]);
    const { duration, heard } = await record(pcm, 1, true);
    expect(heard.seconds).toBeCloseTo(0.2 + 1 + 1.5 + 0.5 + 0.2, 2);
    expect(duration).toBe(3);
    // The 400 Hz tone starts after the 200 ms margin (frame 10) and the 1000 Hz one ends 200 ms before the end.
    expect(framesWithTone(heard.samples, 400, 4000)[0]).toBe(10);
    const thousand = framesWithTone(heard.samples, 1000, 4000);
    expect(heard.samples.length / 160 - 1 - thousand[thousand.length - 1]!).toBe(10);
  });

  it('leaves a recording alone when asked not to trim', async () => {
    const { duration, heard } = await record(concatPcm([silence(2), tone(400, 1), silence(2)]), 1, false);
    expect(heard.seconds).toBe(5);
    expect(duration).toBe(5);
  });

  it('cuts only the end when the sound starts at once (the file is truncated in place)', async () => {
    const { heard } = await record(concatPcm([tone(400, 1.2), silence(4)]), 1, true);
    expect(heard.seconds).toBeCloseTo(1.4, 2);
    expect(await readdir(recordings.dir)).toHaveLength(1); // no temporary file left
  });

  it('leaves nothing of a recording that was silence throughout (duration 0)', async () => {
    const { duration, heard } = await record(concatPcm([silence(2), hiss(2)]), 1, true);
    expect(duration).toBe(0);
    expect(heard.samples.length).toBe(0);
  });

  it('cuts both channels of a dual recording at the same instants, from the first sound on either to the last', async () => {
    // The first channel speaks from 1 s to 2 s, the second from 3 s to 4 s, of 6 s.
    const first = concatPcm([silence(1), tone(400, 1), silence(4)]);
    const second = concatPcm([silence(3), tone(1000, 1), silence(2)]);
    const { duration, heard } = await record(interleave(first, second), 2, true);
    expect(heard.channels).toBe(2);
    expect(heard.seconds).toBeCloseTo(3.4, 2); // 0.8 s to 4.2 s
    expect(duration).toBe(3);
    const [a, b] = [channel(heard.samples, 0, 2), channel(heard.samples, 1, 2)];
    expect(framesWithTone(a, 400, 4000)).toEqual(range(10, 60));
    expect(framesWithTone(b, 1000, 4000)).toEqual(range(110, 160));
    expect(framesWithTone(a, 1000, 4000)).toEqual([]);
  });

  it('keeps a quiet talker: a tone at mean level 300 is sound', async () => {
    // A sine's mean |sample| is 2/π of its amplitude: 470 gives about 300.
    const { heard } = await record(concatPcm([silence(1), tone(400, 1, 470), silence(1)]), 1, true);
    expect(heard.seconds).toBeCloseTo(1.4, 2);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
