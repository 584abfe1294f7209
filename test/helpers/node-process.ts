/**
 * A Conclave node as an operator runs it — `node --import tsx src/main.ts serve` in a child
 * process, configured by CONCLAVE_* variables only — for tests that need several nodes, a node
 * that is killed, or a node that comes back on the same ports.
 *
 * The server's output (the start-up banner, then JSON log lines) is kept, and the test can wait
 * on a line as an operator would read it. Several nodes share one PostgreSQL schema by being
 * given the same `CONCLAVE_DATABASE` (see `nodeDatabaseUrl`) and the same owner credentials.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { TEST_POSTGRES_URL } from './stores.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeResponse {
  status: number;
  /** The body parsed as JSON; `{}` when it is empty or not JSON. */
  json: Record<string, unknown>;
  body: string;
}

export interface NodeProcess {
  /** `http://127.0.0.1:<port>/2010-04-01/Accounts/<AC>`. */
  readonly api: string;
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The SIP port (UDP and TCP), from the start-up banner. */
  readonly sipPort: number;
  readonly accountSid: string;
  readonly authToken: string;
  /** The process id, for signals that do not end it (SIGSTOP, SIGCONT). */
  readonly pid: number;
  /** Every line the server wrote so far, stdout and stderr. */
  readonly lines: string[];
  /** A request to `api + path` with the owner's Basic auth: a form POST (repeated keys as arrays), a GET or a DELETE. */
  request(method: 'GET' | 'POST' | 'DELETE', path: string, form?: Record<string, string | string[]>): Promise<NodeResponse>;
  /** Resolves with the first line (past or future) that has every one of `parts`. */
  logLine(parts: readonly string[], timeoutMs?: number): Promise<string>;
  /** Sends `signal` (SIGKILL by default) and resolves with the exit code once the process has exited (null: killed by a signal). */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGTERM (SIGKILL after 15 s), resolves once exited; idempotent. */
  close(): Promise<void>;
}

export interface NodeProcessOptions {
  /** CONCLAVE_* settings over the defaults below (HTTP and SIP on free ports, info log). */
  env: Record<string, string>;
  /** The owner account; fresh ones when absent. Nodes that share a database share these. */
  accountSid?: string;
  authToken?: string;
}

const STARTUP_TIMEOUT_MS = 60_000;

export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const accountSid = options.accountSid ?? newSid('AC');
  const authToken = options.authToken ?? newAuthToken();
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    CONCLAVE_HTTP_PORT: '0',
    CONCLAVE_SIP_PORT: '0',
    CONCLAVE_ACCOUNT_SID: accountSid,
    CONCLAVE_AUTH_TOKEN: authToken,
    CONCLAVE_MEDIA_REALTIME: 'off',
    CONCLAVE_LOG_LEVEL: 'info',
    CONCLAVE_WEBHOOK_TIMEOUT_MS: '5000',
    CONCLAVE_CALLBACK_TIMEOUT_MS: '1000',
    ...options.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const wake of [...waiters]) wake();
  });
  const reader = (): ((chunk: Buffer) => void) => {
    let buffered = '';
    return (chunk) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      for (const wake of [...waiters]) wake();
    };
  };
  child.stdout.on('data', reader());
  child.stderr.on('data', reader());

  const logLine = (parts: readonly string[], timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = lines.find((l) => parts.every((p) => l.includes(p)));
        if (line !== undefined) {
          finish();
          resolve(line);
        } else if (hasExited) {
          finish();
          reject(new Error(`the node exited without a log line with ${JSON.stringify(parts)}; the log:\n${lines.slice(-40).join('\n')}`));
        }
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

  let baseUrl: string;
  let sipPort: number;
  try {
    const banner = await logLine(['Conclave is listening on'], STARTUP_TIMEOUT_MS);
    baseUrl = /http:\/\/[^/\s]+/.exec(banner)![0];
    // "SIP: sip:<number>@127.0.0.1:5060 (UDP and TCP); …", printed right after the banner.
    const sip = await logLine(['SIP: sip:<number>@'], 5_000);
    sipPort = Number(/@[^:\s]+:(\d+)/.exec(sip)![1]);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  const api = `${baseUrl}/2010-04-01/Accounts/${accountSid}`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> => {
    if (!hasExited) child.kill(signal);
    return exited;
  };

  return {
    api,
    baseUrl,
    sipPort,
    accountSid,
    authToken,
    pid: child.pid!,
    lines,
    logLine,
    kill,
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
      let json: Record<string, unknown> = {};
      try {
        if (text !== '') json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // Not JSON (XML or CSV asked for): the caller reads `body`.
      }
      return { status: response.status, json, body: text };
    },
    async close() {
      if (hasExited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** A new schema name for nodes to share; Conclave creates the schema on first start. */
export function newSchemaName(): string {
  return `t_${randomBytes(8).toString('hex')}`;
}

/**
 * `CONCLAVE_DATABASE` for a node on `schema` of the test database; its connections show in
 * `pg_stat_activity` as `conclave-<schema>`, so a test can tell its own from others' — or as
 * `conclave-<schema>-<name>` when the node is named, so a test can pick one node's connections
 * (to terminate them) among those of the other nodes on the schema.
 */
export function nodeDatabaseUrl(schema: string, name?: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', name === undefined ? `conclave-${schema}` : `conclave-${schema}-${name}`);
  return url.toString();
}

/** Drops what the nodes stored (after they have stopped). */
export async function dropSchema(schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/**
 * A port free on both UDP and TCP of 127.0.0.1, for a node that must come back on the same SIP
 * port (a proxy's node list names it). Picked between 21000 and 32000: above Conclave's default
 * RTP range (10000-20000) and below Linux's ephemeral range (32768-60999), where every socket
 * bound to port 0 — a test's phones, a kill's restart window — would otherwise be able to take
 * it while its node is down.
 */
export async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 21000 + Math.floor(Math.random() * 11000);
    const udp = dgram.createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    const tcp = net.createServer();
    const tcpFree =
      udpFree &&
      (await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen(port, '127.0.0.1', () => resolve(true));
      }));
    if (tcpFree) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (udpFree) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error('no port between 21000 and 32000 free on both UDP and TCP after 50 tries');
}
