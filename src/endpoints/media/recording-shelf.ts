/**
 * What recording simulated endpoints heard, kept as WAV files: the media worker hands over what
 * was heard since its last take, and the shelf appends it to what it has. A recording stays
 * fetchable after its call ended, for 15 minutes and among the last 200 — enough for a test or
 * a curious user, bounded so a long-running server does not grow without end.
 */
const TTL_MS = 15 * 60_000;
const MAX_KEPT = 200;
/** The PCM16 WAV header the worker writes (encodeWav): 44 bytes. */
const HEADER = 44;

export class RecordingShelf {
  private readonly kept = new Map<string, { wav: Uint8Array; at: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Appends a take (a WAV of what was heard since the previous take); returns the whole recording. */
  add(callSid: string, take: Uint8Array): Uint8Array {
    const before = this.kept.get(callSid)?.wav;
    const wav = before && before.length > HEADER ? concatWav(before, take) : take;
    const now = this.now();
    this.kept.delete(callSid);
    this.kept.set(callSid, { wav, at: now });
    // Oldest first (a Map keeps insertion order): drop what is too old or too many.
    for (const [sid, r] of this.kept) {
      if (this.kept.size <= MAX_KEPT && now - r.at < TTL_MS) break;
      this.kept.delete(sid);
    }
    return wav;
  }

  get(callSid: string): Uint8Array | undefined {
    return this.kept.get(callSid)?.wav;
  }
}

/** Appends the samples of one PCM16 WAV to another, fixing the RIFF and data sizes. */
function concatWav(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + Math.max(0, b.length - HEADER));
  out.set(a);
  out.set(b.subarray(HEADER), a.length);
  const view = new DataView(out.buffer);
  view.setUint32(4, out.length - 8, true);
  view.setUint32(40, out.length - HEADER, true);
  return out;
}
