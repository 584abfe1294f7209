/**
 * The one WAV layout recordings are kept in: the canonical 44-byte RIFF header (a `fmt ` chunk of
 * 16 bytes for PCM, then the `data` chunk), 8 kHz 16-bit little-endian PCM, one or two channels
 * interleaved. Microsoft's RIFF/WAVE spec (Multimedia Programming Interface and Data
 * Specifications 1.0, "WAVE Form"): RIFF size = file size − 8, data size = bytes of samples.
 *
 * The header is written first with sizes of 0 and rewritten as the samples reach the disk, so
 * a file cut short by a crash has a header that is at most one rewrite behind; `readWavHeader`
 * accepts such a file (sizes behind its length) and the caller trusts the length.
 */
export const WAV_HEADER_BYTES = 44;
/** Recordings are private, like the credentials file: the service's user alone reads them. */
export const RECORDING_FILE_MODE = 0o600;
export const RECORDING_SAMPLE_RATE = 8000;
const BYTES_PER_SAMPLE = 2;

export interface WavLayout {
  channels: 1 | 2;
  /** Bytes of samples after the header. */
  dataBytes: number;
}

/** Bytes one sample frame takes (every channel's sample at one instant). */
export function blockAlign(channels: 1 | 2): number {
  return channels * BYTES_PER_SAMPLE;
}

export function wavHeader({ channels, dataBytes }: WavLayout): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // WAVE_FORMAT_PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(RECORDING_SAMPLE_RATE, 24);
  h.writeUInt32LE(RECORDING_SAMPLE_RATE * blockAlign(channels), 28);
  h.writeUInt16LE(blockAlign(channels), 32);
  h.writeUInt16LE(8 * BYTES_PER_SAMPLE, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** The two size fields, for rewriting in place: [offset, bytes] pairs. */
export function wavSizeFields(dataBytes: number): Array<[number, Buffer]> {
  const riff = Buffer.alloc(4);
  riff.writeUInt32LE(36 + dataBytes, 0);
  const data = Buffer.alloc(4);
  data.writeUInt32LE(dataBytes, 0);
  return [
    [4, riff],
    [40, data],
  ];
}

/**
 * The channel count of a recording's header, or undefined when the bytes are not one (a file
 * cut before its header was whole, or not ours). The sizes are not checked: see the file header.
 */
export function readWavChannels(header: Uint8Array): 1 | 2 | undefined {
  if (header.length < WAV_HEADER_BYTES) return undefined;
  const h = Buffer.from(header.buffer, header.byteOffset, WAV_HEADER_BYTES);
  const tag = (at: number): string => h.toString('ascii', at, at + 4);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE' || tag(12) !== 'fmt ' || tag(36) !== 'data') return undefined;
  const channels = h.readUInt16LE(22);
  if (h.readUInt16LE(20) !== 1 || h.readUInt32LE(24) !== RECORDING_SAMPLE_RATE || h.readUInt16LE(34) !== 16) return undefined;
  return channels === 1 || channels === 2 ? channels : undefined;
}

/** Whole sample frames in `fileBytes` of a file with this many channels (a torn last frame dropped). */
export function wholeDataBytes(fileBytes: number, channels: 1 | 2): number {
  const data = Math.max(0, fileBytes - WAV_HEADER_BYTES);
  return data - (data % blockAlign(channels));
}

/** Whole seconds of audio, as Twilio's `duration` (rounded to the nearest second). */
export function durationSeconds(dataBytes: number, channels: 1 | 2): number {
  return Math.round(dataBytes / blockAlign(channels) / RECORDING_SAMPLE_RATE);
}
