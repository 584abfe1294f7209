/**
 * A disk that fills up, and a directory that cannot be written, for real: a 64 KB tmpfs mounted
 * for the test (the recording outgrows it in four seconds), a read-only tmpfs, and a directory
 * path that runs through a regular file. Mounting needs root, as the interop tests do; as root,
 * chmod 0555 would not stop a write, hence mounts.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newSid } from '../../../src/domain/sids.js';
import { FileRecordingStorage } from '../../../src/endpoints/recordings/file-recording-storage.js';
import { batches, readAll, tone } from './audio-files.js';

const run = promisify(execFile);
const root = process.getuid?.() === 0;
let dir: string;
let mounted: string | undefined;
let storage: FileRecordingStorage | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conclave-disk-'));
});

afterEach(async () => {
  await storage?.close();
  storage = undefined;
  const at = mounted;
  mounted = undefined;
  try {
    // Busy means a file the storage left open: a failure of its own, and still unmounted (lazily).
    if (at) await run('umount', [at]).catch(async (error: unknown) => {
      await run('umount', ['-l', at]);
      throw error;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function mountTmpfs(options: string): Promise<string> {
  const at = join(dir, 'mnt');
  await mkdir(at);
  await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
  mounted = at;
  return at;
}

describe.skipIf(!root)('a disk that fills up', () => {
  it('settles `failed` with ENOSPC, drops what comes after, rejects finish, and discard deletes the file', async () => {
    storage = new FileRecordingStorage(await mountTmpfs('size=64k'));
    const sid = newSid('RE');
    const sink = await storage.create(sid, 1);
    let settled: Error | undefined;
    void sink.failed.then((error) => (settled = error));

    // 10 s is 160 KB: the disk is full after about four.
    for (const batch of batches(tone(400, 10), 1)) sink.append(batch);
    const error = await sink.failed;
    expect(error).toMatchObject({ code: 'ENOSPC' });
    expect(settled).toBe(error);

    expect(() => {
      for (const batch of batches(tone(400, 5), 1)) sink.append(batch);
    }).not.toThrow();
    await expect(sink.finish({ trim: true })).rejects.toMatchObject({ code: 'ENOSPC' });
    await sink.discard();
    expect(await readdir(mounted!)).toEqual([]);
  });

  it('fails only the recording that hit it: the next one, once there is room again, records', async () => {
    storage = new FileRecordingStorage(await mountTmpfs('size=64k'));
    const full = await storage.create(newSid('RE'), 1);
    full.append(tone(400, 10));
    await full.failed;
    await full.discard();

    const sid = newSid('RE');
    const next = await storage.create(sid, 1);
    for (const batch of batches(tone(400, 2), 1)) next.append(batch);
    expect(await next.finish({ trim: false })).toBe(2);
    const media = await storage.read(sid, 'wav');
    expect(media?.size).toBe(44 + 32_000);
    expect((await readAll(media!.body)).length).toBe(44 + 32_000);
  });
});

describe('a directory that cannot be written', () => {
  it.skipIf(!root)('rejects create on a read-only file system, and leaves nothing', async () => {
    storage = new FileRecordingStorage(await mountTmpfs('ro,size=64k'));
    await expect(storage.create(newSid('RE'), 1)).rejects.toMatchObject({ code: 'EROFS' });
  });

  it('rejects create when the path runs through a regular file', async () => {
    await writeFile(join(dir, 'not-a-directory'), '');
    storage = new FileRecordingStorage(join(dir, 'not-a-directory', 'recordings'));
    await expect(storage.create(newSid('RE'), 1)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(await storage.read(newSid('RE'), 'wav')).toBeUndefined();
    expect(await storage.sweepExpired(Date.now())).toEqual([]);
  });
});
