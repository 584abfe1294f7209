/**
 * The in-band DTMF detector on its own: every Q.23 pair found once per press, at loud and quiet
 * levels, through G.711; short blips, wrong twist and off-frequency tones refused; and no
 * digit at all in the built-in hold and wait music, speech-like audio or noise.
 */
import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../src/media/codec/g711.js';
import { DIGITS, HIGH_HZ, LOW_HZ } from '../../src/media/keypad.js';
import { builtinSounds } from '../../src/media/sounds.js';
import { digitsIn } from './digits-in.js';
import { speechLike } from './speech-like.js';

const DBM0 = 32768 * Math.pow(10, -3.17 / 20);
const peakAt = (dbm0: number): number => DBM0 * Math.pow(10, dbm0 / 20);

/** PCM of tones and silences: [code or −1, ms, low dBm0, high dBm0]. */
function keyed(parts: [number, number, number?, number?][], offset = 0, lowHz?: number): Int16Array {
  const total = offset + parts.reduce((a, p) => a + (p[1] * 8), 0);
  const pcm = new Int16Array(Math.ceil(total / 160) * 160); // whole frames: the last is padded with silence
  let at = offset;
  for (const [code, ms, lo = -10, hi = -8] of parts) {
    const n = ms * 8;
    if (code >= 0) {
      const fl = lowHz ?? LOW_HZ[code]!;
      const fh = HIGH_HZ[code]!;
      for (let i = 0; i < n; i++) pcm[at + i] = Math.round(peakAt(lo) * Math.sin((2 * Math.PI * fl * i) / 8000) + peakAt(hi) * Math.sin((2 * Math.PI * fh * i) / 8000));
    }
    at += n;
  }
  return pcm;
}

/** Through μ-law, as an RTP leg receives it. */
function viaMulaw(pcm: Int16Array): Int16Array {
  const bytes = new Uint8Array(pcm.length);
  encodeMulaw(pcm, bytes);
  const out = new Int16Array(pcm.length);
  decodeMulaw(bytes, out);
  return out;
}

describe('in-band DTMF detector', () => {
  it('finds all sixteen digits once each, through μ-law, at −10/−8 dBm0 and at −28/−26 dBm0', () => {
    for (const [lo, hi] of [[-10, -8], [-28, -26]] as const) {
      const parts: [number, number, number, number][] = [];
      for (let c = 0; c < 16; c++) parts.push([c, 100, lo, hi], [-1, 100, 0, 0]);
      expect(digitsIn(viaMulaw(keyed(parts))), `${lo} dBm0`).toBe(DIGITS);
    }
  });

  it('takes a 40 ms press wherever it falls in the frames, and refuses a 20 ms blip', () => {
    for (let offset = 0; offset < 160; offset += 20) {
      expect(digitsIn(keyed([[5, 40], [-1, 60], [9, 45]], offset)), `offset ${offset}`).toBe('59');
      expect(digitsIn(keyed([[5, 20], [-1, 100]], offset)), `offset ${offset}`).toBe('');
    }
  });

  it('reports a key held for seconds once, and the same key pressed twice twice', () => {
    expect(digitsIn(keyed([[1, 3000]]))).toBe('1');
    expect(digitsIn(keyed([[1, 100], [-1, 60], [1, 100]]))).toBe('11');
  });

  it('refuses twist beyond its limits, a lone tone, and a pair off the Q.23 frequencies', () => {
    expect(digitsIn(keyed([[1, 200, -24, -10]]))).toBe(''); // high 14 dB over low
    expect(digitsIn(keyed([[1, 200, -10, -20]]))).toBe(''); // low 10 dB over high
    expect(digitsIn(keyed([[1, 200, -10, -90]]))).toBe('');
    expect(digitsIn(keyed([[4, 200]], 0, 811))).toBe(''); // 811 Hz: between the 770 and 852 Hz rows
  });

  it('finds no digit in the hold and wait music, speech-like audio or noise', () => {
    const sounds = builtinSounds();
    // The music loops: several passes, each entered at another phase of the frames.
    for (const name of ['hold-music', 'wait-music', 'ringback', 'beep', 'beep-exit'] as const) {
      for (const offset of [0, 37, 80, 123]) {
        const pcm = new Int16Array(offset + sounds[name].length);
        pcm.set(sounds[name], offset);
        expect(digitsIn(viaMulaw(pcm)), `${name} +${offset}`).toBe('');
      }
    }
    for (let seed = 1; seed <= 6; seed++) expect(digitsIn(viaMulaw(speechLike(30, seed))), `speech seed ${seed}`).toBe('');
    let s = 1;
    const noise = new Int16Array(8000 * 20).map(() => ((s = (s * 1103515245 + 12345) >>> 0), ((s >>> 16) & 0x3fff) - 0x2000));
    expect(digitsIn(noise)).toBe('');
  });

  it('finds digits spoken over: a press at −10 dBm0 over speech-like audio 10 dB quieter', () => {
    const speech = speechLike(2, 3, 4000);
    const keys = keyed([[-1, 200], [3, 100], [-1, 100], [7, 100], [-1, 100], [11, 100], [-1, 200]]);
    const mixed = new Int16Array(keys.length);
    for (let i = 0; i < keys.length; i++) mixed[i] = Math.max(-32768, Math.min(32767, keys[i]! + (speech[i] ?? 0)));
    expect(digitsIn(viaMulaw(mixed))).toBe('37#');
  });
});
