/**
 * For the PostgreSQL fault tests: `conclave serve` as a real child process on a schema of its
 * own, whose connections the test can find (and terminate) by their application_name, reaching
 * PostgreSQL through a TCP proxy the test can cut and restore. Only this test's connections are
 * ever touched: other suites share the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TEST_POSTGRES_URL } from '../helpers/stores.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A TCP proxy to the test PostgreSQL that can be cut (every socket reset, new ones refused) and restored. */
export class PostgresProxy {
  private readonly sockets = new Set<net.Socket>();
  private down = false;

  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<PostgresProxy> {
    const target = new URL(TEST_POSTGRES_URL);
    const server = net.createServer();
    const proxy = new PostgresProxy(server);
    server.on('connection', (client) => {
      if (proxy.down) {
        client.resetAndDestroy();
        return;
      }
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          proxy.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The database is gone for whoever goes through the proxy: every connection reset, new ones refused. */
  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface ServerUnderTest {
  child: ChildProcess;
  baseUrl: string;
  accountSid: string;
  authorization: string;
  /** Every line the server wrote, stdout (the banner, then JSON log lines) and stderr (a crash's stack). */
  lines: string[];
  /** The JSON log lines, parsed. */
  logs(): Array<{ level: number; msg: string; [key: string]: unknown }>;
  exited(): boolean;
  stop(): Promise<void>;
}

/** A fresh schema and an application_name of this test's own. */
export function isolation(): { schema: string; applicationName: string } {
  const id = randomBytes(6).toString('hex');
  return { schema: `t_${id}`, applicationName: `conclave_fault_${id}` };
}

/** The URL of the test database, optionally through the proxy, on `schema` and named `applicationName`. */
export function databaseUrl(schema: string, applicationName: string, proxyPort?: number): string {
  const url = new URL(TEST_POSTGRES_URL);
  if (proxyPort !== undefined) {
    url.hostname = '127.0.0.1';
    url.port = String(proxyPort);
  }
  url.searchParams.set('application_name', applicationName);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export async function adminQuery<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Starts `conclave serve` (from `root`, default this repository) and resolves once it listens. */
export async function startServer(env: Record<string, string>, root = ROOT): Promise<ServerUnderTest> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      CONCLAVE_HTTP_PORT: '0',
      CONCLAVE_SIP_PORT: '0',
      CONCLAVE_LOG_LEVEL: 'info',
      CONCLAVE_MEDIA_REALTIME: 'off',
      CONCLAVE_ACCOUNT_SID: accountSid,
      CONCLAVE_AUTH_TOKEN: token,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (data: Buffer) => {
    pending += data.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (data: Buffer) => {
    stderr += data.toString();
    lines.push(...data.toString().split('\n').filter((line) => line !== ''));
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const line = lines.find((l) => l.startsWith('Conclave is listening on '));
      if (line) {
        clearInterval(timer);
        resolve(line.slice('Conclave is listening on '.length).replace(/\/2010-04-01$/, ''));
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`conclave serve exited ${code}: ${stderr}`));
    });
  });
  return {
    child,
    baseUrl,
    accountSid,
    authorization: `Basic ${Buffer.from(`${accountSid}:${token}`).toString('base64')}`,
    lines,
    logs: () =>
      lines.flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as { level: number; msg: string }];
        } catch {
          return [];
        }
      }),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** One API request; its status, body and how long it took. */
export async function request(
  server: ServerUnderTest,
  path: string,
  form?: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${server.baseUrl}/2010-04-01/Accounts/${server.accountSid}${path}`, {
    method: form ? 'POST' : 'GET',
    headers: { authorization: server.authorization, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, body, ms: performance.now() - started };
}
