/**
 * The resampler and the sample-bounded LRU cache on their own: output lengths, zero delay,
 * argument checks, the streaming form's identity with the whole-signal one, and eviction order.
 */
import { describe, expect, it } from 'vitest';
import { StreamResampler, resample } from '../../src/audio/resampler.js';
import { SampleCache } from '../../src/audio/sample-cache.js';
import { goertzel } from '../media/goertzel.js';

const tone = (freq: number, rate: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => 10000 * Math.sin((2 * Math.PI * freq * i) / rate));

describe('resample', () => {
  it('returns round(length · out / in) samples', () => {
    expect(resample(new Float32Array(44100), 44100, 8000).length).toBe(8000);
    expect(resample(new Float32Array(441), 44100, 8000).length).toBe(80);
    expect(resample(new Float32Array(1000), 48000, 8000).length).toBe(167);
    expect(resample(new Float32Array(4000), 4000, 8000).length).toBe(8000);
    expect(resample(new Float32Array(0), 48000, 8000).length).toBe(0);
  });

  it('copies when the rates are equal', () => {
    const x = new Float32Array([1, 2, 3]);
    const y = resample(x, 8000, 8000);
    expect(Array.from(y)).toEqual([1, 2, 3]);
    expect(y).not.toBe(x);
  });

  it('adds no delay: an impulse stays at its time', () => {
    for (const rate of [48000, 44100, 22222, 16000]) {
      const x = new Float32Array(rate);
      const at = Math.round(rate / 2);
      x[at] = 1;
      const y = resample(x, rate, 8000);
      let peak = 0;
      for (let i = 1; i < y.length; i++) if (Math.abs(y[i]!) > Math.abs(y[peak]!)) peak = i;
      expect(Math.abs(peak - (at * 8000) / rate)).toBeLessThanOrEqual(1);
    }
  });

  it('keeps a 3 kHz tone and removes a 6 kHz one from 48 kHz', () => {
    const kept = resample(tone(3000, 48000, 48000), 48000, 8000);
    expect(goertzel(kept.subarray(800, 7200), 3000)).toBeCloseTo(10000, -1);
    const gone = resample(tone(6000, 48000, 48000), 48000, 8000);
    expect(goertzel(gone.subarray(800, 7200), 2000)).toBeLessThan(1);
  });

  it('rejects non-integer or non-positive rates', () => {
    expect(() => resample(new Float32Array(10), 44100.5, 8000)).toThrow(RangeError);
    expect(() => resample(new Float32Array(10), 0, 8000)).toThrow(RangeError);
  });
});

describe('StreamResampler', () => {
  /** Pushes `x` in blocks of pseudo-random sizes (some empty) and joins the outputs. */
  function streamed(x: Float32Array, inRate: number, outRate: number, seed: number): Float32Array {
    const r = new StreamResampler(inRate, outRate);
    const parts: Float32Array[] = [];
    let s = seed;
    for (let at = 0; at < x.length; ) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = s % 3 === 0 ? 0 : 1 + (s % 5000);
      parts.push(r.push(x.subarray(at, at + n)));
      at += n;
    }
    parts.push(r.end());
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  it('gives exactly what resample gives for the whole signal, however the input is cut', () => {
    for (const [inRate, outRate] of [[44100, 8000], [48000, 8000], [22050, 8000], [11025, 8000], [22222, 8000], [4000, 8000], [8000, 8000]] as const) {
      const x = Float32Array.from({ length: Math.round(inRate * 0.7) }, (_, i) => 10000 * Math.sin(i / 3) + 3000 * Math.sin(i / 17));
      for (const seed of [1, 2]) expect(streamed(x, inRate, outRate, seed)).toEqual(resample(x, inRate, outRate));
    }
  });

  it('handles signals shorter than the filter, and no signal at all', () => {
    const x = tone(1000, 48000, 50);
    expect(streamed(x, 48000, 8000, 3)).toEqual(resample(x, 48000, 8000));
    expect(new StreamResampler(44100, 8000).end().length).toBe(0);
  });

  it('refuses input after the end, and bad rates', () => {
    const r = new StreamResampler(16000, 8000);
    r.end();
    expect(() => r.push(new Float32Array(1))).toThrow(/after end/);
    expect(() => new StreamResampler(0, 8000)).toThrow(RangeError);
  });
});

describe('SampleCache', () => {
  const pcm = (n: number): Int16Array => new Int16Array(n);

  it('evicts least recently used entries to stay within maxSamples', () => {
    const cache = new SampleCache(100);
    cache.set('a', pcm(40));
    cache.set('b', pcm(40));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', pcm(40)); // evicts b
    expect(cache.has('b')).toBe(false);
    expect(cache.has('a')).toBe(true);
    expect(cache.samples).toBe(80);
    expect(cache.size).toBe(2);
  });

  it('replaces an entry in place and never stores one larger than the bound', () => {
    const cache = new SampleCache(100);
    cache.set('a', pcm(60));
    cache.set('a', pcm(30));
    expect(cache.samples).toBe(30);
    cache.set('huge', pcm(101));
    expect(cache.has('huge')).toBe(false);
    expect(cache.has('a')).toBe(true);
    cache.clear();
    expect(cache.samples).toBe(0);
    expect(() => new SampleCache(-1)).toThrow(RangeError);
  });
});
