/**
 * In-band DTMF detection (ITU-T Q.23 tones in the audio itself), for RTP legs whose peer did
 * not negotiate RFC 4733 telephone-events: old gateways, some trunks, a phone set to in-band.
 *
 * The method is the one Asterisk's dsp.c and most softswitches use: one Goertzel filter per
 * Q.23 frequency (four low, four high) over a block of samples, then checks that the block
 * really is one digit and not speech or music that happens to have energy there:
 * - level: each of the two tones at least about −32 dBm0 (a quiet phone is −25 dBm0 at worst);
 * - relative peak: the strongest low tone 8 dB above the other three low ones, likewise high;
 * - twist: the high tone at most 8 dB above the low one, the low one at most 4 dB above the
 *   high one (Asterisk's DTMF_NORMAL_TWIST / DTMF_REVERSE_TWIST);
 * - energy ratio: the two tones carry at least 40 % of the block's energy — speech and music
 *   spread theirs over many harmonics, a key press puts nearly all of it in two (20 minutes of
 *   speech-like audio give no block that passes all the checks; test/media/dtmf-detector.test.ts);
 * - duration: the same digit in two blocks in a row, one of them full of it (at least 75 % of
 *   its energy: a press of 40 ms, Q.24's minimum, always fills one block; a 20 ms blip
 *   straddling two fills neither); it is
 *   reported once, when it has been missing for two blocks (the key released), as an RFC 4733
 *   digit is reported on its end packet.
 *
 * A block is one 20 ms frame (160 samples, 50 Hz per bin): the closest Q.23 pair, 697 and
 * 770 Hz, is 1.5 bins apart, so one tone leaks at most about −13 dB into its neighbour's filter,
 * under the 8 dB relative-peak check. A tone covering half a block still passes the ratio check
 * there (its share of the energy falls with the covered fraction), so a 40 ms press straddling
 * three blocks gives two hits. The price of 50 Hz bins is the frequency tolerance: a tone about
 * 4 % off its Q.23 frequency still counts (Q.24 asks to refuse 3.5 % off); one between two rows
 * or columns does not.
 *
 * It must cost little, since it runs on every frame such a leg receives: a quiet frame (less power than
 * two tones at −35 dBm0) is a miss after one pass of squares, and the eight filters run
 * in one loop over the samples with their state in locals. BENCHMARKS.md "Keypad digits
 * (issue 12)" has the figures.
 */
import { DIGITS, HIGH_HZ, LOW_HZ } from './keypad.js';

const N = 160;
const FREQUENCIES = [697, 770, 852, 941, 1209, 1336, 1477, 1633] as const;
const COEFF = FREQUENCIES.map((f) => 2 * Math.cos((2 * Math.PI * f) / 8000));
/** A 0 dBm0 sine's peak in 16-bit PCM (G.711 full scale is +3.17 dBm0). */
const DBM0_PEAK = 32768 * Math.pow(10, -3.17 / 20);
/** Goertzel power of a sine of peak `a` over N samples at its own frequency: (a·N/2)². */
const powerOf = (peak: number): number => (peak * N * 0.5) ** 2;
/** Each tone at least −32 dBm0. */
const MIN_TONE_POWER = powerOf(DBM0_PEAK * Math.pow(10, -32 / 20));
/** Σx² of two tones at −35 dBm0: a block with less cannot hold a digit and is skipped at once. */
const MIN_BLOCK_ENERGY = 2 * N * 0.5 * (DBM0_PEAK * Math.pow(10, -35 / 20)) ** 2;
const RELATIVE_PEAK = Math.pow(10, 8 / 10);
const NORMAL_TWIST = Math.pow(10, 8 / 10);
const REVERSE_TWIST = Math.pow(10, 4 / 10);
/** The two tones' share of the block's energy (a tone of power P carries 2P/N of Σx²). */
const MIN_TONE_SHARE = 0.4;
/** A share this high means the tone filled the block: a press needs one such block. */
const FULL_TONE_SHARE = 0.75;
const HITS_TO_PRESS = 2;
const MISSES_TO_RELEASE = 2;

/** Event code of each (low row, high column) pair, −1 where Q.23 has none. */
const CODE_OF = (() => {
  const table = new Int8Array(16).fill(-1);
  for (let c = 0; c < DIGITS.length; c++) {
    const row = FREQUENCIES.indexOf(LOW_HZ[c]!);
    const col = FREQUENCIES.indexOf(HIGH_HZ[c]!) - 4;
    table[row * 4 + col] = c;
  }
  return table;
})();

export class DtmfDetector {
  /** The digit seen in the last blocks (event code, −1 none) and for how many in a row. */
  private candidate = -1;
  private hits = 0;
  /** Whether one of those blocks was full of the tone (`full` of the last block classified). */
  private filled = false;
  private full = false;
  /** The digit held down (confirmed), −1 none, and blocks since it was last seen. */
  private held = -1;
  private misses = 0;
  private readonly power = new Float64Array(8);

  /** Blocks that passed the energy gate and went through the filters (for the bench). */
  filtered = 0;

  /** Feeds one 20 ms frame (null = nothing received: silence); returns a released digit or null. */
  process(frame: Int16Array | null): string | null {
    this.full = false;
    return this.observe(frame === null ? -1 : this.classify(frame));
  }

  /** The event code a frame holds, or −1. */
  classify(x: Int16Array): number {
    const energy = energyOf(x);
    if (energy < MIN_BLOCK_ENERGY) return -1;
    this.filtered++;
    const p = this.power;
    goertzel8(x, p);
    let row = 0;
    let col = 4;
    for (let k = 1; k < 4; k++) if (p[k]! > p[row]!) row = k;
    for (let k = 5; k < 8; k++) if (p[k]! > p[col]!) col = k;
    const lo = p[row]!;
    const hi = p[col]!;
    if (lo < MIN_TONE_POWER || hi < MIN_TONE_POWER) return -1;
    if (hi > lo * NORMAL_TWIST || lo > hi * REVERSE_TWIST) return -1;
    for (let k = 0; k < 4; k++) if (k !== row && p[k]! * RELATIVE_PEAK > lo) return -1;
    for (let k = 4; k < 8; k++) if (k !== col && p[k]! * RELATIVE_PEAK > hi) return -1;
    const tones = (2 * (lo + hi)) / N;
    if (tones < MIN_TONE_SHARE * energy) return -1;
    this.full = tones >= FULL_TONE_SHARE * energy;
    return CODE_OF[row * 4 + (col - 4)]!;
  }

  /** Two blocks in a row of one digit, one of them full of it: a key is down. */
  private get pressed(): boolean {
    return this.hits >= HITS_TO_PRESS && this.filled;
  }

  /** The press/release state machine over classified blocks. */
  private observe(code: number): string | null {
    if (code >= 0 && code === this.candidate) {
      this.hits++;
      this.filled ||= this.full;
    } else {
      this.candidate = code;
      this.hits = code >= 0 ? 1 : 0;
      this.filled = this.full;
    }
    if (this.held >= 0) {
      if (code === this.held) {
        this.misses = 0;
        return null;
      }
      if (++this.misses < MISSES_TO_RELEASE) return null;
      const released = DIGITS[this.held]!;
      this.held = -1;
      this.misses = 0;
      if (this.pressed) this.held = this.candidate;
      return released;
    }
    if (this.pressed) {
      this.held = this.candidate;
      this.misses = 0;
    }
    return null;
  }
}

/** Σx² of a block: the one pass a quiet frame costs. */
function energyOf(x: Int16Array): number {
  let energy = 0;
  for (let i = 0; i < N; i++) {
    const v = x[i]!;
    energy += v * v;
  }
  return energy;
}

/** The eight Goertzel powers of one block, in one pass with the filters' state in locals. */
function goertzel8(x: Int16Array, out: Float64Array): void {
  const c0 = COEFF[0]!, c1 = COEFF[1]!, c2 = COEFF[2]!, c3 = COEFF[3]!;
  const c4 = COEFF[4]!, c5 = COEFF[5]!, c6 = COEFF[6]!, c7 = COEFF[7]!;
  let a0 = 0, b0 = 0, a1 = 0, b1 = 0, a2 = 0, b2 = 0, a3 = 0, b3 = 0;
  let a4 = 0, b4 = 0, a5 = 0, b5 = 0, a6 = 0, b6 = 0, a7 = 0, b7 = 0;
  for (let i = 0; i < N; i++) {
    const v = x[i]!;
    let t = v + c0 * a0 - b0; b0 = a0; a0 = t;
    t = v + c1 * a1 - b1; b1 = a1; a1 = t;
    t = v + c2 * a2 - b2; b2 = a2; a2 = t;
    t = v + c3 * a3 - b3; b3 = a3; a3 = t;
    t = v + c4 * a4 - b4; b4 = a4; a4 = t;
    t = v + c5 * a5 - b5; b5 = a5; a5 = t;
    t = v + c6 * a6 - b6; b6 = a6; a6 = t;
    t = v + c7 * a7 - b7; b7 = a7; a7 = t;
  }
  out[0] = a0 * a0 + b0 * b0 - c0 * a0 * b0;
  out[1] = a1 * a1 + b1 * b1 - c1 * a1 * b1;
  out[2] = a2 * a2 + b2 * b2 - c2 * a2 * b2;
  out[3] = a3 * a3 + b3 * b3 - c3 * a3 * b3;
  out[4] = a4 * a4 + b4 * b4 - c4 * a4 * b4;
  out[5] = a5 * a5 + b5 * b5 - c5 * a5 * b5;
  out[6] = a6 * a6 + b6 * b6 - c6 * a6 * b6;
  out[7] = a7 * a7 + b7 * b7 - c7 * a7 * b7;
}
