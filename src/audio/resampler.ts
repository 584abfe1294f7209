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
 * Resamples `input` (any scale, typically int16 range) from `inRate` to `outRate` Hz, low-pass
 * filtered at the lower rate's Nyquist frequency. Returns `round(length · outRate / inRate)`
 * samples; equal rates return a copy.
 */
export function resample(input: Float32Array, inRate: number, outRate: number): Float32Array {
  if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) {
    throw new RangeError(`resample: rates must be positive integers (got ${inRate} → ${outRate})`);
  }
  if (inRate === outRate) return input.slice();
  const { K, L, M, exact, P, rows } = design(inRate, outRate);
  const outLength = Math.round((input.length * L) / M);
  const out = new Float32Array(outLength);
  const taps = 2 * K;

  for (let n = 0; n < outLength; n++) {
    const pos = n * M; // output time in units of 1/L input samples (an exact integer)
    const i = Math.floor(pos / L);
    const first = i - K + 1;
    if (exact) {
      out[n] = dot(input, first, rows, (pos - i * L) * taps, taps);
    } else {
      const phase = ((pos - i * L) / L) * P;
      const p = Math.floor(phase);
      const a = phase - p;
      const lo = dot(input, first, rows, p * taps, taps);
      out[n] = a === 0 ? lo : lo + a * (dot(input, first, rows, (p + 1) * taps, taps) - lo);
    }
  }
  return out;
}
