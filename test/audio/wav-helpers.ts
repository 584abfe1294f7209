/**
 * Test helpers for src/audio/: a small WAV encoder (every layout the decoder must accept, and
 * broken ones), sox, lame and espeak-ng runners that fail loudly when the binary is missing, and
 * tone measurement over the steady middle of a decoded sound.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALAW_ENCODE, MULAW_ENCODE } from '../../src/media/codec/g711.js';
import { goertzel } from '../media/goertzel.js';

export type Encoding = 'u8' | 's16' | 's24' | 's32' | 'f32' | 'f64' | 'alaw' | 'mulaw';

export interface WavSpec {
  rate: number;
  encoding: Encoding;
  /** One array per channel, samples in [-1, 1]. */
  channels: Float64Array[];
  extensible?: boolean;
  /** Chunks written before fmt, between fmt and data, and after data. */
  before?: { id: string; body: Uint8Array }[];
  between?: { id: string; body: Uint8Array }[];
  after?: { id: string; body: Uint8Array }[];
  /** Overrides the data chunk's size field (e.g. 0xFFFFFFFF for "streaming"). */
  dataSizeField?: number;
}

const BYTES: Record<Encoding, number> = { u8: 1, s16: 2, s24: 3, s32: 4, f32: 4, f64: 8, alaw: 1, mulaw: 1 };
const TAG: Record<Encoding, number> = { u8: 1, s16: 1, s24: 1, s32: 1, f32: 3, f64: 3, alaw: 6, mulaw: 7 };

/** Sine of `freq` Hz, `seconds` long, amplitude `amp` (of full scale) at `rate`. */
export function sine(freq: number, rate: number, seconds: number, amp = 0.5): Float64Array {
  const out = new Float64Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

function chunk(id: string, body: Uint8Array, sizeField = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set([...id].map((c) => c.charCodeAt(0)), 0);
  new DataView(out.buffer).setUint32(4, sizeField >>> 0, true);
  out.set(body, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The fmt chunk body: 16 bytes, or 40 for WAVE_FORMAT_EXTENSIBLE. */
export function fmtBody(tag: number, channels: number, rate: number, bits: number, blockAlign: number, extensible = false, subformat = tag): Uint8Array {
  const body = new Uint8Array(extensible ? 40 : 16);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, extensible ? 0xfffe : tag, true);
  dv.setUint16(2, channels, true);
  dv.setUint32(4, rate, true);
  dv.setUint32(8, rate * blockAlign, true);
  dv.setUint16(12, blockAlign, true);
  dv.setUint16(14, bits, true);
  if (extensible) {
    dv.setUint16(16, 22, true);
    dv.setUint16(18, bits, true);
    dv.setUint32(20, 0, true);
    dv.setUint32(24, subformat, true);
    body.set([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 28);
  }
  return body;
}

/** A complete RIFF/WAVE file around the given chunks. */
export function riff(chunks: Uint8Array[], magic = 'RIFF', type = 'WAVE'): Uint8Array {
  const body = concat(chunks);
  const head = new Uint8Array(12);
  head.set([...magic, '\0', '\0', '\0', '\0', ...type].slice(0, 12).map((c) => c.charCodeAt(0)));
  new DataView(head.buffer).setUint32(4, body.length + 4, true);
  return concat([head, body]);
}

export { chunk as riffChunk };

/** Encodes `spec` to WAV bytes. */
export function encodeWav(spec: WavSpec): Uint8Array {
  const n = spec.channels[0]!.length;
  const ch = spec.channels.length;
  const bps = BYTES[spec.encoding];
  const data = new Uint8Array(n * ch * bps);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ch; c++) {
      const x = Math.max(-1, Math.min(1, spec.channels[c]![i]!));
      const at = (i * ch + c) * bps;
      const s16 = Math.max(-32768, Math.min(32767, Math.round(x * 32768)));
      switch (spec.encoding) {
        case 'u8': data[at] = Math.max(0, Math.min(255, Math.round(x * 128) + 128)); break;
        case 's16': dv.setInt16(at, s16, true); break;
        case 's24': {
          const v = Math.max(-8388608, Math.min(8388607, Math.round(x * 8388608)));
          data[at] = v & 0xff; data[at + 1] = (v >> 8) & 0xff; data[at + 2] = (v >> 16) & 0xff;
          break;
        }
        case 's32': dv.setInt32(at, Math.max(-2147483648, Math.min(2147483647, Math.round(x * 2147483648))), true); break;
        case 'f32': dv.setFloat32(at, x, true); break;
        case 'f64': dv.setFloat64(at, x, true); break;
        case 'alaw': data[at] = ALAW_ENCODE[s16 & 0xffff]!; break;
        case 'mulaw': data[at] = MULAW_ENCODE[s16 & 0xffff]!; break;
      }
    }
  }
  const fmt = fmtBody(TAG[spec.encoding], ch, spec.rate, bps * 8, bps * ch, spec.extensible);
  return riff([
    ...(spec.before ?? []).map((c) => chunk(c.id, c.body)),
    chunk('fmt ', fmt),
    ...(spec.between ?? []).map((c) => chunk(c.id, c.body)),
    chunk('data', data, spec.dataSizeField),
    ...(spec.after ?? []).map((c) => chunk(c.id, c.body)),
  ]);
}

/** Runs a required binary; a missing one fails the test with the apt-get line to fix it. */
export function run(command: string, args: string[]): Buffer {
  const res = spawnSync(command, args, { maxBuffer: 256 * 1024 * 1024 });
  if (res.error !== undefined) {
    const code = (res.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${command} is not installed; these tests need it: apt-get install -y ${command}`);
    throw res.error;
  }
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${res.status}: ${res.stderr.toString()}`);
  return res.stdout;
}

/** A WAV made by sox: `sox -D -n <format args> out.wav synth <synth args>`. */
export function soxWav(formatArgs: string[], synthArgs: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-audio-'));
  try {
    const file = join(dir, 'out.wav');
    run('sox', ['-D', '-n', ...formatArgs, file, 'synth', ...synthArgs]);
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An MP3 made by lame (Debian package `lame`) from `wav`: `lame --quiet <args> in.wav out.mp3`. */
export function lameMp3(wav: Uint8Array, args: string[] = []): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-audio-'));
  try {
    writeFileSync(join(dir, 'in.wav'), wav);
    run('lame', ['--quiet', ...args, join(dir, 'in.wav'), join(dir, 'out.mp3')]);
    return new Uint8Array(readFileSync(join(dir, 'out.mp3')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Amplitude of `freq` over the middle 6400 samples (0.8 s) of an 8 kHz signal, away from the
 * edges; bin-aligned for multiples of 1.25 Hz.
 */
export function toneAmplitude(pcm: Int16Array, freq: number): number {
  const start = Math.floor((pcm.length - 6400) / 2);
  return goertzel(pcm.subarray(start, start + 6400), freq, 8000);
}

export function rms(pcm: ArrayLike<number>, from = 0, to = pcm.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** 20·log10(a / b). */
export const db = (a: number, b: number): number => 20 * Math.log10(Math.max(a, 1e-9) / b);

/** A WAV of `bytes` bytes in all: a repeated 1 kHz tone at `rate` (a multiple of 1000), 8 or 16 bits, mono or stereo. */
export function bigWav(bytes: number, rate: number, channels: number, bits: 8 | 16): Buffer {
  const blockAlign = channels * (bits / 8);
  const dataBytes = Math.floor((bytes - 44) / blockAlign) * blockAlign;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36);
  header.writeUInt32LE(dataBytes, 40);
  // One period of 1 kHz, repeated: rate / 1000 frames.
  const period = Buffer.alloc((rate / 1000) * blockAlign);
  for (let i = 0; i < rate / 1000; i++) {
    const v = 0.5 * Math.sin((2 * Math.PI * i * 1000) / rate);
    for (let c = 0; c < channels; c++) {
      if (bits === 8) period.writeUInt8(Math.round(128 + 127 * v), i * blockAlign + c);
      else period.writeInt16LE(Math.round(32767 * v), i * blockAlign + c * 2);
    }
  }
  const file = Buffer.allocUnsafe(44 + dataBytes);
  header.copy(file);
  file.fill(period, 44);
  return file;
}
