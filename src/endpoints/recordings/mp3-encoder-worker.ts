/**
 * The MP3 encoder's thread (worker_threads; started by mp3-encoder.ts): one job at a time, read
 * the WAV a few seconds at a time, encode with LAME (wasm-media-encoders), write the MP3. Blocking
 * file calls are fine here: this thread does nothing else.
 */
import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { createMp3Encoder } from 'wasm-media-encoders';
import { MONO_KBPS, STEREO_KBPS, type Mp3Job, type Mp3Result } from './mp3-encoder.js';
import { RECORDING_FILE_MODE, RECORDING_SAMPLE_RATE, WAV_HEADER_BYTES, blockAlign, readWavChannels, wholeDataBytes } from './wav-header.js';

const port = parentPort;
if (port === null) throw new Error('mp3-encoder-worker.ts must run in a worker thread');

/** Sample frames read and encoded at once: 4.6 s, a whole number of MPEG-2.5 frames (576 samples). */
const CHUNK_FRAMES = 576 * 64;

const lame = await createMp3Encoder();

port.on('message', (job: Mp3Job) => {
  let result: Mp3Result = { id: job.id };
  try {
    encodeFile(job.wavPath, job.mp3Path);
  } catch (error) {
    const { message, code } = error as NodeJS.ErrnoException;
    result = { id: job.id, error: { message: String(message), ...(code ? { code } : {}) } };
    try {
      unlinkSync(job.mp3Path);
    } catch {
      // never created, or already gone: nothing half-written is left either way
    }
  }
  port.postMessage(result);
});

function encodeFile(wavPath: string, mp3Path: string): void {
  const wav = openSync(wavPath, 'r');
  try {
    const header = Buffer.alloc(WAV_HEADER_BYTES);
    const channels = readSync(wav, header, 0, WAV_HEADER_BYTES, 0) === WAV_HEADER_BYTES ? readWavChannels(header) : undefined;
    if (channels === undefined) throw new Error(`${wavPath} is not a recording's WAV (8 kHz 16-bit PCM, one or two channels)`);
    // The file's length, not the header: a recording still being written is ahead of its header.
    const dataBytes = wholeDataBytes(fstatSync(wav).size, channels);
    lame.configure({ sampleRate: RECORDING_SAMPLE_RATE, outputSampleRate: RECORDING_SAMPLE_RATE, channels, bitrate: channels === 1 ? MONO_KBPS : STEREO_KBPS });
    const mp3 = openSync(mp3Path, 'wx', RECORDING_FILE_MODE);
    try {
      const bytes = Buffer.alloc(CHUNK_FRAMES * blockAlign(channels));
      const planes = Array.from({ length: channels }, () => new Float32Array(CHUNK_FRAMES));
      for (let done = 0; done < dataBytes; ) {
        const read = readSync(wav, bytes, 0, Math.min(bytes.length, dataBytes - done), WAV_HEADER_BYTES + done);
        if (read === 0) break; // cut shorter since the stat: encode what there was
        const frames = Math.floor(read / blockAlign(channels));
        for (let i = 0; i < frames; i++) {
          for (let c = 0; c < channels; c++) planes[c]![i] = bytes.readInt16LE((i * channels + c) * 2) / 32768;
        }
        writeAll(mp3, lame.encode(planes.map((p) => p.subarray(0, frames))));
        done += read;
      }
      writeAll(mp3, lame.finalize());
    } finally {
      closeSync(mp3);
    }
  } finally {
    closeSync(wav);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}
