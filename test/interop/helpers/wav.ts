/**
 * WAV files for interop tests: a RIFF reader (PCM 16-bit, any rate and channel count), tone
 * files generated with sox, and tone checks with the Goertzel filter of test/media.
 */
import { readFile, rm } from 'node:fs/promises';
import { goertzel } from '../../media/goertzel.js';
import { requireTools, runOk } from './tools.js';

export interface Wav {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Channel 0, scaled to −1…1. */
  samples: Float32Array;
  seconds: number;
}

/** Parses a PCM WAV by walking its RIFF chunks (sndfile and sox both write extra chunks). */
export function parseWav(data: Buffer): Wav {
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let format: { channels: number; sampleRate: number; bits: number; tag: number } | undefined;
  let pcm: Buffer | undefined;
  for (let off = 12; off + 8 <= data.length; ) {
    const id = data.toString('latin1', off, off + 4);
    const size = data.readUInt32LE(off + 4);
    const body = data.subarray(off + 8, Math.min(data.length, off + 8 + size));
    if (id === 'fmt ') {
      format = { tag: body.readUInt16LE(0), channels: body.readUInt16LE(2), sampleRate: body.readUInt32LE(4), bits: body.readUInt16LE(14) };
    } else if (id === 'data') {
      pcm = body;
    }
    off += 8 + size + (size % 2);
  }
  if (!format || !pcm) throw new Error('WAV without fmt or data chunk');
  if (format.bits !== 16 || (format.tag !== 1 && format.tag !== 0xfffe)) {
    throw new Error(`unsupported WAV format: tag ${format.tag}, ${format.bits} bits`);
  }
  const frames = Math.floor(pcm.length / (2 * format.channels));
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) samples[i] = pcm.readInt16LE(i * 2 * format.channels) / 32768;
  return { sampleRate: format.sampleRate, channels: format.channels, bitsPerSample: 16, samples, seconds: frames / format.sampleRate };
}

export async function readWav(path: string): Promise<Wav> {
  return parseWav(await readFile(path));
}

export interface ToneOptions {
  freq: number;
  seconds: number;
  /** Default 8000 (G.711); 48000 for opus. */
  rate?: number;
  /** Default 1; 2 for opus. */
  channels?: number;
  /** Peak amplitude, 0–1; default 0.5. */
  volume?: number;
}

/** Writes a sine tone WAV with sox (16-bit signed PCM). */
export async function writeToneWav(path: string, tone: ToneOptions): Promise<void> {
  requireTools('sox');
  await runOk('sox', [
    '-n', '-r', String(tone.rate ?? 8000), '-c', String(tone.channels ?? 1), '-b', '16', '-e', 'signed-integer', path,
    'synth', String(tone.seconds), 'sine', String(tone.freq), 'vol', String(tone.volume ?? 0.5),
  ]);
}

/** Writes speech with espeak-ng, resampled by sox to 8 kHz mono 16-bit. */
export async function writeSpeechWav(path: string, text: string, rate = 8000): Promise<void> {
  requireTools('espeak-ng', 'sox');
  const raw = `${path}.espeak.wav`;
  await runOk('espeak-ng', ['-w', raw, text]);
  try {
    await runOk('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', '-e', 'signed-integer', path]);
  } finally {
    await rm(raw, { force: true });
  }
}

export interface ToneLevel {
  /** Goertzel amplitude of `freq` (a full-scale sine is 1). */
  amplitude: number;
  /** RMS of the analysed part. */
  rms: number;
  /** Share of the signal power at `freq` (amplitude²/2 over rms²), 0–1. */
  purity: number;
}

/**
 * The level of `freq` in the middle of the recording: `skipSeconds` is cut from both ends to
 * drop call setup and teardown; the window is a whole number of 20 ms frames.
 */
export function toneLevel(wav: Wav, freq: number, skipSeconds = 0.5): ToneLevel {
  const skip = Math.floor(skipSeconds * wav.sampleRate);
  let part = wav.samples.subarray(Math.min(skip, wav.samples.length), Math.max(skip, wav.samples.length - skip));
  const frame = Math.round(wav.sampleRate / 50);
  part = part.subarray(0, part.length - (part.length % frame));
  if (part.length === 0) return { amplitude: 0, rms: 0, purity: 0 };
  const amplitude = goertzel(part, freq, wav.sampleRate);
  let sum = 0;
  for (const s of part) sum += s * s;
  const rms = Math.sqrt(sum / part.length);
  return { amplitude, rms, purity: rms === 0 ? 0 : Math.min(1, (amplitude * amplitude) / 2 / (rms * rms)) };
}

/** Goertzel amplitude of `freq` in each whole 20 ms frame of `samples` (a full-scale sine is 1). */
export function frameLevels(samples: Float32Array, freq: number, rate = 8000): number[] {
  const frame = Math.round(rate / 50);
  const levels: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) levels.push(goertzel(samples.subarray(i, i + frame), freq, rate));
  return levels;
}

/** The mean of frameLevels (0 for no frames). */
export function meanLevel(samples: Float32Array, freq: number, rate = 8000): number {
  const levels = frameLevels(samples, freq, rate);
  return levels.length === 0 ? 0 : levels.reduce((a, b) => a + b, 0) / levels.length;
}
