/**
 * What in-band DTMF detection costs (issue 12): ns per 20 ms frame of the detector
 * (src/media/dtmf-detector.ts) on silence, quiet line noise, speech-like audio, the built-in
 * hold music and key presses, side by side in one run with the compute an RTP leg already spends
 * per frame (parse, μ-law decode, jitter buffer in and out, μ-law encode, header), and what each
 * would be for 1,000 such legs as a share of one core. Medians over alternating runs.
 *
 *   npx tsx bench/dtmf-detector.ts [--seconds 20] [--runs 7]
 *
 * The leg's own figure is compute only: the socket calls, which dominate a participant's cost
 * (BENCHMARKS.md, "CPU and memory per participant": ≈ 0.08 % of a core, 16 µs per 20 ms, with
 * batched UDP), are not in it.
 */
import { performance } from 'node:perf_hooks';
import { MULAW_DECODE, MULAW_ENCODE, encodeMulaw, decodeMulaw } from '../src/media/codec/g711.js';
import { DtmfDetector } from '../src/media/dtmf-detector.js';
import { JitterBuffer } from '../src/media/jitter-buffer.js';
import { keySteps, digitTone, TONE_FRAMES, KEY_FRAME } from '../src/media/keypad.js';
import { createRtpView, readRtp, serializeRtp, writeRtpHeader } from '../src/media/rtp/rtp-packet.js';
import { builtinSounds } from '../src/media/sounds.js';
import { speechLike } from '../test/media/speech-like.js';
import { machine } from './report.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** 20 ms frames of `pcm`, as an RTP leg receives them (through μ-law). */
function frames(pcm: Int16Array, count: number): Int16Array[] {
  const out: Int16Array[] = [];
  const bytes = new Uint8Array(160);
  for (let k = 0; k < count; k++) {
    const at = (k * 160) % (pcm.length - 160);
    const f = new Int16Array(160);
    encodeMulaw(pcm.subarray(at, at + 160), bytes);
    decodeMulaw(bytes, f);
    out.push(f);
  }
  return out;
}

/** Key presses as `sendDigits` makes them: 100 ms tone, 100 ms gap, over and over. */
function presses(seconds: number): Int16Array {
  const pcm = new Int16Array(8000 * seconds);
  const steps = keySteps('1234567890*#ABCD');
  let at = 0;
  for (let k = 0; at + 1600 <= pcm.length; k++) {
    pcm.set(digitTone(steps[k % steps.length]!.code), at);
    at += 2 * TONE_FRAMES * KEY_FRAME;
  }
  return pcm;
}

function lineNoise(seconds: number): Int16Array {
  let s = 7;
  // About −55 dBm0: an idle line's hiss, not digital silence.
  return new Int16Array(8000 * seconds).map(() => ((s = (s * 1103515245 + 12345) >>> 0), ((s >>> 16) % 41) - 20));
}

/** ns per frame of the detector over `input`, one pass. */
function timeDetector(input: Int16Array[]): { ns: number; filtered: number; digits: number } {
  const d = new DtmfDetector();
  let digits = 0;
  const t0 = performance.now();
  for (let i = 0; i < input.length; i++) if (d.process(input[i]!) !== null) digits++;
  const ns = ((performance.now() - t0) * 1e6) / input.length;
  return { ns, filtered: d.filtered / input.length, digits };
}

/** ns per frame of what an RTP leg computes anyway: packet in → decode → jitter buffer → out, encode, header. */
function timeLeg(input: Int16Array[]): number {
  const jb = new JitterBuffer();
  const view = createRtpView();
  const decoded = new Int16Array(160);
  const packets = input.map((f, k) => {
    const payload = new Uint8Array(160);
    encodeMulaw(f, payload);
    return serializeRtp({ marker: k === 0, payloadType: 0, sequenceNumber: k & 0xffff, timestamp: k * 160, ssrc: 1, payload });
  });
  const out = new Uint8Array(172);
  let sink = 0;
  const t0 = performance.now();
  for (let k = 0; k < packets.length; k++) {
    const msg = packets[k]!;
    readRtp(msg, view);
    for (let i = 0, o = view.payloadOffset; i < 160; i++) decoded[i] = MULAW_DECODE[msg[o + i]!]!;
    jb.push(view.sequenceNumber, view.timestamp, view.ssrc, decoded);
    const frame = jb.pop();
    if (frame !== null) for (let i = 0; i < 160; i++) out[12 + i] = MULAW_ENCODE[frame[i]! & 0xffff]!;
    writeRtpHeader(out, false, 0, k & 0xffff, k * 160, 1);
    sink += out[12]!;
  }
  const ns = ((performance.now() - t0) * 1e6) / packets.length;
  if (sink < 0) console.log(sink);
  return ns;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const seconds = option('seconds', 20);
  const runs = option('runs', 7);
  const count = seconds * 50;
  const sounds = builtinSounds();
  const signals: [string, Int16Array[]][] = [
    ['digital silence', frames(new Int16Array(8000), count)],
    ['line noise (≈ −55 dBm0)', frames(lineNoise(seconds), count)],
    ['speech-like (test/media/speech-like.ts)', frames(speechLike(seconds, 5), count)],
    ['hold music (built-in)', frames(sounds['hold-music'], count)],
    ['key presses (100 ms on / 100 ms off)', frames(presses(seconds), count)],
  ];
  console.log(`Machine: ${machine()}`);
  console.log(`${seconds} s of audio per signal (${count} frames), ${runs} alternating runs after one warm-up; median ns per 20 ms frame\n`);
  const detector = new Map<string, number[]>();
  const leg: number[] = [];
  const meta = new Map<string, { filtered: number; digits: number }>();
  for (let run = -1; run < runs; run++) {
    const order = run % 2 === 0 ? signals : [...signals].reverse();
    for (const [name, input] of order) {
      const r = timeDetector(input);
      if (run >= 0) detector.set(name, [...(detector.get(name) ?? []), r.ns]);
      meta.set(name, r);
    }
    const ns = timeLeg(signals[2]![1]);
    if (run >= 0) leg.push(ns);
  }
  const share = (ns: number): string => `${((ns * 50 * 1000) / 1e9 * 100).toFixed(2)} %`;
  const rows: string[][] = [['What', 'ns / frame', '1,000 legs: share of a core', 'frames filtered', 'digits found']];
  rows.push(['RTP leg compute per frame (parse, decode, jitter buffer, encode, header)', median(leg).toFixed(0), share(median(leg)), '', '']);
  for (const [name] of signals) {
    const m = meta.get(name)!;
    const ns = median(detector.get(name)!);
    rows.push([`detector: ${name}`, ns.toFixed(0), share(ns), `${(m.filtered * 100).toFixed(0)} %`, String(m.digits)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
}

main();
