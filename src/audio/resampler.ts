/**
 * Sample-rate conversion to the media plane's 8 kHz: a band-limited (windowed-sinc) resampler.
 *
 * Why hand-written here: the project installs no native or WASM audio library (libsamplerate,
 * speexdsp, soxr), and the media plane only ever needs one direction — any WAV rate down (or,
 * rarely, up) to 8 kHz, once per prompt, with the result cached. Naive decimation would fold
 * everything above 4 kHz back into the voice band (a 6 kHz tone at 48 kHz would become 2 kHz),
 * so every output sample is a low-pass-filtered interpolation of the input, after Julius O.
 * Smith's "Digital Audio Resampling" (the method of libsamplerate and sox's `rate`):
 *
 *   y(t) = Σ_k x[k] · g(t − k),   g(τ) = 2fc · sinc(2fc · τ) · kaiser(τ / H)
 *
 * with τ in input samples. The cutoff fc sits between a passband edge at 85 % of the lower
 * Nyquist frequency (3.4 kHz for 8 kHz output: the whole telephone band passes) and a stopband
 * edge at that Nyquist frequency (4 kHz); the Kaiser window (β for 80 dB) and the half-width H
 * follow Kaiser's design formulas for that transition band. The filter is symmetric, so the
 * output has no delay: output sample n sits at input time n · inRate / outRate.
 *
 * For rational ratios with few phases (every common rate: 44.1 kHz → 8 kHz is 80/441, 48 kHz →
 * 8 kHz is 1/6) the taps of every phase are precomputed exactly (polyphase). Other rates
 * (22,222 Hz, say, 4000/11111) precompute hundreds of evenly spaced phases and interpolate
 * linearly between the two nearest.
 *
 * `resample` converts a whole signal at once; `StreamResampler` takes it in blocks (an MP3 is
 * decoded a slice at a time) and gives exactly the same samples, holding only the 2K input
 * samples around the next output instead of the whole signal at its source rate.
 */

/** Stopband attenuation of the anti-alias filter, in dB. */
const STOPBAND_DB = 80;
/** Passband edge as a fraction of the lower Nyquist frequency. */
const PASSBAND_FRACTION = 0.85;
/** Largest precomputed phase table (phases × taps), in coefficients (2 MB of float64). */
const MAX_PHASE_COEFFS = 1 << 18;
/** Designs kept, by (inRate, outRate). */
const MAX_DESIGNS = 16;

interface Design {
  /** Half the number of taps: taps run over input offsets −K+1 … K around the output time. */
  readonly K: number;
  /** outRate/inRate = L/M in lowest terms. */
  readonly L: number;
  readonly M: number;
  /**
   * `exact`: L rows, one per phase p/L. Otherwise P + 1 rows at phases p/P, and an output between
   * two rows is the linear blend of both dot products.
   */
  readonly exact: boolean;
  readonly P: number;
  /** Row p holds the 2K taps of phase p at p·2K. */
  readonly rows: Float64Array;
}

const designs = new Map<string, Design>();

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-15) break;
  }
  return sum;
}

function design(inRate: number, outRate: number): Design {
  const key = `${inRate}:${outRate}`;
  const cached = designs.get(key);
  if (cached !== undefined) return cached;

  const nyquist = Math.min(inRate, outRate) / 2;
  const pass = PASSBAND_FRACTION * nyquist;
  const fc = (pass + nyquist) / 2 / inRate; // cycles per input sample
  const dw = (2 * Math.PI * (nyquist - pass)) / inRate; // transition width, rad per input sample
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const half = (STOPBAND_DB - 8) / (2.285 * dw) / 2; // Kaiser's order estimate, halved
  const i0beta = besselI0(beta);
  const g = (tau: number): number => {
    const u = tau / half;
    if (u <= -1 || u >= 1) return 0;
    const x = 2 * fc * tau;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    return 2 * fc * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0beta);
  };

  const K = Math.ceil(half);
  const taps = 2 * K;
  const d = gcd(inRate, outRate);
  const L = outRate / d;
  const M = inRate / d;
  const exact = L * taps <= MAX_PHASE_COEFFS;
  // Irregular ratios: as many phases as fit, at least 64 (interpolation error below −80 dB).
  const P = exact ? L : Math.max(64, Math.min(4096, Math.floor(MAX_PHASE_COEFFS / taps) - 1));
  const count = exact ? L : P + 1;
  const rows = new Float64Array(count * taps);
  for (let p = 0; p < count; p++) {
    for (let j = 0; j < taps; j++) rows[p * taps + j] = g(p / P + K - 1 - j);
  }
  const result: Design = { K, L, M, exact, P, rows };
  if (designs.size >= MAX_DESIGNS) designs.delete(designs.keys().next().value as string);
  designs.set(key, result);
  return result;
}

/** Σ x[first + j] · w[wOff + j] for j in [0, taps), treating samples outside x as silence. */
function dot(x: Float32Array, first: number, w: Float64Array, wOff: number, taps: number): number {
  let j0 = 0;
  let j1 = taps;
  if (first < 0) j0 = -first;
  if (first + taps > x.length) j1 = x.length - first;
  let a0 = 0;
  let a1 = 0;
  let j = j0;
  for (; j + 1 < j1; j += 2) {
    a0 += x[first + j]! * w[wOff + j]!;
    a1 += x[first + j + 1]! * w[wOff + j + 1]!;
  }
  if (j < j1) a0 += x[first + j]! * w[wOff + j]!;
  return a0 + a1;
}

/**
 * Writes outputs `from` … `to` − 1 of the conversion into `out` (from index 0). `x` holds input
 * samples from absolute index `xBase` on; samples outside it count as silence.
 */
function fill(d: Design, x: Float32Array, xBase: number, from: number, to: number, out: Float32Array): void {
  const { K, L, M, exact, P, rows } = d;
  const taps = 2 * K;
  for (let n = from; n < to; n++) {
    const pos = n * M; // output time in units of 1/L input samples (an exact integer)
    const i = Math.floor(pos / L);
    const first = i - K + 1 - xBase;
    let y: number;
    if (exact) {
      y = dot(x, first, rows, (pos - i * L) * taps, taps);
    } else {
      const phase = ((pos - i * L) / L) * P;
      const p = Math.floor(phase);
      const a = phase - p;
      const lo = dot(x, first, rows, p * taps, taps);
      y = a === 0 ? lo : lo + a * (dot(x, first, rows, (p + 1) * taps, taps) - lo);
    }
    out[n - from] = y;
  }
}

function checkRates(inRate: number, outRate: number): void {
  if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) {
    throw new RangeError(`resample: rates must be positive integers (got ${inRate} → ${outRate})`);
  }
}

/**
 * Resamples `input` (any scale, typically int16 range) from `inRate` to `outRate` Hz, low-pass
 * filtered at the lower rate's Nyquist frequency. Returns `round(length · outRate / inRate)`
 * samples; equal rates return a copy.
 */
export function resample(input: Float32Array, inRate: number, outRate: number): Float32Array {
  checkRates(inRate, outRate);
  if (inRate === outRate) return input.slice();
  const d = design(inRate, outRate);
  const out = new Float32Array(Math.round((input.length * d.L) / d.M));
  fill(d, input, 0, 0, out.length, out);
  return out;
}

/**
 * `resample` over a signal given in blocks: `push` each block and take the outputs it makes
 * final, then `end` for the rest. The concatenated outputs equal `resample` of the concatenated
 * input, sample for sample (the same taps over the same inputs, in the same order).
 */
export class StreamResampler {
  private readonly d: Design | undefined;
  /** Input kept, starting at absolute input index `base`. */
  private held = new Float32Array(0);
  private base = 0;
  /** Input samples pushed so far. */
  private pushed = 0;
  /** Index of the next output sample. */
  private next = 0;
  private ended = false;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
  ) {
    checkRates(inRate, outRate);
    this.d = inRate === outRate ? undefined : design(inRate, outRate);
  }

  /** How many output samples `inputSamples` of input make in all (what the pushes and `end` return together). */
  outputLength(inputSamples: number): number {
    return this.d === undefined ? inputSamples : Math.round((inputSamples * this.d.L) / this.d.M);
  }

  /** Adds input samples; returns the output samples that no later input can change. */
  push(block: Float32Array): Float32Array {
    if (this.ended) throw new Error('StreamResampler: push after end');
    this.pushed += block.length;
    if (this.d === undefined) return block.slice();
    const { K, L, M } = this.d;
    // Output n reads inputs up to floor(n·M/L) + K: final once that index has been pushed,
    // i.e. for n < (pushed − K)·L/M. Never beyond floor(pushed·L/M), which `end` would give.
    const ready = this.pushed - K > 0 ? Math.floor(((this.pushed - K) * L - 1) / M) + 1 : 0;
    return this.emit(block, Math.min(ready, Math.floor((this.pushed * L) / M)));
  }

  /** The remaining output samples: in all, `round(pushed · outRate / inRate)`. */
  end(): Float32Array {
    if (this.ended) throw new Error('StreamResampler: end called twice');
    this.ended = true;
    if (this.d === undefined) return new Float32Array(0);
    return this.emit(new Float32Array(0), this.outputLength(this.pushed));
  }

  /** Appends `block` to the held input, computes outputs up to `to`, drops input no longer read. */
  private emit(block: Float32Array, to: number): Float32Array {
    const { K, L, M } = this.d!;
    const held = new Float32Array(this.held.length + block.length);
    held.set(this.held);
    held.set(block, this.held.length);
    const out = new Float32Array(Math.max(0, to - this.next));
    fill(this.d!, held, this.base, this.next, this.next + out.length, out);
    this.next += out.length;
    // The next output's first tap: nothing before it is read again.
    const keepFrom = Math.max(this.base, Math.min(this.pushed, Math.floor((this.next * M) / L) - K + 1));
    this.held = held.slice(keepFrom - this.base);
    this.base = keepFrom;
    return out;
  }
}
