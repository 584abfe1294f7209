/**
 * The default sounds, generated in code at start (no audio files to license or ship): an enter
 * beep, a distinct exit beep (two short lower tones), gentle hold and wait music — slow
 * arpeggios of sine chords with soft envelopes, about 8 s, made to loop seamlessly — and the
 * North American ringback tone a caller hears while `<Dial answerOnBridge>` rings.
 * All are 8 kHz mono PCM16, peaks kept well below full scale (no clipping).
 */
import type { BuiltinSound } from './protocol.js';

export const SAMPLE_RATE = 8000;

/** Adds a sine burst with raised-cosine attack/release into `out` (float buffer). */
function addTone(out: Float64Array, startSec: number, durSec: number, hz: number, amp: number, fadeSec: number): void {
  const start = Math.round(startSec * SAMPLE_RATE);
  const len = Math.round(durSec * SAMPLE_RATE);
  const fade = Math.max(1, Math.round(fadeSec * SAMPLE_RATE));
  const w = (2 * Math.PI * hz) / SAMPLE_RATE;
  for (let i = 0; i < len; i++) {
    const idx = (start + i) % out.length; // wraps, so a note may ring over the loop point
    let env = 1;
    if (i < fade) env = 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
    else if (i > len - fade) env = 0.5 - 0.5 * Math.cos((Math.PI * (len - i)) / fade);
    out[idx] = out[idx]! + amp * env * Math.sin(w * i);
  }
}

/** Scales to the wanted peak and converts to int16. */
function toPcm(buf: Float64Array, peak: number): Int16Array {
  let max = 0;
  for (let i = 0; i < buf.length; i++) max = Math.max(max, Math.abs(buf[i]!));
  const k = max > 0 ? peak / max : 0;
  const pcm = new Int16Array(buf.length);
  for (let i = 0; i < buf.length; i++) pcm[i] = Math.round(buf[i]! * k);
  return pcm;
}

/** Enter: one 700 Hz tone, 0.25 s. */
function makeBeep(): Int16Array {
  const out = new Float64Array(Math.round(0.25 * SAMPLE_RATE));
  addTone(out, 0, 0.25, 700, 1, 0.01);
  return toPcm(out, 8000);
}

/** Exit: two short lower tones (500 Hz then 400 Hz). */
function makeBeepExit(): Int16Array {
  const out = new Float64Array(Math.round(0.4 * SAMPLE_RATE));
  addTone(out, 0, 0.15, 500, 1, 0.01);
  addTone(out, 0.22, 0.15, 400, 1, 0.01);
  return toPcm(out, 8000);
}

/**
 * Ringback: 440 Hz + 480 Hz together for 2 s, then 4 s of silence, one 6 s cycle to loop (the
 * North American audible ringing tone, ITU-T E.180 Supplement 2 / ANSI T1.401; FreeSWITCH
 * spells it `%(2000,4000,440,480)`).
 */
function makeRingback(): Int16Array {
  const out = new Float64Array(6 * SAMPLE_RATE);
  addTone(out, 0, 2, 440, 1, 0.005);
  addTone(out, 0, 2, 480, 1, 0.005);
  return toPcm(out, 8000);
}

const NOTE = (semitonesFromA4: number): number => 440 * Math.pow(2, semitonesFromA4 / 12);

/**
 * A slow arpeggio over four chords (2 s each, 8 s total); each chord's notes enter one after the
 * other and ring with a long release, over a soft sustained root an octave lower.
 */
function makeArpeggio(chords: number[][], noteSec: number, peak: number): Int16Array {
  const chordSec = 2;
  const out = new Float64Array(chords.length * chordSec * SAMPLE_RATE);
  chords.forEach((chord, c) => {
    const t0 = c * chordSec;
    addTone(out, t0, chordSec, NOTE(chord[0]! - 12), 0.35, 0.3);
    chord.forEach((semi, n) => {
      addTone(out, t0 + n * noteSec, chordSec - n * noteSec + 0.3, NOTE(semi), 0.5, 0.08);
    });
  });
  return toPcm(out, peak);
}

function makeHoldMusic(): Int16Array {
  // C major – A minor – F major – G major, mid register.
  return makeArpeggio(
    [
      [-9, -5, -2, 3],
      [-12, -9, -5, 0],
      [-16, -12, -9, -4],
      [-14, -10, -7, -2],
    ],
    0.4,
    6000,
  );
}

function makeWaitMusic(): Int16Array {
  // D minor – B♭ major – F major – C major, a little slower and softer.
  return makeArpeggio(
    [
      [-7, -4, 0, 5],
      [-11, -7, -4, 1],
      [-16, -12, -9, -4],
      [-9, -5, -2, 3],
    ],
    0.5,
    5000,
  );
}

let cache: Record<BuiltinSound, Int16Array> | null = null;

/** The built-in sounds, generated once on first use. */
export function builtinSounds(): Readonly<Record<BuiltinSound, Int16Array>> {
  cache ??= {
    beep: makeBeep(),
    'beep-exit': makeBeepExit(),
    'hold-music': makeHoldMusic(),
    'wait-music': makeWaitMusic(),
    ringback: makeRingback(),
  };
  return cache;
}

/** A PCM16 mono WAV file (RIFF, 44-byte header) of `pcm` at `sampleRate`. */
export function encodeWav(pcm: Int16Array, sampleRate = SAMPLE_RATE): Uint8Array {
  const dataBytes = pcm.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const ascii = (off: number, s: string): void => {
    for (let i = 0; i < s.length; i++) out[off + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true); // byte rate
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, dataBytes, true);
  for (let i = 0; i < pcm.length; i++) v.setInt16(44 + i * 2, pcm[i]!, true);
  return out;
}
