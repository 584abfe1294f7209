/**
 * Telling audio formats apart by their first bytes: whether a body is MPEG audio (MP3), and a
 * short name for what a body that Conclave cannot play looks like, for the error message.
 *
 * Why hand-written here: media URLs are often served with a Content-Type that says nothing
 * (`application/octet-stream`) or the wrong thing, so decode-audio.ts looks at the content too,
 * and the error for a file it cannot play should say what the file is ("this is Ogg", "this
 * looks like HTML") rather than only what it is not. Magic numbers are a few comparisons each;
 * the MPEG audio frame header (ISO/IEC 11172-3 and 13818-3: sync word, version, layer, bitrate
 * and sample rate indexes) is checked field by field, and a frame must be followed by another
 * where its length says, so that raw μ-law or noise that happens to start with 0xFF is not
 * taken for MP3.
 */

const ascii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + n));

/** Sample rates by MPEG version bits (0 = MPEG 2.5, 2 = MPEG 2, 3 = MPEG 1) and rate index. */
const MPEG_RATES: Record<number, readonly number[]> = { 0: [11025, 12000, 8000], 2: [22050, 24000, 16000], 3: [44100, 48000, 32000] };

/** Bitrates in kbit/s for bitrate indexes 1 to 14, by version family and layer. */
const BITRATES = {
  v1l1: [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  v1l2: [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  v1l3: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2l1: [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  v2l23: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
} as const;

export interface MpegFrameHeader {
  /** Version bits: 0 = MPEG 2.5, 2 = MPEG 2, 3 = MPEG 1. */
  version: number;
  /** 1, 2 or 3. */
  layer: number;
  sampleRate: number;
  /** Bytes from this header to the next. */
  length: number;
}

/**
 * The MPEG audio frame header at `at`, or undefined when the four bytes there are not one
 * (no sync word, a reserved version, layer, sample rate or emphasis, or a free-format or invalid
 * bitrate, which no common encoder writes).
 */
export function mpegFrameHeader(b: Uint8Array, at = 0): MpegFrameHeader | undefined {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (b[at + 1]! >> 3) & 3;
  const layerBits = (b[at + 1]! >> 1) & 3;
  const bitrateIndex = b[at + 2]! >> 4;
  const rateIndex = (b[at + 2]! >> 2) & 3;
  const padding = (b[at + 2]! >> 1) & 1;
  if (version === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3 || (b[at + 3]! & 3) === 2) return undefined;
  const layer = 4 - layerBits;
  const sampleRate = MPEG_RATES[version]![rateIndex]!;
  const table = version === 3 ? (layer === 1 ? BITRATES.v1l1 : layer === 2 ? BITRATES.v1l2 : BITRATES.v1l3) : layer === 1 ? BITRATES.v2l1 : BITRATES.v2l23;
  const bitrate = table[bitrateIndex - 1]! * 1000;
  // Samples per frame / 8: 384 for layer I (counted in 4-byte slots), 1152 for layer II and
  // MPEG-1 layer III, 576 for MPEG-2/2.5 layer III.
  const length =
    layer === 1 ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4 : Math.floor(((layer === 3 && version !== 3 ? 72 : 144) * bitrate) / sampleRate) + padding;
  return { version, layer, sampleRate, length };
}

/** An ID3v2 tag at the start ("ID3", major version 2 to 4, a syncsafe size): its length, or 0. */
function id3v2Length(b: Uint8Array): number {
  if (b.length < 10 || ascii(b, 0, 3) !== 'ID3' || b[3]! < 2 || b[3]! > 4 || b[4] === 0xff) return 0;
  if ((b[6]! | b[7]! | b[8]! | b[9]!) & 0x80) return 0;
  const size = (b[6]! << 21) | (b[7]! << 14) | (b[8]! << 7) | b[9]!;
  return 10 + size + (b[5]! & 0x10 ? 10 : 0); // a footer adds 10 bytes
}

/** An AAC ADTS header: the MPEG sync word with layer bits 00, which MPEG audio never uses. */
const isAdts = (b: Uint8Array, at: number): boolean => at + 2 <= b.length && b[at] === 0xff && (b[at + 1]! & 0xf6) === 0xf0;

/**
 * Whether `bytes` are MPEG audio (MP3, or MP2/MP1): an ID3v2 tag not followed by AAC, or a
 * frame header at the start followed by a second frame of the same version, layer and rate
 * (or by the end of the bytes, for a one-frame file).
 */
export function looksLikeMpegAudio(bytes: Uint8Array): boolean {
  const tag = id3v2Length(bytes);
  if (tag > 0) return !isAdts(bytes, tag);
  const first = mpegFrameHeader(bytes, 0);
  if (first === undefined) return false;
  if (first.length === bytes.length) return true;
  const second = mpegFrameHeader(bytes, first.length);
  return second !== undefined && second.version === first.version && second.layer === first.layer && second.sampleRate === first.sampleRate;
}

/**
 * What `bytes` look like when recognised by a magic number or as text, else undefined: "this is
 * Ogg", "this looks like HTML or XML", … Nothing here relies on a sync word that raw audio could
 * contain by chance, so a match means the bytes are not raw μ-law either.
 */
export function describeByMagic(b: Uint8Array): string | undefined {
  if (b.length === 0) return 'the body is empty';
  const head = b.length >= 4 ? ascii(b, 0, 4) : '';
  if (head === 'RIFX') return 'big-endian RIFX WAV is not supported';
  if ((head === 'RIFF' || head === 'RF64') && b.length >= 12 && ascii(b, 8, 4) !== 'WAVE') return `RIFF file of type "${ascii(b, 8, 4)}", not WAVE`;
  if (id3v2Length(b) > 0) return 'this is MP3 (MPEG audio with an ID3 tag)';
  if (head === 'OggS') return 'this is Ogg';
  if (head === 'fLaC') return 'this is FLAC';
  if (head === '.snd') return 'this is a Sun/NeXT .au file';
  if (head === 'FORM' && b.length >= 12 && (ascii(b, 8, 4) === 'AIFF' || ascii(b, 8, 4) === 'AIFC')) return 'this is AIFF';
  if (b.length >= 8 && ascii(b, 4, 4) === 'ftyp') return 'this is MP4/M4A';
  if (ascii(b, 0, 5) === '#!AMR') return 'this is AMR';
  const start = ascii(b, 0, 64).replace(/^\u00EF\u00BB\u00BF/, ''); // a UTF-8 byte order mark
  if (/^\s*</.test(start)) return 'this looks like HTML or XML';
  if (/^\s*[[{]/.test(start)) return 'this looks like JSON';
  const sample = b.subarray(0, 256);
  let printable = 0;
  for (const v of sample) if ((v >= 0x20 && v < 0x7f) || v === 0x09 || v === 0x0a || v === 0x0d) printable++;
  if (printable >= sample.length * 0.95) return 'this looks like text';
  return undefined;
}

/**
 * A short phrase saying what `bytes` look like ("this is Ogg", "this is MP3 (MPEG audio)", …),
 * or undefined when nothing is recognised.
 */
export function describeContent(b: Uint8Array): string | undefined {
  const magic = describeByMagic(b);
  if (magic !== undefined) return magic;
  if (isAdts(b, 0)) return 'this is AAC (ADTS)';
  if (mpegFrameHeader(b, 0) !== undefined) return 'this is MP3 (MPEG audio)';
  return undefined;
}
