/**
 * Twilio's `trim-silence` (the `Trim` parameter and `<Conference trim>`: "trims leading and
 * trailing silence from the recording") done to a finished WAV file in place.
 *
 * Twilio gives no threshold, so silence is Asterisk's (main/dsp.c `__ast_dsp_silence_noise`,
 * DEFAULT_SILENCE_THRESHOLD 256, the `silencethreshold` of dsp.conf): a 20 ms frame whose mean
 * absolute sample is below 256 (about −42 dBFS for a sine; G.711 idle noise and comfort noise
 * stay far below it, a quiet talker's syllables far above). On a dual recording a frame is sound
 * when either channel is, and both channels are cut at the same instants so they stay in step.
 * 200 ms of what was judged silence is kept on each side: the soft onset of the first syllable
 * and the tail of the last one fall under the threshold.
 *
 * The file is scanned a second at a time from each end, never read whole (an hour of dual audio
 * is 115 MB). Only trailing silence: the file is truncated. Leading silence: the kept samples are
 * copied to `<file>.trim.tmp` and renamed over the file, so a crash mid-trim leaves the untrimmed
 * recording, never a half-moved one.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { RECORDING_FILE_MODE, WAV_HEADER_BYTES, blockAlign, wavHeader, wavSizeFields } from './wav-header.js';

/** Mean |sample| of a 20 ms frame below which it is silence (Asterisk's default). */
export const SILENCE_THRESHOLD = 256;
/** Sample frames judged together: 20 ms at 8 kHz. */
export const TRIM_FRAME_SAMPLES = 160;
/** Frames of silence kept before the first sound and after the last: 200 ms. */
export const TRIM_MARGIN_FRAMES = 10;
/** Frames read at once while scanning: one second. */
const SCAN_FRAMES = 50;
const COPY_BYTES = 64 * 1024;
const BIG_ENDIAN = endianness() === 'BE';

/** Whether one frame (interleaved when dual) holds sound on any channel. */
export function frameHasSound(pcm: Int16Array, channels: 1 | 2): boolean {
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let i = c; i < pcm.length; i += channels) sum += Math.abs(pcm[i]!);
    if (sum >= SILENCE_THRESHOLD * (pcm.length / channels)) return true;
  }
  return false;
}

/** The temporary file a trim writes before renaming it over `wavPath` (recover and remove clear it). */
export function trimTempPath(wavPath: string): string {
  return `${wavPath}.trim.tmp`;
}

/**
 * Trims the recording at `wavPath` (a complete WAV of `dataBytes` samples) and returns the bytes
 * of samples it keeps: 0 when it held no sound at all.
 */
export async function trimSilence(wavPath: string, channels: 1 | 2, dataBytes: number): Promise<number> {
  const file = await open(wavPath, 'r+');
  try {
    const frameBytes = TRIM_FRAME_SAMPLES * blockAlign(channels);
    const frames = Math.ceil(dataBytes / frameBytes);
    const scan = new FrameScanner(file, channels, dataBytes, frameBytes);
    const first = await scan.firstSound(frames);
    const start = first === undefined ? 0 : Math.max(0, first - TRIM_MARGIN_FRAMES) * frameBytes;
    const end = first === undefined ? 0 : Math.min(dataBytes, (((await scan.lastSound(first, frames)) ?? first) + 1 + TRIM_MARGIN_FRAMES) * frameBytes);
    const kept = end - start;
    if (kept === dataBytes) return dataBytes;
    if (start === 0) {
      await file.truncate(WAV_HEADER_BYTES + kept);
      for (const [at, bytes] of wavSizeFields(kept)) await file.write(bytes, 0, bytes.length, at);
      return kept;
    }
    await copyRange(file, trimTempPath(wavPath), channels, start, kept);
    await rename(trimTempPath(wavPath), wavPath);
    return kept;
  } finally {
    await file.close();
  }
}

/** Writes a WAV of `kept` bytes of samples from `start` of `source`'s data to `target`. */
async function copyRange(source: FileHandle, target: string, channels: 1 | 2, start: number, kept: number): Promise<void> {
  const out = await open(target, 'w', RECORDING_FILE_MODE);
  try {
    await out.write(wavHeader({ channels, dataBytes: kept }));
    const buffer = Buffer.alloc(COPY_BYTES);
    for (let done = 0; done < kept; ) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(COPY_BYTES, kept - done), WAV_HEADER_BYTES + start + done);
      if (bytesRead === 0) throw new Error(`${target}: the recording ended before its header said`);
      await out.write(buffer, 0, bytesRead);
      done += bytesRead;
    }
  } catch (error) {
    await out.close();
    await unlink(target).catch(() => undefined); // the untrimmed file stays; the error says why
    throw error;
  }
  await out.close();
}

/** Reads whole frames of a recording's data, a second at a time, and finds where sound is. */
class FrameScanner {
  constructor(
    private readonly file: FileHandle,
    private readonly channels: 1 | 2,
    private readonly dataBytes: number,
    private readonly frameBytes: number,
  ) {}

  async firstSound(frames: number): Promise<number | undefined> {
    for (let block = 0; block < frames; block += SCAN_FRAMES) {
      const pcm = await this.read(block, Math.min(SCAN_FRAMES, frames - block));
      for (let f = 0; f * this.frameSamples() < pcm.length; f++) if (this.hasSound(pcm, f)) return block + f;
    }
    return undefined;
  }

  /** The last frame with sound, scanning back from the end to `floor` (a frame known to have sound). */
  async lastSound(floor: number, frames: number): Promise<number | undefined> {
    for (let end = frames; end > floor; end -= SCAN_FRAMES) {
      const block = Math.max(floor, end - SCAN_FRAMES);
      const pcm = await this.read(block, end - block);
      for (let f = end - block - 1; f >= 0; f--) if (this.hasSound(pcm, f)) return block + f;
    }
    return undefined;
  }

  private frameSamples(): number {
    return this.frameBytes / 2;
  }

  private hasSound(pcm: Int16Array, frame: number): boolean {
    const from = frame * this.frameSamples();
    return frameHasSound(pcm.subarray(from, Math.min(pcm.length, from + this.frameSamples())), this.channels);
  }

  /** Frames [first, first + count), the last one short when the data ends inside it. */
  private async read(first: number, count: number): Promise<Int16Array> {
    const from = first * this.frameBytes;
    const bytes = Math.min(count * this.frameBytes, this.dataBytes - from);
    const pcm = new Int16Array(bytes / 2);
    const view = Buffer.from(pcm.buffer);
    const { bytesRead } = await this.file.read(view, 0, bytes, WAV_HEADER_BYTES + from);
    if (BIG_ENDIAN) view.swap16(); // WAV samples are little-endian
    return pcm.subarray(0, bytesRead >> 1);
  }
}
