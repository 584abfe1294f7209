/**
 * Errors of the audio toolkit (src/audio/): WAV decoding, fetching `<Play>` media and `<Say>`
 * speech synthesis.
 *
 * Why hand-written here rather than reusing `ApiError` from src/errors.ts: these failures happen
 * while a call is already in progress (a `<Play>` URL that answers 404, a file in Ogg, a missing
 * espeak-ng), not while answering a REST request, so they carry no HTTP status or Twilio code of
 * their own. Callers (the TwiML executor) decide whether to skip the verb, log it or raise a
 * Twilio debugger event (12300 "Invalid Content-Type", 11200 "HTTP retrieval failure", …), and
 * they can tell the cases apart with `instanceof`. The toolkit imports nothing of the control
 * plane, so the media side can use it too.
 */

/** Base class of every error thrown by src/audio/. */
export class AudioError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AudioError';
  }
}

/** How a message saying a media file cannot be played ends. */
export const PLAYABLE_FORMATS = 'Conclave plays WAV, MP3 and raw μ-law (.ul)';

/**
 * The bytes are not audio Conclave can play: neither WAV, MP3 nor raw μ-law; truncated; a WAV
 * whose encoding is not PCM, IEEE float, μ-law or A-law; an MP3 in which no frame decodes or
 * that lasts more than MAX_AUDIO_SECONDS (Twilio maps these to error 12300).
 */
export class AudioFormatError extends AudioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AudioFormatError';
  }
}

/**
 * Media could not be retrieved: bad or non-http(s) URL, non-2xx answer, body above the size
 * limit, timeout, network failure or an address the outbound policy refuses (Twilio error 11200
 * "HTTP retrieval failure"). The message of every failure without a usable HTTP answer is the
 * same (src/net/retrieval-failure.ts); `detail` says what happened, for the operator's log.
 */
export class AudioFetchError extends AudioError {
  /** The HTTP status when the server answered. */
  readonly status: number | undefined;
  /** What really happened (refused, timed out, which policy rule…), for the log only. */
  readonly detail: string | undefined;
  /** The body was over the size limit. */
  readonly tooLarge: boolean;

  constructor(
    message: string,
    readonly url: string,
    options: { status?: number; detail?: string; tooLarge?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AudioFetchError';
    this.status = options.status;
    this.detail = options.detail;
    this.tooLarge = options.tooLarge ?? false;
  }
}

/** Text-to-speech failed: the synthesizer exited with an error, produced no audio, or timed out. */
export class SpeechError extends AudioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpeechError';
  }
}

/** The speech synthesizer (espeak-ng) is not installed or cannot be started. */
export class SpeechUnavailableError extends SpeechError {
  constructor(message = 'espeak-ng is not installed (apt-get install espeak-ng)', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpeechUnavailableError';
  }
}
