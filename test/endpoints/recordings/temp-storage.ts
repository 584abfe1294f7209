/**
 * A FileRecordingStorage on a fresh temporary directory for each test, closed and deleted after
 * it: `const recordings = useTempStorage('conclave-trim-')`, then `recordings.storage` and
 * `recordings.dir` inside the tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { FileRecordingStorage } from '../../../src/endpoints/recordings/file-recording-storage.js';

export interface TempStorage {
  /** The storage's directory (made by its first recording when `below` was given). */
  readonly dir: string;
  readonly storage: FileRecordingStorage;
}

/** `below`: the storage's directory is that subdirectory of the temporary one, not made yet. */
export function useTempStorage(prefix: string, below?: string): TempStorage {
  const current: { root?: string; storage?: FileRecordingStorage } = {};
  beforeEach(async () => {
    current.root = await mkdtemp(join(tmpdir(), prefix));
    current.storage = new FileRecordingStorage(below ? join(current.root, below) : current.root);
  });
  afterEach(async () => {
    await current.storage?.close();
    if (current.root) await rm(current.root, { recursive: true, force: true });
  });
  return {
    get dir() {
      return current.storage!.dir;
    },
    get storage() {
      return current.storage!;
    },
  };
}
