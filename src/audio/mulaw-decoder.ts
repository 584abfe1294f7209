/**
 * Raw μ-law for `<Play>`: headerless G.711 μ-law bytes (`.ul`/`.ulaw`, `audio/basic`), one byte
 * per sample at 8 kHz mono → 8 kHz mono PCM16.
 *
 * Why hand-written here: Twilio lists `audio/ulaw` among the types `<Play>` accepts
 * (https://www.twilio.com/docs/voice/twiml/play, "Supported audio file types"), and telephony
 * prompts are often kept in the very format the call carries. There is no header to parse, so
 * decoding is the media plane's own G.711 table, byte by byte; decode-audio.ts decides when bytes
 * are raw μ-law, since they cannot say so themselves. The output has as many samples as the
 * input has bytes, so the fetcher's byte limit bounds it.
 */
import { MULAW_DECODE } from '../media/codec/g711.js';

/** The samples of raw 8 kHz mono μ-law bytes. */
export function decodeMulaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = MULAW_DECODE[bytes[i]!]!;
  return out;
}
