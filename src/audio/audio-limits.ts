/**
 * The bounds every decoded sound is held to, whatever its format (WAV, MP3, raw μ-law), in one
 * place so that the decoders cannot drift apart.
 *
 * Why 10 minutes: it is longer than any prompt, announcement or hold loop (a hold track loops
 * by itself), and 10 minutes at 8 kHz is 4.8 million samples, 9.6 MB — a third of the media
 * cache (audio-fetcher.ts, 30 minutes), so every file Conclave accepts can be cached and is
 * decoded once, not on every play. The byte limit of a download alone would not bound it: 64 MB
 * is 18 hours of 8 kbit/s MP3 and over 4 hours of 8-bit 4 kHz WAV.
 */
import { AudioFormatError } from './audio-error.js';

/** The rate every decoded sound comes out at: the media plane's. */
export const OUTPUT_SAMPLE_RATE = 8000;

/** Longest sound decoded from one file, in seconds of audio. */
export const MAX_AUDIO_SECONDS = 600;

/** The refusal of a file longer than `maxSeconds`; `seconds` when the header says how long it is. */
export function tooLong(format: string, maxSeconds: number, seconds?: number): AudioFormatError {
  if (seconds === undefined) {
    return new AudioFormatError(`${format} too long: it decodes to more than ${maxSeconds} s of audio, the most Conclave plays from one file`);
  }
  const shown = Number.isInteger(seconds) ? seconds : Math.ceil(seconds * 10) / 10;
  return new AudioFormatError(`${format} too long: it lasts ${shown} s, more than the ${maxSeconds} s of audio Conclave plays from one file`);
}
