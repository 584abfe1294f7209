/**
 * What a media file costs to decode, side by side in one run: the same 60 s of audio as a
 * 16-bit 44.1 kHz stereo WAV, a 128 kbit/s MP3 of it (made by `lame`, Debian package `lame`),
 * and 8 kHz raw μ-law, each decoded to 8 kHz mono PCM16 by `decodeAudio` (what `<Play>`, HoldUrl
 * and WaitUrl go through, once per URL: the result is cached). Also the longest event-loop stall
 * while decoding, since decoding runs on the main thread beside SIP and HTTP.
 *
 *   npx tsx bench/decode-audio.ts [--seconds 60] [--runs 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { decodeAudio } from '../src/audio/decode-audio.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** A 16-bit PCM WAV of a 1 kHz tone with a slow 300 Hz wobble (not pure silence for the encoder). */
function wav(rate: number, channels: number, seconds: number): Uint8Array {
  const frames = Math.round(rate * seconds);
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / rate) + 2000 * Math.sin((2 * Math.PI * 300 * i) / rate));
    for (let c = 0; c < channels; c++) data.writeInt16LE(v, (i * channels + c) * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

function mulaw(seconds: number): Uint8Array {
  return new Uint8Array(8000 * seconds).map((_, i) => (i * 37) & 0xff);
}

async function time(bytes: Uint8Array, contentType: string, runs: number): Promise<{ ms: number[]; stallMs: number }> {
  const ms: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  for (let r = 0; r < runs; r++) {
    const since = performance.now();
    await decodeAudio(bytes, { contentType });
    ms.push(performance.now() - since);
    await new Promise((resolve) => setImmediate(resolve)); // a turn, so a blocked loop is recorded
  }
  loop.disable();
  return { ms, stallMs: loop.max / 1e6 };
}

async function main(): Promise<void> {
  const seconds = option('seconds', 60);
  const runs = option('runs', 5);
  const dir = mkdtempSync(join(tmpdir(), 'conclave-decode-'));
  try {
    const wavBytes = wav(44100, 2, seconds);
    writeFileSync(join(dir, 'in.wav'), wavBytes);
    execFileSync('lame', ['--quiet', '-b', '128', join(dir, 'in.wav'), join(dir, 'out.mp3')]);
    const mp3 = new Uint8Array(readFileSync(join(dir, 'out.mp3')));
    const rows: [string, Uint8Array, string][] = [
      ['WAV 44.1 kHz stereo s16', wavBytes, 'audio/wav'],
      ['MP3 44.1 kHz stereo 128 kbit/s', mp3, 'audio/mpeg'],
      ['raw μ-law 8 kHz', mulaw(seconds), 'audio/basic'],
    ];
    console.log(`${seconds} s of audio, ${runs} runs each, median (min–max) ms; longest event-loop stall`);
    for (const [name, bytes, type] of rows) {
      const { ms, stallMs } = await time(bytes, type, runs);
      const sorted = [...ms].sort((a, b) => a - b);
      console.log(
        `${name.padEnd(32)} ${(bytes.length / 1024).toFixed(0).padStart(6)} KiB  ${sorted[Math.floor(runs / 2)]!.toFixed(0).padStart(5)} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)}) ms  stall ${stallMs.toFixed(1)} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
