/**
 * Test helpers for tone checks: the Goertzel filter (one DFT bin, as in Asterisk's DSP and the
 * mediastreamer2 tone tester, reference/media-plane.md §6) and frame sources that generate tones.
 */
import type { FrameSource } from '../../src/media/mixer.js';

/**
 * Amplitude of `freq` in `samples`: a full-period sine of amplitude A on a bin-aligned frequency
 * (a multiple of rate/N, i.e. 50 Hz for 160 samples at 8 kHz) gives A.
 */
export function goertzel(samples: ArrayLike<number> | null, freq: number, rate = 8000): number {
  if (samples === null) return 0;
  const n = samples.length;
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}

/** Amplitude relative to full scale, in dB. */
export function dbfs(amplitude: number): number {
  return 20 * Math.log10(Math.max(amplitude, 1e-9) / 32768);
}

/** A continuous sine, one 160-sample frame per pop, phase kept across frames. */
export class ToneSource implements FrameSource {
  private readonly buf: Int16Array;
  private n = 0;
  constructor(private readonly freq: number, private readonly amplitude = 8000, frameSamples = 160, private readonly rate = 8000) {
    this.buf = new Int16Array(frameSamples);
  }
  pop(): Int16Array {
    const w = (2 * Math.PI * this.freq) / this.rate;
    for (let i = 0; i < this.buf.length; i++) this.buf[i] = Math.round(this.amplitude * Math.sin(w * this.n++));
    return this.buf;
  }
}

/** A full-scale square wave (+32767 / −32768), all instances in phase. */
export class SquareSource implements FrameSource {
  private readonly buf = new Int16Array(160);
  constructor(periodSamples = 20) {
    for (let i = 0; i < 160; i++) this.buf[i] = i % periodSamples < periodSamples / 2 ? 32767 : -32768;
  }
  pop(): Int16Array {
    return this.buf;
  }
}

/** A source whose next frames are set by the test: a constant level, or null for silence. */
export class ScriptedSource implements FrameSource {
  level: number | null = null;
  private readonly buf = new Int16Array(160);
  pop(): Int16Array | null {
    if (this.level === null) return null;
    // Alternate signs so the mean |s| equals the level while the frame carries no DC.
    for (let i = 0; i < 160; i++) this.buf[i] = i % 2 === 0 ? this.level : -this.level;
    return this.buf;
  }
}

/** Mean Goertzel amplitude of `freq` over the 160-sample frames of `pcm` (a steady tone of amplitude A gives ~A). */
export function meanAmplitude(pcm: Int16Array, freq: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i + 160 <= pcm.length; i += 160, n++) sum += goertzel(pcm.subarray(i, i + 160), freq);
  return n === 0 ? 0 : sum / n;
}

/**
 * Indexes of the 160-sample frames of `pcm` in which `freq` is stronger than `threshold`: where a
 * tone was heard in a recording, whenever it began (which depends on how busy the machine was).
 */
export function framesWithTone(pcm: Int16Array, freq: number, threshold: number): number[] {
  const found: number[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) if (goertzel(pcm.subarray(i, i + 160), freq) > threshold) found.push(i / 160);
  return found;
}
