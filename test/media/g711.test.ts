/**
 * G.711 μ-law / A-law tables: known code points, quantisation error bounds over every 16-bit
 * input, sign symmetry, and the buffer-based API.
 */
import { describe, expect, it } from 'vitest';
import {
  ALAW_DECODE,
  ALAW_ENCODE,
  ALAW_SILENCE,
  MULAW_DECODE,
  MULAW_ENCODE,
  MULAW_SILENCE,
  decodeAlaw,
  decodeMulaw,
  encodeAlaw,
  encodeMulaw,
} from '../../src/media/codec/g711.js';

const mu = (x: number): number => MULAW_ENCODE[x & 0xffff]!;
const al = (x: number): number => ALAW_ENCODE[x & 0xffff]!;

describe('μ-law', () => {
  it('encodes silence as 0xFF and decodes it back to 0', () => {
    expect(mu(0)).toBe(0xff);
    expect(MULAW_SILENCE).toBe(0xff);
    expect(MULAW_DECODE[0xff]).toBe(0);
    expect(MULAW_DECODE[0x7f]).toBe(0); // "negative zero"
  });

  it('maps the extremes to the top segment codes', () => {
    expect(mu(32767)).toBe(0x80);
    expect(mu(-32768)).toBe(0x00);
    expect(MULAW_DECODE[0x80]).toBe(32124);
    expect(MULAW_DECODE[0x00]).toBe(-32124);
  });

  it('round-trips every 16-bit sample within half a quantisation step', () => {
    const bad: number[] = [];
    for (let x = -32768; x < 32768; x++) {
      const y = MULAW_DECODE[mu(x)]!;
      // Step in segment e is 8 << e and (|x| + bias) >= 128 << e, so half a step <= (|x|+132)/32;
      // beyond the top code's value the input is clipped to it.
      const ok = Math.abs(x) <= 32124 ? Math.abs(y - x) <= (Math.abs(x) + 132) / 32 : y === Math.sign(x) * 32124;
      if (!ok) bad.push(x);
    }
    expect(bad).toEqual([]);
  });

  it('is sign-symmetric', () => {
    for (let code = 0; code < 256; code++) expect(MULAW_DECODE[code ^ 0x80]).toBe(-MULAW_DECODE[code]! || 0);
    const bad: number[] = [];
    for (let x = 1; x < 32768; x++) if (mu(-x) !== (mu(x) ^ 0x80)) bad.push(x);
    expect(bad).toEqual([]);
  });

  it('decode is monotonic in the code order', () => {
    // Positive codes 0xFF..0x80 grow in magnitude.
    for (let code = 0xff; code > 0x80; code--) expect(MULAW_DECODE[code - 1]!).toBeGreaterThan(MULAW_DECODE[code]!);
  });
});

describe('A-law', () => {
  it('encodes silence as 0xD5 (the first interval, decoded +8)', () => {
    expect(al(0)).toBe(0xd5);
    expect(ALAW_SILENCE).toBe(0xd5);
    expect(ALAW_DECODE[0xd5]).toBe(8);
    expect(ALAW_DECODE[0x55]).toBe(-8);
  });

  it('maps the extremes to the top segment codes', () => {
    expect(al(32767)).toBe(0xaa);
    expect(al(-32768)).toBe(0x2a);
    expect(ALAW_DECODE[0xaa]).toBe(32256);
    expect(ALAW_DECODE[0x2a]).toBe(-32256);
  });

  it('round-trips every 16-bit sample within half a quantisation step', () => {
    const bad: number[] = [];
    for (let x = -32768; x < 32768; x++) {
      // Segments 0–1 have a step of 16 (16-bit scale); above, the step is at most |x|/16.
      if (Math.abs(ALAW_DECODE[al(x)]! - x) > Math.abs(x) / 32 + 8) bad.push(x);
    }
    expect(bad).toEqual([]);
  });

  it('is sign-symmetric in its decode table', () => {
    for (let code = 0; code < 256; code++) expect(ALAW_DECODE[code ^ 0x80]).toBe(-ALAW_DECODE[code]!);
  });

  it('re-encodes every decoded value to the same code', () => {
    for (let code = 0; code < 256; code++) expect(al(ALAW_DECODE[code]!)).toBe(code);
  });
});

describe('μ-law codes are stable under decode/encode', () => {
  it('re-encodes every decoded value to the same code (except negative zero)', () => {
    for (let code = 0; code < 256; code++) {
      if (code === 0x7f) continue;
      expect(mu(MULAW_DECODE[code]!)).toBe(code);
    }
  });
});

describe('buffer API', () => {
  it('encodes and decodes a 20 ms frame into preallocated buffers', () => {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
    const codes = new Uint8Array(160);
    const back = new Int16Array(160);
    expect(encodeMulaw(pcm, codes)).toBe(160);
    expect(decodeMulaw(codes, back)).toBe(160);
    for (let i = 0; i < 160; i++) expect(Math.abs(back[i]! - pcm[i]!)).toBeLessThanOrEqual(400);
    expect(encodeAlaw(pcm, codes)).toBe(160);
    expect(decodeAlaw(codes, back)).toBe(160);
    for (let i = 0; i < 160; i++) expect(Math.abs(back[i]! - pcm[i]!)).toBeLessThanOrEqual(400);
  });

  it('converts only as many samples as the shorter buffer holds', () => {
    const codes = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    const out = new Int16Array(2).fill(7);
    expect(decodeMulaw(codes, out)).toBe(2);
    expect(Array.from(out)).toEqual([0, 0]);
    const small = new Uint8Array(3);
    expect(encodeAlaw(new Int16Array(10), small)).toBe(3);
    expect(Array.from(small)).toEqual([0xd5, 0xd5, 0xd5]);
  });
});
