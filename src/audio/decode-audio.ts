/**
 * Which decoder a fetched media file goes to: WAV, MP3 or raw μ-law, from its first bytes, its
 * Content-Type and its URL. Every media URL (`<Play>`, HoldUrl, WaitUrl, AnnounceUrl, a simulated
 * endpoint's `play=`) comes through here from audio-fetcher.ts.
 *
 * Why hand-written here: Twilio's `<Play>` accepts audio/mpeg (MP3), audio/wav, audio/wave,
 * audio/x-wav and audio/ulaw, among others (https://www.twilio.com/docs/voice/twiml/play,
 * "Supported audio file types"), and the servers such files live on do not always label them
 * well: S3 and nginx answer `application/octet-stream` for an unknown extension, and a
 * mislabelled file still plays on Twilio. So the rules, in order:
 *
 * 1. A RIFF or RF64 WAVE header is WAV (wav-decoder.ts), whatever the Content-Type says.
 * 2. An MP3 Content-Type (audio/mpeg, audio/mp3, audio/mpeg3, audio/x-mpeg-3), or content that
 *    is MPEG audio (an ID3v2 tag, or two consecutive frame headers; audio-sniff.ts) is MP3
 *    (mp3-decoder.ts), whatever the URL says.
 * 3. A μ-law Content-Type (audio/basic, audio/ulaw, audio/x-mulaw, audio/pcmu) is raw 8 kHz
 *    μ-law (mulaw-decoder.ts); so is a URL whose path ends in `.ul` or `.ulaw` when the
 *    Content-Type says nothing more specific (none, application/octet-stream,
 *    binary/octet-stream). Raw μ-law has no header, so bytes that are recognisably something
 *    else (HTML, Ogg, …) are refused rather than played as noise.
 * 4. Anything else is AudioFormatError, saying what the bytes look like and what Conclave plays.
 *
 * Content sniffed as MP3 wins over a μ-law Content-Type: an MP3 served as audio/basic is still
 * an MP3, while raw μ-law never holds an ID3 tag or a run of valid MPEG frames.
 */
import { AudioFormatError, PLAYABLE_FORMATS } from './audio-error.js';
import { describeByMagic, describeContent, looksLikeMpegAudio } from './audio-sniff.js';
import { decodeMp3 } from './mp3-decoder.js';
import { decodeMulaw } from './mulaw-decoder.js';
import { decodeWav } from './wav-decoder.js';

const MP3_TYPES = new Set(['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg-3']);
const MULAW_TYPES = new Set(['audio/basic', 'audio/ulaw', 'audio/x-mulaw', 'audio/pcmu']);
/** Content-Types that say nothing about the format, so the URL's extension may. */
const UNSPECIFIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

export type AudioFormat = 'wav' | 'mp3' | 'mulaw';

export interface AudioSource {
  /** The response's Content-Type header, parameters and all; absent when the server sent none. */
  contentType?: string | null;
  /** The URL the file was requested from (its path's extension can mark raw μ-law). */
  url?: string;
  /** Stops a long decode (WAV, MP3) between slices. */
  signal?: AbortSignal;
}

/** The media type of a Content-Type header, lower case, without parameters ('' when absent). */
function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function hasMulawExtension(url: string | undefined): boolean {
  if (url === undefined) return false;
  let path: string;
  try {
    path = new URL(url).pathname.toLowerCase();
  } catch {
    return false;
  }
  return path.endsWith('.ul') || path.endsWith('.ulaw');
}

/** "RIFF" or "RF64", then a size, then "WAVE". */
function isRiffWave(b: Uint8Array): boolean {
  if (b.length < 12) return false;
  const magic = String.fromCharCode(...b.subarray(0, 4));
  return (magic === 'RIFF' || magic === 'RF64') && String.fromCharCode(...b.subarray(8, 12)) === 'WAVE';
}

/**
 * The format `bytes` are decoded as (the rules of the file comment), or throws AudioFormatError
 * naming what they look like.
 */
export function detectAudioFormat(bytes: Uint8Array, source: Pick<AudioSource, 'contentType' | 'url'> = {}): AudioFormat {
  if (isRiffWave(bytes)) return 'wav';
  const type = mediaType(source.contentType);
  if (MP3_TYPES.has(type) || looksLikeMpegAudio(bytes)) {
    // A page or a file of another kind labelled audio/mpeg: say so now rather than "no frame".
    const other = MP3_TYPES.has(type) && !looksLikeMpegAudio(bytes) ? describeByMagic(bytes) : undefined;
    if (other !== undefined) throw unplayable(type, other);
    return 'mp3';
  }
  if (MULAW_TYPES.has(type) || (UNSPECIFIC_TYPES.has(type) && hasMulawExtension(source.url))) {
    const other = bytes.length === 0 ? undefined : describeByMagic(bytes);
    if (other !== undefined) throw unplayable(type, other);
    return 'mulaw';
  }
  throw unplayable(type, describeContent(bytes) ?? startsWith(bytes));
}

/**
 * Decodes a fetched media file to 8 kHz mono PCM16, choosing the decoder by its bytes,
 * Content-Type and URL (see the file comment). Throws AudioFormatError when the file is not one
 * Conclave plays, does not decode, or lasts more than MAX_AUDIO_SECONDS (audio-limits.ts).
 */
export async function decodeAudio(bytes: Uint8Array, source: AudioSource = {}): Promise<Int16Array> {
  switch (detectAudioFormat(bytes, source)) {
    case 'wav':
      return decodeWav(bytes, source.signal === undefined ? {} : { signal: source.signal });
    case 'mp3':
      return decodeMp3(bytes, source.signal === undefined ? {} : { signal: source.signal });
    case 'mulaw':
      return decodeMulaw(bytes);
  }
}

function startsWith(bytes: Uint8Array): string {
  const hex = Array.from(bytes.subarray(0, 4), (v) => v.toString(16).padStart(2, '0')).join(' ');
  return `unrecognised content starting with bytes ${hex}`;
}

function unplayable(type: string, what: string): AudioFormatError {
  return new AudioFormatError(`cannot play this file (${type === '' ? 'no Content-Type' : `served as ${type}`}; ${what}): ${PLAYABLE_FORMATS}`);
}
