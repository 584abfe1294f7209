/**
 * DTMF for tests, independent of Conclave's own detector: the ITU-T Q.23 frequency pairs, a
 * generator of in-band key tones, and a decoder of the keys in recorded audio (Goertzel per
 * 20 ms frame: the strongest low and high tone both well above the rest), used as the oracle
 * for what a phone or a simulated endpoint heard.
 */
import { goertzel } from '../media/goertzel.js';

const LOW = [697, 770, 852, 941];
const HIGH = [1209, 1336, 1477, 1633];
const KEYPAD = ['123A', '456B', '789C', '*0#D'];

/** The (low, high) frequencies of a key. */
export function keyFrequencies(key: string): [number, number] {
  for (let row = 0; row < 4; row++) {
    const col = KEYPAD[row]!.indexOf(key);
    if (col !== -1) return [LOW[row]!, HIGH[col]!];
  }
  throw new Error(`"${key}" is not a DTMF key`);
}

/** `ms` of a key's two tones at `amplitude` each, 8 kHz, starting at sample `offset` (phase). */
export function keyTone(key: string, ms: number, amplitude = 6000, offset = 0): Int16Array {
  const [low, high] = keyFrequencies(key);
  const out = new Int16Array((ms * 8000) / 1000);
  for (let i = 0; i < out.length; i++) {
    const t = (i + offset) / 8000;
    out[i] = Math.round(amplitude * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t)));
  }
  return out;
}

/** The key a 20 ms frame carries, or null: both its tones clearly above every other DTMF tone. */
function frameKey(frame: Int16Array, minAmplitude: number): string | null {
  const lows = LOW.map((f) => goertzel(frame, f));
  const highs = HIGH.map((f) => goertzel(frame, f));
  const row = lows.indexOf(Math.max(...lows));
  const col = highs.indexOf(Math.max(...highs));
  if (lows[row]! < minAmplitude || highs[col]! < minAmplitude) return null;
  const others = [...lows.filter((_, i) => i !== row), ...highs.filter((_, i) => i !== col)];
  if (others.some((a) => a > Math.min(lows[row]!, highs[col]!) / 4)) return null;
  return KEYPAD[row]![col]!;
}

/**
 * The keys in 8 kHz audio, in order: a key counts once two frames (40 ms, Q.24's minimum) carry
 * it with no other key between; one frame lost to leakage inside a key does not split it, and
 * the same key counts again only after 40 ms without any.
 */
export function keysInAudio(pcm: Int16Array, minAmplitude = 1000): string {
  let keys = '';
  let candidate: string | null = null;
  let seen = 0;
  let quiet = 0;
  for (let at = 0; at + 160 <= pcm.length; at += 160) {
    const key = frameKey(pcm.subarray(at, at + 160), minAmplitude);
    if (key === null) {
      if (++quiet >= 2) {
        candidate = null;
        seen = 0;
      }
      continue;
    }
    quiet = 0;
    if (key !== candidate) {
      candidate = key;
      seen = 1;
    } else if (++seen === 2) {
      keys += key;
    }
  }
  return keys;
}
