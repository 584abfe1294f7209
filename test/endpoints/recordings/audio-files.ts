/**
 * Hearing a recording as a user's tools would: sox plays the WAV by its header (so a header
 * behind its data plays short, and a broken one does not play at all), Debian's `lame --decode`
 * decodes the MP3. Both come from scripts/test-packages.sh. And the audio the tests record:
 * steady tones and silence, 8 kHz PCM16, interleaved when dual.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Heard {
  channels: number;
  rate: number;
  /** Interleaved when channels is 2. */
  samples: Int16Array;
  seconds: number;
}

/** The WAV as sox reads it: its header's format and as many samples as its header says. */
export async function playWav(path: string): Promise<Heard> {
  const channels = Number((await run('soxi', ['-c', path])).stdout.trim());
  const rate = Number((await run('soxi', ['-r', path])).stdout.trim());
  const { stdout } = await run('sox', [path, '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-L', '-'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  const samples = new Int16Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + (stdout.byteLength & ~1)));
  return { channels, rate, samples, seconds: samples.length / channels / rate };
}

/** The MP3 decoded by `lame --decode`, then heard as a WAV. */
export async function decodeMp3(bytes: Uint8Array): Promise<Heard> {
  const dir = await mkdtemp(join(tmpdir(), 'conclave-mp3-'));
  try {
    await writeFile(join(dir, 'in.mp3'), bytes);
    await run('lame', ['--quiet', '--decode', join(dir, 'in.mp3'), join(dir, 'out.wav')]);
    return await playWav(join(dir, 'out.wav'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `seconds` of a sine at `freq` Hz, amplitude `amplitude` (0 gives silence). */
export function tone(freq: number, seconds: number, amplitude = 8000): Int16Array {
  const pcm = new Int16Array(Math.round(seconds * 8000));
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / 8000));
  return pcm;
}

export function silence(seconds: number): Int16Array {
  return new Int16Array(Math.round(seconds * 8000));
}

/** Two mono signals as one dual (stereo) stream: first channel, second channel, sample by sample. */
export function interleave(first: Int16Array, second: Int16Array): Int16Array {
  const out = new Int16Array(2 * Math.max(first.length, second.length));
  for (let i = 0; i < out.length / 2; i++) {
    out[2 * i] = first[i] ?? 0;
    out[2 * i + 1] = second[i] ?? 0;
  }
  return out;
}

/** One channel of an interleaved stream. */
export function channel(samples: Int16Array, index: number, channels: number): Int16Array {
  const out = new Int16Array(Math.floor(samples.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = samples[i * channels + index]!;
  return out;
}

/** `pcm` cut into 20 ms batches (per channel), as the media thread hands audio over. */
export function* batches(pcm: Int16Array, channels: 1 | 2, ms = 20): Generator<Int16Array> {
  const step = 8 * ms * channels;
  for (let i = 0; i < pcm.length; i += step) yield pcm.subarray(i, i + step);
}

/** A body (RecordingMedia.body) read whole. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
