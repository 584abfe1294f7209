/**
 * One recording being written: a RecordingSink (domain/recording-ports.ts) on a WAV file.
 *
 * Appends are copied into memory and written once a second (FLUSH_INTERVAL_MS), or sooner when a
 * burst piles up more than MAX_PENDING_BYTES, each write followed by a rewrite of the header's two
 * sizes. So a `kill -9` loses at most the last second: what reached the kernel is in the page
 * cache and on disk after the process dies, and its header is at most one write behind, which
 * `recover` (file-recording-storage.ts) corrects from the file's length. No fsync while
 * recording (a power cut is not a crash of Conclave); one `datasync` when it finishes, before
 * the recording is announced completed.
 *
 * Writes run one at a time on a promise chain, on libuv's pool, never on the media threads (the
 * caller hands over batches the media thread already mixed). The first write error (ENOSPC,
 * EACCES, EIO, EDQUOT…) settles `failed`; from then on appends are dropped and nothing throws
 * into the caller: the call goes on, the recording ends absent.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { RecordingSink } from '../../domain/recording-ports.js';
import { trimSilence } from './trim-silence.js';
import { RECORDING_FILE_MODE, WAV_HEADER_BYTES, durationSeconds, wavHeader, wavSizeFields } from './wav-header.js';

export const FLUSH_INTERVAL_MS = 1000;
/** Two seconds of dual audio: a bigger burst is written at once rather than held. */
const MAX_PENDING_BYTES = 64 * 1024;
const BIG_ENDIAN = endianness() === 'BE';

export interface WavFileWriterOptions {
  /** How often pending audio is written and the header rewritten. */
  flushIntervalMs?: number;
  /** Called once the recording is done with: finished (trimmed too) or failed finishing, or discarded. */
  onDone?: () => void;
}

export class WavFileWriter implements RecordingSink {
  /** Creates the file (it must not exist: SIDs are unique) with a header of no samples yet. */
  static async create(path: string, channels: 1 | 2, options: WavFileWriterOptions = {}): Promise<WavFileWriter> {
    const file = await open(path, 'wx', RECORDING_FILE_MODE);
    try {
      await writeAll(file, wavHeader({ channels, dataBytes: 0 }), 0);
    } catch (error) {
      await file.close();
      await unlink(path).catch(() => undefined); // the error below says why; a header-less file is of no use
      throw error;
    }
    return new WavFileWriter(path, channels, file, options);
  }

  readonly failed: Promise<Error>;
  private settleFailed!: (error: Error) => void;
  private error: Error | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dataBytes = 0;
  /** The writes so far, one after another; never rejects (errors go to `fail`). */
  private writes: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private accepting = true;
  private finishing: Promise<number> | undefined;
  private discarding: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    readonly channels: 1 | 2,
    private readonly file: FileHandle,
    private readonly options: WavFileWriterOptions,
  ) {
    this.failed = new Promise((resolve) => (this.settleFailed = resolve));
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  append(pcm: Int16Array): void {
    if (!this.accepting || this.error || pcm.length === 0) return;
    // A copy: the caller may reuse its buffer for the next batch.
    const bytes = Buffer.from(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    if (BIG_ENDIAN) bytes.swap16(); // WAV samples are little-endian
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= MAX_PENDING_BYTES) void this.flush();
  }

  finish(options: { trim: boolean }): Promise<number> {
    this.finishing ??= this.finishOnce(options.trim);
    return this.finishing;
  }

  discard(): Promise<void> {
    this.discarding ??= this.discardOnce();
    return this.discarding;
  }

  private async finishOnce(trim: boolean): Promise<number> {
    try {
      return await this.writeTheRest(trim);
    } finally {
      this.options.onDone?.();
    }
  }

  private async writeTheRest(trim: boolean): Promise<number> {
    this.accepting = false;
    clearInterval(this.timer);
    await this.flush();
    if (!this.error) await this.file.datasync().catch((error: unknown) => this.fail(error));
    await this.close();
    if (this.error) throw this.error;
    if (trim && this.dataBytes > 0) this.dataBytes = await trimSilence(this.path, this.channels, this.dataBytes);
    return durationSeconds(this.dataBytes, this.channels);
  }

  private async discardOnce(): Promise<void> {
    this.accepting = false;
    this.pending = [];
    this.pendingBytes = 0;
    clearInterval(this.timer);
    await this.finishing?.catch(() => undefined);
    await this.writes;
    await this.close();
    try {
      await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    } finally {
      this.options.onDone?.();
    }
  }

  /** Writes what is pending after the writes before it; resolves when done or failed. */
  private flush(): Promise<void> {
    this.writes = this.writes.then(() => this.writePending());
    return this.writes;
  }

  private async writePending(): Promise<void> {
    if (this.error || this.closing || this.pendingBytes === 0) return;
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      await writeAll(this.file, bytes, WAV_HEADER_BYTES + this.dataBytes);
      this.dataBytes += bytes.length;
      for (const [at, field] of wavSizeFields(this.dataBytes)) await writeAll(this.file, field, at);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.error) return;
    this.error = error instanceof Error ? error : new Error(String(error));
    this.pending = [];
    this.pendingBytes = 0;
    clearInterval(this.timer);
    this.settleFailed(this.error);
    void this.close(); // nothing more will be written; discard() still deletes the file
  }

  private close(): Promise<void> {
    this.closing ??= this.file.close().catch((error: unknown) => this.fail(error)); // NFS reports a failed write back at close
    return this.closing;
  }
}

/** fs writes may be partial (a disk filling up mid-buffer): write the rest, or throw its error. */
async function writeAll(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('no space left on device (a write took no bytes)'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}
