/**
 * MP3 for `<Play>`: MPEG audio bytes (layer III, and layers I and II, at any MPEG-1, 2 or 2.5
 * rate, mono or stereo) → 8 kHz mono PCM16, the media plane's format.
 *
 * Why a dependency, and this one: Twilio plays `audio/mpeg` ("mpeg layer 3 audio",
 * https://www.twilio.com/docs/voice/twiml/play, "Supported audio file types"), and MP3 is what
 * hold music and prompts usually come as. An MP3 decoder is thousands of lines of signal
 * processing, not something to write again, so Conclave uses `mpg123-decoder` (MIT, from the
 * wasm-audio-decoders project): libmpg123 compiled to WebAssembly, embedded in the package, so
 * it needs no native build and no network. Its WebAssembly module is compiled once per process
 * and each file gets its own small instance, freed when the file is done. Gapless decoding
 * (on by default) trims the encoder's delay and padding, so a hold track loops without a gap.
 *
 * What is done here: the file is fed to the decoder a slice at a time, each slice's channels are
 * averaged to mono and passed through the project's band-limited resampler (resampler.ts) in its
 * streaming form, so the whole file never exists at its source rate; between slices the event
 * loop gets a turn, so a long file does not stall the SIP and HTTP work of the main thread, and
 * a caller who gave up (`signal`) stops the decoding.
 *
 * The bound: one file may decode to at most MAX_AUDIO_SECONDS (audio-limits.ts, 10 minutes, the
 * same for every format) of audio; past that the decoding stops with AudioFormatError. An MP3
 * does not say how long it is (VBR), so this is found while decoding; decoding 10 minutes costs a
 * few seconds of CPU, in slices.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MPEGDecoder } from 'mpg123-decoder';
import { AudioFormatError, PLAYABLE_FORMATS } from './audio-error.js';
import { MAX_AUDIO_SECONDS, OUTPUT_SAMPLE_RATE, tooLong } from './audio-limits.js';
import { describeContent } from './audio-sniff.js';
import { StreamResampler } from './resampler.js';
import { concatPcm, toInt16 } from './pcm.js';
/** Bytes fed to the decoder per turn of the event loop: half a second of 128 kbit/s MP3. */
const SLICE_BYTES = 8 * 1024;

export interface Mp3Options {
  /** Stops decoding between slices (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Overrides MAX_AUDIO_SECONDS (tests). */
  maxSeconds?: number;
}

/**
 * Decodes MPEG audio to 8 kHz mono PCM16. Throws AudioFormatError when no frame decodes or the
 * audio is longer than `maxSeconds`; rejects with the signal's reason when `signal` aborts.
 */
export async function decodeMp3(bytes: Uint8Array, options: Mp3Options = {}): Promise<Int16Array> {
  const { signal } = options;
  const maxSeconds = options.maxSeconds ?? MAX_AUDIO_SECONDS;
  signal?.throwIfAborted();
  const decoder = new MPEGDecoder();
  try {
    await decoder.ready;
    const parts: Int16Array[] = [];
    let resampler: StreamResampler | undefined;
    let seconds = 0;
    for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
      if (at > 0) {
        await nextTurn();
        signal?.throwIfAborted();
      }
      const { channelData, samplesDecoded, sampleRate } = decoder.decode(bytes.subarray(at, at + SLICE_BYTES));
      if (samplesDecoded === 0) continue;
      seconds += samplesDecoded / sampleRate;
      if (seconds > maxSeconds) throw tooLong('MP3', maxSeconds);
      // A stream that changes rate (joined files) starts a new conversion at the change.
      if (resampler?.inRate !== sampleRate) {
        if (resampler !== undefined) parts.push(toInt16(resampler.end()));
        resampler = new StreamResampler(sampleRate, OUTPUT_SAMPLE_RATE);
      }
      // The decoder gives two channels, a mono file's twice over: their mean is the mono signal.
      const mono = new Float32Array(samplesDecoded);
      const scale = 32768 / channelData.length;
      for (const channel of channelData) for (let i = 0; i < samplesDecoded; i++) mono[i]! += channel[i]! * scale;
      parts.push(toInt16(resampler.push(mono)));
    }
    if (resampler === undefined) {
      const what = describeContent(bytes);
      throw new AudioFormatError(`not an MP3 file: no MPEG audio frame could be decoded${what === undefined ? '' : ` (${what})`}: ${PLAYABLE_FORMATS}`);
    }
    parts.push(toInt16(resampler.end()));
    return concatPcm(parts);
  } finally {
    // free() releases the instance's buffers; it needs the instance, so only once it is ready.
    await decoder.ready.then(
      () => decoder.free(),
      () => undefined,
    );
  }
}
