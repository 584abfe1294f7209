/** Small helpers every decoder needs to hand 16-bit PCM to the media plane. */

/** Rounds and clamps an int16-scale float signal to PCM16. */
export function toInt16(x: Float32Array): Int16Array {
  const out = new Int16Array(x.length);
  toInt16Into(x, out, 0);
  return out;
}

/** `toInt16` written into `out` from index `at` (which must have room for all of `x`). */
export function toInt16Into(x: Float32Array, out: Int16Array, at: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i]!);
    out[at + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}

/** The parts one after the other, in one array. */
export function concatPcm(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
