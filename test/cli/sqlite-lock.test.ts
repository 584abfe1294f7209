/**
 * SQLite is for one server process, and says so: a second `conclave serve` on the same file is
 * refused with one line naming the first one's pid, while the first keeps serving; once the
 * first has stopped — cleanly, or killed with SIGKILL, which leaves its files behind — the
 * next one starts; `conclave join`, which writes to the file directly, still works while the
 * server runs. Real processes, as a user runs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-lock-'));
  dirs.push(dir);
  return dir;
}

function conclave(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', CONCLAVE_LOG_LEVEL: 'warn', CONCLAVE_HTTP_PORT: '0', CONCLAVE_SIP_PORT: '0', CONCLAVE_MEDIA_REALTIME: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

interface Server {
  child: ChildProcess;
  baseUrl: string;
  accountSid: string;
  authorization: string;
}

/** `conclave serve` on `database`, resolved once its banner is complete. */
function serve(database: string): Promise<Server> {
  const child = conclave(['serve'], { CONCLAVE_DATABASE: database });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('Try: curl')) return;
      const field = (label: string): string => new RegExp(`${label}:\\s+(\\S+)`).exec(out)![1]!;
      const accountSid = field('Account SID');
      resolve({
        child,
        baseUrl: /listening on (\S+)\/2010-04-01/.exec(out)![1]!,
        accountSid,
        authorization: `Basic ${Buffer.from(`${accountSid}:${field('Auth token')}`).toString('base64')}`,
      });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`conclave serve exited ${code}: ${err}`)));
  });
}

/** Runs a command to its end: its exit code, stdout and stderr. */
function run(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `conclave serve` expected to be refused: how it ended, or 'served' (and stopped) if it printed its banner instead. */
function serveRefused(database: string): Promise<{ code: number | null | 'served'; stdout: string; stderr: string }> {
  const child = conclave(['serve'], { CONCLAVE_DATABASE: database });
  child.stdout!.on('data', (d: Buffer) => {
    if (d.toString().includes('Try: curl')) child.kill('SIGKILL');
  });
  return run(child).then((result) => (child.signalCode === 'SIGKILL' ? { ...result, code: 'served' } : result));
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const gone = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  child.kill(signal);
  return gone;
}

async function api(server: Server, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.baseUrl}/2010-04-01/Accounts/${server.accountSid}${path}`, { headers: { authorization: server.authorization } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const REFUSAL = (database: string, pid: number): string =>
  `conclave: ${database} is in use by another Conclave server (pid ${pid}); SQLite is for one server process — use PostgreSQL for several nodes\n`;

describe('one conclave serve per SQLite file', () => {
  it('refuses a second server on the same file with one line, and the first keeps serving', async () => {
    const dir = tempDir();
    const database = join(dir, 'data', 'conclave.db');
    const first = await serve(database);

    const second = await serveRefused(database);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(REFUSAL(database, first.child.pid!));
    expect(second.stdout).toBe('');

    // Through a symbolic link to the directory: the same file, the same refusal.
    symlinkSync(join(dir, 'data'), join(dir, 'link'));
    const linked = await serveRefused(join(dir, 'link', 'conclave.db'));
    expect(linked.code).toBe(1);
    expect(linked.stderr).toBe(REFUSAL(join(dir, 'link', 'conclave.db'), first.child.pid!));

    expect(first.child.exitCode).toBeNull();
    const account = await api(first, '.json');
    expect(account.status).toBe(200);
    expect(account.body.sid).toBe(first.accountSid);
  }, 40_000);

  it('starts again once the first server has stopped (SIGTERM)', async () => {
    const database = join(tempDir(), 'conclave.db');
    const first = await serve(database);
    // Answered: past the banner, its signal handlers are in place.
    expect((await api(first, '.json')).status).toBe(200);
    expect(await stop(first.child, 'SIGTERM')).toEqual({ code: 0, signal: null });

    const next = await serve(database);
    expect(next.accountSid).toBe(first.accountSid);
    expect((await api(next, '.json')).status).toBe(200);
  }, 40_000);

  it('starts again after the first server was killed with SIGKILL (its lock files left behind)', async () => {
    const database = join(tempDir(), 'conclave.db');
    const first = await serve(database);
    expect((await api(first, '.json')).status).toBe(200);
    expect(await stop(first.child, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

    const next = await serve(database);
    expect((await api(next, '.json')).status).toBe(200);
    // And the new one holds the file in its turn.
    const third = await serveRefused(database);
    expect(third.code).toBe(1);
    expect(third.stderr).toBe(REFUSAL(database, next.child.pid!));
  }, 40_000);

  it('conclave join still writes to the file of a running server, which lists the participant', async () => {
    const database = join(tempDir(), 'conclave.db');
    const server = await serve(database);

    const joined = await run(conclave(['join', '--conference', 'standup', '--label', 'alice'], { CONCLAVE_DATABASE: database }));
    expect(joined.stderr).toBe('');
    expect(joined.code).toBe(0);
    const conferenceSid = /ConferenceSid (CF[0-9a-f]{32})/.exec(joined.stdout)![1]!;

    const listed = await api(server, `/Conferences/${conferenceSid}/Participants.json`);
    expect(listed.status).toBe(200);
    expect(listed.body.participants).toEqual([expect.objectContaining({ label: 'alice', conference_sid: conferenceSid })]);
  }, 40_000);
});
