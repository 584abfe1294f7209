/**
 * Conclave as an operator runs it — `conclave serve`, configured by CONCLAVE_* variables — in a
 * child process with a private mount namespace (`unshare -m`, so root only) in which the test's
 * own files are mounted over /etc/hosts and /etc/resolv.conf: the names the test invents
 * resolve, in that process only, to the addresses the test chooses, through the system resolver
 * Conclave really uses. The host's files are untouched (the mounts vanish with the process).
 *
 * The server's log (JSON lines on stdout, CONCLAVE_LOG_LEVEL) is kept, and the test can wait on
 * a line, as an operator would read it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newAuthToken, newSid } from '../../src/domain/sids.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ConclaveProcess {
  /** `http://127.0.0.1:<port>/2010-04-01/Accounts/<AC>`. */
  readonly api: string;
  readonly accountSid: string;
  /** Every line the server wrote so far. */
  readonly lines: string[];
  /** A form POST (repeated keys as arrays) or a GET, with the owner's Basic auth; the body parsed as JSON. */
  request(method: 'GET' | 'POST', path: string, form?: Record<string, string | string[]>): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Resolves with the first line (past or future) that has every one of `parts`. */
  logLine(parts: readonly string[], timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export interface ConclaveProcessOptions {
  /** CONCLAVE_* settings over the test defaults. */
  env: Record<string, string>;
  /** Files mounted over /etc/hosts and /etc/resolv.conf. */
  hostsFile: string;
  resolvFile: string;
  /** Where the SQLite file goes. */
  dataDir: string;
}

export async function startConclaveProcess(options: ConclaveProcessOptions): Promise<ConclaveProcess> {
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    CONCLAVE_HTTP_PORT: '0',
    CONCLAVE_SIP_PORT: '0',
    CONCLAVE_DATABASE: `${options.dataDir}/conclave.db`,
    CONCLAVE_ACCOUNT_SID: accountSid,
    CONCLAVE_AUTH_TOKEN: authToken,
    CONCLAVE_MEDIA_REALTIME: 'off',
    CONCLAVE_LOG_LEVEL: 'info',
    CONCLAVE_WEBHOOK_TIMEOUT_MS: '1000',
    CONCLAVE_CALLBACK_TIMEOUT_MS: '1000',
    ...options.env,
  };
  // unshare and sh exec in turn: the child's PID is the server's, and signals reach it.
  const script = 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && exec "$3" --import tsx src/main.ts serve';
  const child: ChildProcess = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', options.hostsFile, options.resolvFile, process.execPath], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  const take = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of [...waiters]) wake();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const logLine = (parts: readonly string[], timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = lines.find((l) => parts.every((p) => l.includes(p)));
        if (line === undefined) return;
        finish();
        resolve(line);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no log line with ${JSON.stringify(parts)} within ${timeoutMs} ms; the log:\n${lines.slice(-40).join('\n')}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let api: string;
  try {
    const banner = await logLine(['Conclave is listening on'], 60_000);
    api = `${/http:\/\/\S+\/2010-04-01/.exec(banner)![0]}/Accounts/${accountSid}`;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

  return {
    api,
    accountSid,
    lines,
    logLine,
    async request(method, path, form) {
      let body: string | undefined;
      if (form !== undefined) {
        const params = new URLSearchParams();
        for (const [key, value] of Object.entries(form)) for (const one of [value].flat()) params.append(key, one);
        body = params.toString();
      }
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
        body,
      });
      const text = await response.text();
      return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    },
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
