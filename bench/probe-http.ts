/**
 * The HTTP-edge probe of issue #10, run against a real `conclave serve` child process (of this
 * tree, or of another with `--root`, to measure an older commit the same way) on a SQLite file of
 * its own, with SIP on a free port. Phases (each on a fresh server):
 *
 * 1. form: an unauthenticated `POST /nope` of `a=&` × 60,000 (180 KB) — how long until it is
 *    answered, and how long a GET sent just after it waits; plus, in this process, the time
 *    `parseForm` of that tree takes to parse all 60,000 keys (no cap).
 * 2. bodies: N connections (default 1,000) each send the headers of a ~1 MB form body to
 *    `POST /nope` and 1,000,000 bytes of it, then stall — from one address, and again from N
 *    addresses (127.0.x.y). The server's RSS and open sockets before, once all are sent, and
 *    after the request timeout (35 s).
 * 3. idle: 10,000 connections that send nothing; a GET meanwhile; what is open 35 s later.
 * 4. timing: wrong tokens for a known AccountSid and for unknown ones, alternated, over HTTP
 *    (login throttle off for the run) and through the tree's `authenticate()` in this process;
 *    medians of many samples and their difference.
 *
 * Usage: npx tsx bench/probe-http.ts [--root DIR] [--only form|bodies|idle|timing] [--bodies N] [--idle N] [--samples N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as AuthenticateModule from '../src/services/authenticate.js';
import type * as OpenStoreModule from '../src/store/open-store.js';
import type * as OwnerAccountModule from '../src/services/owner-account.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    root: { type: 'string', default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..') },
    only: { type: 'string' },
    bodies: { type: 'string', default: '1000' },
    samples: { type: 'string', default: '3000' },
    idle: { type: 'string', default: '10000' },
  },
});
const root = path.resolve(args.root!);
const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = randomBytes(16).toString('hex');
const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

interface Server {
  child: ChildProcess;
  port: number;
  dir: string;
}

async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-probe-http-'));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'src/main.ts'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      CONCLAVE_HTTP_PORT: '0',
      CONCLAVE_SIP_PORT: '0',
      CONCLAVE_DATABASE: path.join(dir, 'conclave.db'),
      CONCLAVE_ACCOUNT_SID: accountSid,
      CONCLAVE_AUTH_TOKEN: authToken,
      CONCLAVE_LOG_LEVEL: 'error',
      CONCLAVE_MEDIA_REALTIME: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`conclave serve exited (${code}) before listening: ${out}`)));
  });
  return { child, port, dir };
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
  fs.rmSync(server.dir, { recursive: true, force: true });
}

/** Resident memory (MB) and open TCP sockets of the server process, from /proc. */
function usage(server: Server): { rssMb: number; sockets: number } {
  const status = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  let sockets = 0;
  for (const fd of fs.readdirSync(`/proc/${server.child.pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${server.child.pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  return { rssMb: Math.round(rssKb / 1024), sockets };
}

/** One request on its own connection; resolves with the status line and the time to it. */
function rawRequest(port: number, payload: string, from = '127.0.0.1'): Promise<{ status: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('\r\n')) {
        resolve({ status: received.slice(0, received.indexOf('\r\n')), ms: performance.now() - started });
        socket.destroy();
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ status: `(${error.code ?? error.message})`, ms: performance.now() - started }));
    socket.write(payload);
  });
}

const get = (_port: number): string => `GET /2010-04-01/Accounts/${accountSid}.json HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nConnection: close\r\n\r\n`;

async function probeForm(): Promise<void> {
  const body = 'a=&'.repeat(60_000);
  const server = await startServer();
  try {
    const big = rawRequest(server.port, `POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    await new Promise((r) => setTimeout(r, 20));
    const other = rawRequest(server.port, get(server.port));
    const [b, o] = await Promise.all([big, other]);
    console.log(`form: POST /nope a=&×60,000 answered "${b.status}" after ${b.ms.toFixed(1)} ms; a GET sent 20 ms later answered "${o.status}" after ${o.ms.toFixed(1)} ms`);
  } finally {
    await stopServer(server);
  }
  const { parseForm } = (await import(pathToFileURL(path.join(root, 'src/http/form-body.ts')).href)) as { parseForm: (body: string, limit?: number) => Record<string, unknown> };
  const started = performance.now();
  const parsed = parseForm(body, Infinity);
  console.log(`form: parseForm of all 60,000 keys in this process: ${(performance.now() - started).toFixed(1)} ms (${(parsed.a as unknown[]).length} values)`);
}

/** Opens `count` connections that each send the headers and 1,000,000 bytes of a 1,048,000-byte body, then stall. */
async function stallBodies(port: number, count: number, spread: boolean): Promise<net.Socket[]> {
  const chunk = 'a'.repeat(1_000_000);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, (_, j) => {
      const n = i + j;
      const from = spread ? `127.0.${2 + Math.floor(n / 250)}.${1 + (n % 250)}` : '127.0.0.1';
      return new Promise<net.Socket>((resolve) => {
        const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
        socket.on('error', () => undefined);
        socket.on('data', () => undefined);
        socket.once('connect', () => {
          socket.write(`POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048000\r\n\r\n`);
          socket.write(chunk, () => resolve(socket));
        });
        socket.once('close', () => resolve(socket));
      });
    });
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

async function probeBodies(count: number): Promise<void> {
  for (const spread of [false, true]) {
    const server = await startServer();
    try {
      const idle = usage(server);
      const sockets = await stallBodies(server.port, count, spread);
      await new Promise((r) => setTimeout(r, 2000));
      const held = usage(server);
      const open = sockets.filter((s) => !s.destroyed).length;
      const started = performance.now();
      const answered = await rawRequest(server.port, get(server.port), '127.0.9.9');
      const getMs = performance.now() - started;
      await new Promise((r) => setTimeout(r, 35_000));
      const after = usage(server);
      const stillOpen = sockets.filter((s) => !s.destroyed).length;
      console.log(
        `bodies (${count} from ${spread ? `${count} addresses` : 'one address'}): idle ${idle.rssMb} MB, ${idle.sockets} sockets; ` +
          `all sent +2 s: ${held.rssMb} MB, ${held.sockets} server sockets, ${open} client connections open; a GET meanwhile "${answered.status}" in ${getMs.toFixed(1)} ms; ` +
          `+35 s: ${after.rssMb} MB, ${after.sockets} server sockets, ${stillOpen} client connections open`,
      );
      for (const socket of sockets) socket.destroy();
    } finally {
      await stopServer(server);
    }
  }
}

/** N connections that send nothing (from 40 loopback addresses, for enough ports), a GET meanwhile, and what is left after the timeout. */
async function probeIdle(count: number): Promise<void> {
  const server = await startServer();
  try {
    const before = usage(server);
    const sockets: net.Socket[] = [];
    for (let i = 0; i < count; i += 500) {
      const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect({ port: server.port, host: '127.0.0.1', localAddress: `127.0.1.${1 + ((i + j) % 40)}` });
          socket.on('error', () => resolve(socket));
          socket.on('data', () => undefined);
          socket.once('connect', () => resolve(socket));
        }),
      );
      sockets.push(...(await Promise.all(batch)));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const held = usage(server);
    const answered = await rawRequest(server.port, get(server.port), '127.0.9.9');
    await new Promise((r) => setTimeout(r, 35_000));
    const after = usage(server);
    console.log(
      `idle (${count} connections that send nothing): ${before.rssMb} MB before; held ${held.rssMb} MB, ${held.sockets} server sockets; ` +
        `a GET meanwhile "${answered.status}" in ${answered.ms.toFixed(1)} ms; +35 s ${after.rssMb} MB, ${after.sockets} server sockets, ${sockets.filter((s) => !s.destroyed).length} client connections open`,
    );
    for (const socket of sockets) socket.destroy();
  } finally {
    await stopServer(server);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function probeTiming(samples: number): Promise<void> {
  const server = await startServer({ CONCLAVE_LOGIN_FAILURES_PER_SOURCE: '0', CONCLAVE_LOGIN_FAILURES_PER_ACCOUNT: '0' });
  try {
    const known: number[] = [];
    const unknown: number[] = [];
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    const http = await import('node:http');
    const once = (sid: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const req = http.get(
          { host: '127.0.0.1', port: server.port, path: `/2010-04-01/Accounts/${accountSid}.json`, agent, headers: { authorization: `Basic ${Buffer.from(`${sid}:${'0'.repeat(32)}`).toString('base64')}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1000));
          },
        );
        req.on('error', reject);
      });
    for (let i = 0; i < 200; i++) await once(accountSid); // warm up
    for (let i = 0; i < samples; i++) {
      known.push(await once(accountSid));
      unknown.push(await once(`AC${randomBytes(16).toString('hex')}`));
    }
    agent.destroy();
    console.log(`timing over HTTP (${samples} each): known ${median(known).toFixed(1)} µs, unknown ${median(unknown).toFixed(1)} µs, difference ${(median(known) - median(unknown)).toFixed(1)} µs`);
  } finally {
    await stopServer(server);
  }

  // The same comparison through the tree's authenticate(), on a SQLite store of its own.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-probe-auth-'));
  const { openStore } = (await import(pathToFileURL(path.join(root, 'src/store/open-store.ts')).href)) as typeof OpenStoreModule;
  const { authenticate } = (await import(pathToFileURL(path.join(root, 'src/services/authenticate.ts')).href)) as typeof AuthenticateModule;
  const { ensureOwnerAccount } = (await import(pathToFileURL(path.join(root, 'src/services/owner-account.ts')).href)) as typeof OwnerAccountModule;
  const store = await openStore(path.join(dir, 'auth.db'));
  try {
    await ensureOwnerAccount({ store, clock: { now: () => Date.now() } } as never, { accountSid, authToken });
    const unknownSids = Array.from({ length: 64 }, () => `AC${randomBytes(16).toString('hex')}`);
    const time = async (sid: string): Promise<number> => {
      const started = process.hrtime.bigint();
      await authenticate(store, sid, '0'.repeat(32));
      return Number(process.hrtime.bigint() - started) / 1000;
    };
    for (let i = 0; i < 2000; i++) await time(i % 2 ? accountSid : unknownSids[i % 64]!);
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < samples * 10; i++) {
      known.push(await time(accountSid));
      unknown.push(await time(unknownSids[i % 64]!));
    }
    console.log(`timing of authenticate() (${samples * 10} each): known ${median(known).toFixed(2)} µs, unknown ${median(unknown).toFixed(2)} µs, difference ${(median(known) - median(unknown)).toFixed(2)} µs`);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`probe-http of ${root} (node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
if (!args.only || args.only === 'form') await probeForm();
if (!args.only || args.only === 'bodies') await probeBodies(Number(args.bodies));
if (!args.only || args.only === 'idle') await probeIdle(Number(args.idle));
if (!args.only || args.only === 'timing') await probeTiming(Number(args.samples));
