/**
 * Where recordings are kept: RecordingStorage (domain/recording-ports.ts) on a directory,
 * CONCLAVE_RECORDINGS_DIR. One `<RecordingSid>.wav` a recording, written while it records
 * (wav-file-writer.ts), and `<RecordingSid>.mp3` beside it once someone asked for the MP3.
 *
 * Several nodes on one PostgreSQL share the directory (NFS or the like): recordings are bulk
 * audio, megabytes an hour, that a database is the wrong place for, and every node must serve
 * every recording. So nothing here assumes one process: SIDs are unique (a WAV is created with
 * O_EXCL), the MP3 cache is written under a name of its own and renamed into place (rename is
 * atomic on POSIX file systems and NFS), and deleting what another node already deleted is fine.
 * What this process is writing it knows (`writing`); another node's recording still being
 * written is only told apart by time (an MP3 older than its WAV is made again).
 *
 * A SID must match `^RE[0-9a-f]{32}$` before it names a file: nothing from a URL reaches a path.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, opendir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingMedia, RecordingSink, RecordingStorage } from '../../domain/recording-ports.js';
import { Mp3Encoder } from './mp3-encoder.js';
import { trimTempPath } from './trim-silence.js';
import { WavFileWriter } from './wav-file-writer.js';
import { WAV_HEADER_BYTES, durationSeconds, readWavChannels, wavSizeFields, wholeDataBytes } from './wav-header.js';

const RECORDING_SID = /^RE[0-9a-f]{32}$/;
const RECORDING_FILE = /^(RE[0-9a-f]{32})\.(wav|mp3)$/;
const TEMP_FILE = /^RE[0-9a-f]{32}\..*\.tmp$/;
/** A temporary file (an MP3 being made, a trim) this old was left by a crash: a real one takes seconds. */
const STALE_TEMP_MS = 60 * 60_000;

export interface FileRecordingStorageOptions {
  /** How often a recording's pending audio is written and its header rewritten (wav-file-writer.ts). */
  flushIntervalMs?: number;
}

export class FileRecordingStorage implements RecordingStorage {
  /** Recordings this process is writing: created, and not yet finished (trim included) or discarded. */
  private readonly writing = new Set<string>();
  /** MP3s being made, so that two requests for one wait on one encoding. */
  private readonly encoding = new Map<string, Promise<void>>();
  private readonly mp3 = new Mp3Encoder();

  constructor(
    readonly dir: string,
    private readonly options: FileRecordingStorageOptions = {},
  ) {}

  async create(recordingSid: string, channels: 1 | 2): Promise<RecordingSink> {
    if (!RECORDING_SID.test(recordingSid)) throw new Error(`${recordingSid} is not a recording SID`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.writing.add(recordingSid);
    try {
      return await WavFileWriter.create(this.path(recordingSid, 'wav'), channels, {
        ...this.options,
        onDone: () => this.writing.delete(recordingSid),
      });
    } catch (error) {
      this.writing.delete(recordingSid);
      throw error;
    }
  }

  async read(recordingSid: string, format: 'wav' | 'mp3'): Promise<RecordingMedia | undefined> {
    if (!RECORDING_SID.test(recordingSid)) return undefined;
    if (format === 'wav') return this.serve(this.path(recordingSid, 'wav'), 'audio/x-wav');
    const mp3 = await this.mp3File(recordingSid);
    return mp3 && this.serve(mp3.path, 'audio/mpeg', mp3.temporary);
  }

  async remove(recordingSid: string): Promise<void> {
    if (!RECORDING_SID.test(recordingSid)) return;
    const wav = this.path(recordingSid, 'wav');
    await Promise.all([wav, this.path(recordingSid, 'mp3'), trimTempPath(wav)].map(unlinkIfThere));
  }

  async recover(recordingSid: string): Promise<number | undefined> {
    if (!RECORDING_SID.test(recordingSid)) return undefined;
    const wav = this.path(recordingSid, 'wav');
    await unlinkIfThere(trimTempPath(wav)); // a trim cut short left the untrimmed file whole
    const file = await openIfThere(wav, 'r+');
    if (!file) return undefined;
    try {
      const header = Buffer.alloc(WAV_HEADER_BYTES);
      await file.read(header, 0, WAV_HEADER_BYTES, 0);
      const channels = readWavChannels(header);
      if (channels === undefined) return undefined;
      const { size } = await file.stat();
      const dataBytes = wholeDataBytes(size, channels);
      if (dataBytes === 0) return undefined;
      if (size !== WAV_HEADER_BYTES + dataBytes) await file.truncate(WAV_HEADER_BYTES + dataBytes);
      for (const [at, field] of wavSizeFields(dataBytes)) await file.write(field, 0, field.length, at);
      return durationSeconds(dataBytes, channels);
    } finally {
      await file.close();
    }
  }

  /**
   * Retention: deletes every recording's files last written before `cutoffMs` (epoch ms), and
   * temporary files a crash left behind; returns the SIDs whose WAV it deleted, for the caller
   * to drop their rows. Recordings this process is writing are skipped (another node's are
   * written every second, far newer than any cutoff in days).
   */
  async sweepExpired(cutoffMs: number, nowMs = Date.now()): Promise<string[]> {
    const deleted: string[] = [];
    const dir = await opendir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (isAbsent(error)) return undefined;
      throw error;
    });
    if (!dir) return deleted;
    for await (const entry of dir) {
      const recording = RECORDING_FILE.exec(entry.name);
      if (!entry.isFile() || (!recording && !TEMP_FILE.test(entry.name))) continue;
      if (recording && this.writing.has(recording[1]!)) continue;
      const path = join(this.dir, entry.name);
      const modified = await stat(path).then((s) => s.mtimeMs, () => undefined);
      if (modified === undefined || modified >= (recording ? cutoffMs : nowMs - STALE_TEMP_MS)) continue;
      await unlinkIfThere(path);
      if (recording?.[2] === 'wav') deleted.push(recording[1]!);
    }
    return deleted;
  }

  /** Stops the MP3 worker. Idempotent. Recordings being written are their owners' to finish. */
  close(): Promise<void> {
    return this.mp3.close();
  }

  private path(recordingSid: string, format: 'wav' | 'mp3'): string {
    return join(this.dir, `${recordingSid}.${format}`);
  }

  /**
   * The MP3 to serve: the cached one when it is newer than its WAV, else one made now. One
   * made of a recording still being written here is not cached (it would be short), and is
   * served from a temporary file instead.
   */
  private async mp3File(recordingSid: string): Promise<{ path: string; temporary: boolean } | undefined> {
    const wav = this.path(recordingSid, 'wav');
    const mp3 = this.path(recordingSid, 'mp3');
    const [wavStat, mp3Stat] = await Promise.all([statIfThere(wav), statIfThere(mp3)]);
    if (!wavStat) return undefined;
    if (this.writing.has(recordingSid)) {
      const temporary = `${mp3}.${randomUUID()}.tmp`;
      await this.mp3.encode(wav, temporary);
      return { path: temporary, temporary: true };
    }
    if (mp3Stat && mp3Stat.mtimeMs >= wavStat.mtimeMs) return { path: mp3, temporary: false };
    let encoding = this.encoding.get(recordingSid);
    if (!encoding) {
      const temporary = `${mp3}.${randomUUID()}.tmp`;
      encoding = this.mp3
        .encode(wav, temporary)
        .then(() => rename(temporary, mp3))
        .finally(() => this.encoding.delete(recordingSid));
      this.encoding.set(recordingSid, encoding);
    }
    await encoding;
    return { path: mp3, temporary: false };
  }

  /** Opens the file and streams it; a temporary one is unlinked once open (its data lives on until closed). */
  private async serve(path: string, contentType: RecordingMedia['contentType'], temporary = false): Promise<RecordingMedia | undefined> {
    const file = await openIfThere(path, 'r');
    if (temporary) await unlinkIfThere(path);
    if (!file) return undefined;
    const { size } = await file.stat();
    // Exactly `size` bytes (Content-Length), even if the file grows meanwhile; the stream closes the file.
    if (size === 0) {
      await file.close();
      return { contentType, size, body: (async function* () {})() };
    }
    return { contentType, size, body: file.createReadStream({ start: 0, end: size - 1 }) };
  }
}

async function openIfThere(path: string, flags: 'r' | 'r+'): Promise<FileHandle | undefined> {
  return open(path, flags).catch((error: NodeJS.ErrnoException) => {
    if (isAbsent(error)) return undefined;
    throw error;
  });
}

async function statIfThere(path: string): Promise<{ mtimeMs: number } | undefined> {
  return stat(path).catch((error: NodeJS.ErrnoException) => {
    if (isAbsent(error)) return undefined;
    throw error;
  });
}

async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (!isAbsent(error)) throw error;
  });
}

/** No such file: it is not there, or a part of its directory's path is not a directory. */
function isAbsent(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOENT' || error.code === 'ENOTDIR';
}
