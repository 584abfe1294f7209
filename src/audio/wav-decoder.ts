/**
 * WAV decoding for `<Play>` and `<Say>`: RIFF/WAVE bytes → 8 kHz mono PCM16, the media plane's
 * format. WAV is one of the formats a media URL may serve: decode-audio.ts recognises it (a
 * RIFF/RF64 header, whatever the Content-Type) and sends MP3 and raw μ-law to their own decoders;
 * espeak-ng's output for `<Say>` comes here directly.
 *
 * Why hand-written here: the media plane wants exactly one thing (8 kHz mono Int16Array) from a
 * handful of WAV encodings, WAV needs no codec (unlike MP3, for which the project takes a
 * decoder, mp3-decoder.ts), and parsing RIFF is a hundred lines whose every rule (chunk walk,
 * pad byte, extensible GUIDs, streaming sizes) is tested here. It lives in src/audio/, not
 * src/media/, because it runs off the 20 ms tick: a file is decoded once when fetched or
 * synthesized, then cached, and the worker only sees PCM.
 *
 * Decoding is bounded the way mp3-decoder.ts bounds MP3: a file longer than MAX_AUDIO_SECONDS
 * (audio-limits.ts) is refused from its header, before any sample is decoded; the rest is
 * decoded SLICE_FRAMES frames at a time, each slice averaged to mono and passed through the
 * streaming resampler (resampler.ts) into the output, preallocated at its final length, with a
 * turn of the event loop between slices. So a 64 MB file neither stalls the main thread (SIP,
 * HTTP) for seconds nor exists a second time as 32-bit floats at its source rate: beyond the
 * file's own bytes, decoding holds the 8 kHz output (9.6 MB at most) and one slice.
 *
 * Accepted: RIFF (and RF64) WAVE, chunks walked in any order with odd sizes padded to even;
 * format 1 PCM at 8 (unsigned), 16, 24 and 32 bits, 3 IEEE float at 32 and 64 bits, 6 A-law,
 * 7 μ-law, and 0xFFFE WAVE_FORMAT_EXTENSIBLE with those subformat GUIDs; any channel count
 * (averaged to mono) and any rate from 4 kHz to 384 kHz (band-limited resampling, resampler.ts).
 * A data chunk whose size is a streaming placeholder (≥ 0x7FFF0000, as espeak-ng and sox write
 * on a pipe) runs to the end of the bytes. Anything else throws AudioFormatError.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ALAW_DECODE, MULAW_DECODE } from '../media/codec/g711.js';
import { AudioFormatError } from './audio-error.js';
import { MAX_AUDIO_SECONDS, OUTPUT_SAMPLE_RATE, tooLong } from './audio-limits.js';
import { describeContent } from './audio-sniff.js';
import { StreamResampler } from './resampler.js';
import { toInt16Into } from './pcm.js';

/**
 * Frames decoded per turn of the event loop: a few milliseconds of work at any rate (downsampling
 * costs about the same per input frame whatever the rate; 4 kHz upsampling twice that).
 */
export const SLICE_FRAMES = 16384;

export interface WavOptions {
  /** Stops decoding between slices (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Overrides MAX_AUDIO_SECONDS (tests). */
  maxSeconds?: number;
}

export const WaveFormat = { pcm: 1, ieeeFloat: 3, alaw: 6, mulaw: 7, extensible: 0xfffe } as const;

/** Names of formats people do try to play, for the error message. */
const FORMAT_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0011: 'IMA ADPCM',
  0x0022: 'DSP Group TrueSpeech',
  0x0031: 'GSM 6.10',
  0x0040: 'G.721 ADPCM',
  0x0050: 'MPEG',
  0x0055: 'MP3',
  0x0064: 'G.726 ADPCM',
  0x0065: 'G.722 ADPCM',
  0x00ff: 'AAC',
  0x0161: 'WMA',
  0x1610: 'HE-AAC',
  0x2000: 'AC-3',
  0xf1ac: 'FLAC',
};

const SUPPORTED = 'Conclave plays PCM, μ-law and A-law WAV';
/** Bytes 4–15 of every KSDATAFORMAT_SUBTYPE_* GUID built on a WAVE format tag. */
const GUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** A data size this large is a "length unknown" placeholder written while streaming. */
const STREAMING_SIZE = 0x7fff0000;
const MIN_RATE = 4000;
const MAX_RATE = 384000;
const MAX_CHANNELS = 64;

/** The fmt chunk, resolved: `format` is 1, 3, 6 or 7 even when the file said 0xFFFE. */
export interface WavFormat {
  format: number;
  channels: number;
  sampleRate: number;
  /** Bytes per sample of one channel (the container, e.g. 4 for 24-in-32). */
  bytesPerSample: number;
  blockAlign: number;
}

export interface ParsedWav {
  format: WavFormat;
  /** The sample bytes (a view into the input), whole frames only. */
  data: Uint8Array;
}

const fourCC = (b: Uint8Array, at: number): string => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);

function formatName(tag: number): string {
  const name = FORMAT_NAMES[tag];
  return name === undefined ? `unsupported WAV format ${tag}` : `unsupported WAV format ${tag} (${name})`;
}

/** Explains bytes that are not RIFF/WAVE, recognising the usual suspects (audio-sniff.ts). */
function notWav(b: Uint8Array): AudioFormatError {
  return new AudioFormatError(`not a WAV file (${describeContent(b) ?? 'no RIFF/WAVE header'}): ${SUPPORTED}`);
}

function parseFmt(b: Uint8Array, dv: DataView, at: number, size: number): WavFormat {
  if (size < 16) throw new AudioFormatError(`WAV fmt chunk too short (${size} bytes, need 16)`);
  let format = dv.getUint16(at, true);
  const channels = dv.getUint16(at + 2, true);
  const sampleRate = dv.getUint32(at + 4, true);
  let blockAlign = dv.getUint16(at + 12, true);
  const bits = dv.getUint16(at + 14, true);

  if (format === WaveFormat.extensible) {
    if (size < 40) throw new AudioFormatError(`WAVE_FORMAT_EXTENSIBLE fmt chunk too short (${size} bytes, need 40)`);
    const data1 = dv.getUint32(at + 24, true);
    const tailOk = GUID_TAIL.every((v, i) => b[at + 28 + i] === v);
    if (!tailOk || data1 > 0xffff) {
      const hex = (from: number, to: number): string => Array.from(b.subarray(at + from, at + to), (v) => v.toString(16).padStart(2, '0')).join('');
      const guid = [
        data1.toString(16).padStart(8, '0'),
        dv.getUint16(at + 28, true).toString(16).padStart(4, '0'),
        dv.getUint16(at + 30, true).toString(16).padStart(4, '0'),
        hex(32, 34),
        hex(34, 40),
      ].join('-');
      throw new AudioFormatError(`unsupported WAVE_FORMAT_EXTENSIBLE subformat GUID {${guid}}: ${SUPPORTED}`);
    }
    format = data1;
  }
  if (format !== WaveFormat.pcm && format !== WaveFormat.ieeeFloat && format !== WaveFormat.alaw && format !== WaveFormat.mulaw) {
    throw new AudioFormatError(`${formatName(format)}: ${SUPPORTED}`);
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw new AudioFormatError(`unsupported WAV channel count ${channels} (1 to ${MAX_CHANNELS})`);
  if (sampleRate < MIN_RATE || sampleRate > MAX_RATE) {
    throw new AudioFormatError(`unsupported WAV sample rate ${sampleRate} Hz (${MIN_RATE} to ${MAX_RATE})`);
  }
  if (bits === 0 || bits > 64) throw new AudioFormatError(`invalid WAV bits per sample ${bits}`);
  const minBytes = Math.ceil(bits / 8);
  // Writers disagree on padded containers (20-bit in 24, 24-bit in 32): trust blockAlign when it
  // is a whole container per channel at least as wide as the bits, derive it when it is zero.
  if (blockAlign === 0) blockAlign = minBytes * channels;
  const bytesPerSample = blockAlign / channels;
  if (!Number.isInteger(bytesPerSample) || bytesPerSample < minBytes) {
    throw new AudioFormatError(`inconsistent WAV header: block align ${blockAlign} for ${channels} channel(s) of ${bits} bits`);
  }
  const ok =
    format === WaveFormat.pcm
      ? bytesPerSample >= 1 && bytesPerSample <= 4
      : format === WaveFormat.ieeeFloat
        ? bits === bytesPerSample * 8 && (bits === 32 || bits === 64)
        : bits === 8 && bytesPerSample === 1;
  if (!ok) {
    const kind = format === WaveFormat.pcm ? 'PCM' : format === WaveFormat.ieeeFloat ? 'float' : format === WaveFormat.alaw ? 'A-law' : 'μ-law';
    throw new AudioFormatError(`unsupported ${bits}-bit ${kind} WAV (${bytesPerSample}-byte samples): ${SUPPORTED}`);
  }
  return { format, channels, sampleRate, bytesPerSample, blockAlign };
}

/** Walks the RIFF chunks and returns the format and the sample bytes; throws AudioFormatError. */
export function parseWav(bytes: Uint8Array): ParsedWav {
  if (bytes.length < 12) throw new AudioFormatError(`not a WAV file (only ${bytes.length} bytes)`);
  const riff = fourCC(bytes, 0);
  if ((riff !== 'RIFF' && riff !== 'RF64') || fourCC(bytes, 8) !== 'WAVE') throw notWav(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let format: WavFormat | undefined;
  let data: Uint8Array | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourCC(bytes, at);
    const size = dv.getUint32(at + 4, true);
    const body = at + 8;
    const available = bytes.length - body;
    if (id === 'fmt ') {
      if (size > available) throw new AudioFormatError(`truncated WAV: fmt chunk declares ${size} bytes, ${available} present`);
      format = parseFmt(bytes, dv, body, size);
    } else if (id === 'data') {
      if (size <= available) data = bytes.subarray(body, body + size);
      else if (size >= STREAMING_SIZE) data = bytes.subarray(body);
      else throw new AudioFormatError(`truncated WAV: data chunk declares ${size} bytes, ${available} present`);
    } else if (size > available) {
      break; // a truncated trailing chunk (LIST, id3 …) does not matter once we have what we need
    }
    if (format !== undefined && data !== undefined) break;
    at = body + size + (size & 1);
  }
  if (format === undefined) throw new AudioFormatError(at + 8 > bytes.length && data === undefined ? 'truncated WAV: no fmt chunk' : 'invalid WAV: no fmt chunk');
  if (data === undefined) throw new AudioFormatError('invalid WAV: no data chunk');
  const whole = data.length - (data.length % format.blockAlign);
  return { format, data: data.subarray(0, whole) };
}

/** Decodes the sample bytes to one float per frame (channels averaged), in int16 scale. */
function toMono(fmt: WavFormat, data: Uint8Array): Float32Array {
  const { channels, bytesPerSample: bps, blockAlign } = fmt;
  const frames = data.length / blockAlign;
  const out = new Float32Array(frames);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const scale = 1 / channels;
  let read: (at: number) => number;
  if (fmt.format === WaveFormat.mulaw) read = (at) => MULAW_DECODE[data[at]!]!;
  else if (fmt.format === WaveFormat.alaw) read = (at) => ALAW_DECODE[data[at]!]!;
  else if (fmt.format === WaveFormat.ieeeFloat) {
    read =
      bps === 4
        ? (at) => {
            const v = dv.getFloat32(at, true);
            return Number.isFinite(v) ? v * 32768 : 0;
          }
        : (at) => {
            const v = dv.getFloat64(at, true);
            return Number.isFinite(v) ? v * 32768 : 0;
          };
  } else if (bps === 1) read = (at) => (data[at]! - 128) * 256;
  else if (bps === 2) read = (at) => dv.getInt16(at, true);
  else if (bps === 3) read = (at) => ((data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16)) << 8) / 65536;
  else read = (at) => dv.getInt32(at, true) / 65536;

  for (let f = 0, at = 0; f < frames; f++, at += blockAlign) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(at + c * bps);
    out[f] = sum * scale;
  }
  return out;
}

/**
 * Decodes a WAV file to 8 kHz mono PCM16, in slices (see the file comment). Rejects with
 * AudioFormatError for anything that is not a well-formed WAV in a supported encoding, or that
 * lasts more than `maxSeconds`; with the signal's reason when `signal` aborts. An empty data
 * chunk gives an empty array.
 */
export async function decodeWav(bytes: Uint8Array, options: WavOptions = {}): Promise<Int16Array> {
  const { signal } = options;
  const maxSeconds = options.maxSeconds ?? MAX_AUDIO_SECONDS;
  signal?.throwIfAborted();
  const { format, data } = parseWav(bytes);
  const frames = data.length / format.blockAlign;
  const seconds = frames / format.sampleRate;
  if (seconds > maxSeconds) throw tooLong('WAV', maxSeconds, seconds);

  const resampler = new StreamResampler(format.sampleRate, OUTPUT_SAMPLE_RATE);
  const out = new Int16Array(resampler.outputLength(frames));
  let written = 0;
  const put = (block: Float32Array): void => {
    toInt16Into(block, out, written);
    written += block.length;
  };
  for (let first = 0; first < frames; first += SLICE_FRAMES) {
    if (first > 0) {
      await nextTurn();
      signal?.throwIfAborted();
    }
    const end = Math.min(frames, first + SLICE_FRAMES);
    put(resampler.push(toMono(format, data.subarray(first * format.blockAlign, end * format.blockAlign))));
  }
  put(resampler.end());
  return out;
}
