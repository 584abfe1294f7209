/**
 * Raw μ-law for `<Play>`: headerless G.711 μ-law bytes (`.ul`/`.ulaw`, `audio/basic`), one byte
 * per sample at 8 kHz mono → 8 kHz mono PCM16.
 *
 * Why hand-written here: Twilio lists `audio/ulaw` among the types `<Play>` accepts
 * (https://www.twilio.com/docs/voice/twiml/play, "Supported audio file types"), and telephony
 * prompts are often kept in the very format the call carries. There is no header to parse, so
 * decoding is the media plane's own G.711 table, byte by byte; decode-audio.ts decides when bytes
 * are raw μ-law, since they cannot say so themselves. The output has as many samples as the
 * input has bytes: a file longer than MAX_AUDIO_SECONDS (audio-limits.ts) is refused by its
 * length alone, and what is accepted (4.8 million bytes at most) decodes in a few milliseconds,
 * with no need to slice it.
 */
import { MULAW_DECODE } from '../media/codec/g711.js';
import { MAX_AUDIO_SECONDS, OUTPUT_SAMPLE_RATE, tooLong } from './audio-limits.js';

/** The samples of raw 8 kHz mono μ-law bytes; AudioFormatError beyond `maxSeconds`. */
export function decodeMulaw(bytes: Uint8Array, maxSeconds = MAX_AUDIO_SECONDS): Int16Array {
  const seconds = bytes.length / OUTPUT_SAMPLE_RATE;
  if (seconds > maxSeconds) throw tooLong('raw μ-law', maxSeconds, seconds);
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = MULAW_DECODE[bytes[i]!]!;
  return out;
}
