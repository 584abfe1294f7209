/**
 * One Conclave server per SQLite file. The server keeps a participant read cache that assumes
 * no other server changes the file (participant-cache.ts), and at start it ends the calls a
 * dead run left live (sweep-orphan-calls.ts): a second server on the same file would serve
 * stale participants and end the first one's live calls. So the server holds a lock for as
 * long as it runs, and a second one is refused with one line naming the first one's pid.
 *
 * Why this lock and not another:
 * - Not SQLite's `locking_mode = EXCLUSIVE` on the database: it would shut out `conclave join`,
 *   which writes to the file while the server runs (README), and every reader (a backup).
 * - Not a pid file alone (created with O_EXCL, and a pid in it that must still be alive): a
 *   kill -9 leaves it behind, so every start must tell a stale one from a live one — is the pid
 *   alive, or reused by another program (its start time in /proc/<pid>/stat, Linux only)? — two
 *   starts that both find it stale can both take it over, and a pid means nothing to a server in
 *   another pid namespace (a container) sharing the volume.
 * - An OS lock is released by the kernel when its process ends, however it ends, and is seen by
 *   every process on the host, containers included. Node has no flock(); SQLite's own file locks
 *   (POSIX fcntl byte-range locks; LockFileEx on Windows) are at hand through better-sqlite3,
 *   which the store already uses. So the lock is a second, empty SQLite database beside the
 *   data, `<file>.lock`, on which the server keeps a write transaction open (BEGIN IMMEDIATE, a
 *   RESERVED lock) without ever writing: another BEGIN IMMEDIATE on it fails at once with
 *   SQLITE_BUSY. Nothing is written to it (its journal is kept in memory), so nothing needs
 *   recovering after a crash, and the empty file a crash leaves behind locks nothing: the next
 *   start simply takes it. It is never deleted: a server that opened the old file just before
 *   it went could lock it while another locks a new one at the same path.
 * - The pid in the refusal is read from `<file>.pid`, which the holder writes once it holds the
 *   lock and removes when it lets go. It is only what the message says, never what decides.
 *
 * The lock file must not be opened by anything else in the holding process: closing any
 * descriptor of a file drops every fcntl lock the process holds on it (SQLite guards its own
 * connections against that, not others).
 */
import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { ConfigError } from '../../errors.js';

export class SqliteProcessLock {
  private released = false;

  private constructor(
    private readonly lock: Sqlite.Database,
    private readonly pidFile: string,
  ) {}

  /**
   * Takes the lock of the SQLite database `file` for this process, or throws a `ConfigError`
   * saying which process holds it. Never waits.
   */
  static acquire(file: string): SqliteProcessLock {
    const shown = path.resolve(file);
    const database = realPath(shown);
    const lockFile = `${database}.lock`;
    let lock: Sqlite.Database;
    try {
      // timeout 0: a held lock is held for a server's whole life; waiting would not help.
      lock = new Sqlite(lockFile, { timeout: 0 });
    } catch (error) {
      throw new ConfigError(`cannot open the server lock ${lockFile}: ${(error as Error).message}`);
    }
    try {
      lock.pragma('journal_mode = MEMORY');
      lock.exec('begin immediate');
    } catch (error) {
      lock.close();
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw new ConfigError(`cannot take the server lock ${lockFile}: ${(error as Error).message}`);
      const holder = readPid(`${database}.pid`);
      throw new ConfigError(
        `${shown} is in use by another Conclave server${holder === undefined ? '' : ` (pid ${holder})`}; ` +
          'SQLite is for one server process — use PostgreSQL for several nodes',
      );
    }
    const held = new SqliteProcessLock(lock, `${database}.pid`);
    try {
      writePid(held.pidFile);
    } catch (error) {
      held.release();
      throw error;
    }
    return held;
  }

  /** Lets go of the lock (idempotent); the next server may start. */
  release(): void {
    if (this.released) return;
    this.released = true;
    // The pid file first, while the lock still keeps any other server from writing its own.
    fs.rmSync(this.pidFile, { force: true });
    this.lock.close();
  }
}

/** The file's real path, so that a symbolic link to it, or to its directory, finds the same lock. */
function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    // Not made yet (a first start): its directory is.
    return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
  }
}

/** Written whole under a temporary name, then renamed: a reader never sees half of it. */
function writePid(pidFile: string): void {
  const temporary = `${pidFile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${process.pid}\n`);
  fs.renameSync(temporary, pidFile);
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
