/**
 * A speech-like test signal at 8 kHz (the repo has no recorded speech, and espeak-ng is not on
 * every machine): a source-filter model as in ITU-T P.50's artificial voice — a glottal pulse
 * train whose pitch glides (men's and women's ranges, 85–260 Hz), through three formant
 * resonators that move from vowel to vowel, in syllables of 120–300 ms with fricative noise
 * bursts and pauses between words. Its harmonics sweep through the DTMF bands all the time, the
 * case a detector must not take for a key press ("talk-off"). Deterministic (seeded).
 */

/** Formants (Hz) of English vowels (Peterson & Barney 1952, male means). */
const VOWELS: readonly (readonly [number, number, number])[] = [
  [270, 2290, 3010],
  [390, 1990, 2550],
  [530, 1840, 2480],
  [660, 1720, 2410],
  [730, 1090, 2440],
  [570, 840, 2410],
  [440, 1020, 2240],
  [300, 870, 2240],
  [520, 1190, 2390],
  [490, 1350, 1690],
];

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** `seconds` of speech-like audio, peaks near `peak`. */
export function speechLike(seconds: number, seed = 7, peak = 16000): Int16Array {
  const rate = 8000;
  const n = Math.round(seconds * rate);
  const out = new Float64Array(n);
  const rnd = prng(seed);
  // Resonator state per formant.
  const y1 = [0, 0, 0];
  const y2 = [0, 0, 0];
  let i = 0;
  let phase = 0;
  let pitch = 120;
  while (i < n) {
    // A word: 1–4 syllables, then a pause.
    const syllables = 1 + Math.floor(rnd() * 4);
    const base = rnd() < 0.5 ? 90 + rnd() * 60 : 170 + rnd() * 80;
    for (let s = 0; s < syllables && i < n; s++) {
      const len = Math.round((0.12 + rnd() * 0.18) * rate);
      const from = VOWELS[Math.floor(rnd() * VOWELS.length)]!;
      const to = VOWELS[Math.floor(rnd() * VOWELS.length)]!;
      const glide = (rnd() - 0.5) * 0.5;
      const fricative = rnd() < 0.35 ? Math.round((0.03 + rnd() * 0.06) * rate) : 0;
      for (let k = 0; k < fricative && i < n; k++, i++) out[i] = (rnd() - 0.5) * 0.25 * Math.sin((Math.PI * k) / fricative);
      for (let k = 0; k < len && i < n; k++, i++) {
        const t = k / len;
        pitch = base * (1 + glide * t + 0.03 * Math.sin(2 * Math.PI * 5 * (k / rate)));
        phase += pitch / rate;
        // Glottal pulse: a skewed pulse once a period, a little aspiration noise.
        const frac = phase - Math.floor(phase);
        const source = (frac < 0.4 ? Math.sin((Math.PI * frac) / 0.4) ** 2 : 0) - 0.25 + (rnd() - 0.5) * 0.05;
        let v = 0;
        for (let f = 0; f < 3; f++) {
          const freq = from[f]! + (to[f]! - from[f]!) * t;
          const bw = 60 + 40 * f;
          const r = Math.exp((-Math.PI * bw) / rate);
          const b = 2 * r * Math.cos((2 * Math.PI * freq) / rate);
          const c = -r * r;
          const y = (1 - b - c) * source + b * y1[f]! + c * y2[f]!;
          y2[f] = y1[f]!;
          y1[f] = y;
          v += y / (f + 1);
        }
        const env = Math.sin(Math.PI * t) ** 0.5;
        out[i] = v * env;
      }
    }
    i += Math.round((0.1 + rnd() * 0.3) * rate);
  }
  let max = 0;
  for (let k = 0; k < n; k++) max = Math.max(max, Math.abs(out[k]!));
  const pcm = new Int16Array(n);
  for (let k = 0; k < n; k++) pcm[k] = Math.round((out[k]! / (max || 1)) * peak);
  return pcm;
}
