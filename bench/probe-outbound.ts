/**
 * The outbound probe of issue 10 (points 3 and 4), against a real Conclave (`src/main.ts serve`
 * in a child process, its defaults but for short webhook timeouts), as an account holder would
 * attack it:
 *
 * 1. media: a 63 MB WAV in `<Play>`, twice over (two calls to `sim:…;record` endpoints). Two
 *    files, both valid: 4.4 hours of 4 kHz 8-bit mono (more audio than the media cache holds:
 *    the probe's "too big to cache") and 5.7 minutes of 48 kHz 16-bit stereo (the longest file
 *    of that size under the 10-minute cap). For each play: the wall time until the file is
 *    heard on the call or the call has moved on to the next verb (the file refused), the
 *    longest stall of the server's event loop as an API client sees it (the slowest answer to a
 *    GET polled every 20 ms meanwhile), and the server's peak RSS (VmHWM, reset before the play)
 *    over its RSS before.
 * 2. urls: a listener on a link-local address (169.254.N.2, where metadata services answer) in a
 *    network namespace; every kind of URL an account gives — Url, FallbackUrl, StatusCallback,
 *    `<Play>`, `<Redirect>`, `sim:…;play=`, VoiceUrl, WaitUrl, ConferenceStatusCallback — aimed
 *    at it as an address, through a name (the server's /etc/hosts, in its own mount
 *    namespace) and through a redirect from an allowed server. Reported: which reached it.
 * 3. fallback: a FallbackUrl behind a primary that is a closed port, an open port that speaks
 *    no HTTP, a silent port, and the link-local listener's open and closed ports: the ErrorCode
 *    the fallback receives, and how long after the call was placed.
 *
 *   npx tsx bench/probe-outbound.ts [--root DIR] [--only media,urls,fallback]
 *
 * Runs as root (network namespace, mount namespace, /proc/PID/clear_refs). `--root` runs
 * another checkout's server (a worktree of an older commit: "before"); the probing side always
 * comes from this one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { createNetns, type Netns } from '../test/interop/helpers/netns.js';
import { runOk } from '../test/interop/helpers/tools.js';
import { closedPort, startReceiver, type Receiver } from '../test/helpers/webhook-receiver.js';
import { bigWav } from '../test/audio/wav-helpers.js';

const MB = 1024 * 1024;
const FROM = '+15005550006';
const HANGUP = '<Response><Hangup/></Response>';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
}

const root = path.resolve(option('root', fileURLToPath(new URL('..', import.meta.url))));
const only = new Set(option('only', 'media,urls,fallback').split(','));

interface Server {
  child: ChildProcess;
  api: string;
  lines: string[];
  request(method: 'GET' | 'POST', p: string, form?: Record<string, string | string[]>): Promise<{ status: number; body: string; bytes: Buffer; ms: number }>;
  stop(): Promise<void>;
}

/** Conclave from `root`, in a mount namespace whose /etc/hosts is `hostsFile`. */
async function startServer(hostsFile: string, dir: string): Promise<Server> {
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const script = 'mount --bind "$1" /etc/hosts && exec "$2" --import tsx src/main.ts serve';
  const child = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', hostsFile, process.execPath], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      CONCLAVE_DATABASE: path.join(dir, 'conclave.db'),
      CONCLAVE_HTTP_PORT: '0',
      CONCLAVE_SIP_PORT: '0',
      CONCLAVE_ACCOUNT_SID: accountSid,
      CONCLAVE_AUTH_TOKEN: authToken,
      CONCLAVE_MEDIA_REALTIME: 'off',
      CONCLAVE_WEBHOOK_TIMEOUT_MS: '2000',
      CONCLAVE_CALLBACK_TIMEOUT_MS: '2000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let text = '';
  const take = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    const cut = text.lastIndexOf('\n');
    if (cut >= 0) {
      lines.push(...text.slice(0, cut).split('\n'));
      text = text.slice(cut + 1);
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  let base: string | undefined;
  for (const started = Date.now(); base === undefined; await sleep(50)) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${lines.join('\n')}`);
    if (Date.now() - started > 60_000) throw new Error('the server did not start within 60 s');
    base = lines.map((l) => /Conclave is listening on (http:\/\/\S+\/2010-04-01)/.exec(l)?.[1]).find((u) => u !== undefined);
  }
  const api = `${base}/Accounts/${accountSid}`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  return {
    child,
    api,
    lines,
    async request(method, p, form) {
      let body: string | undefined;
      if (form) {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) params.append(k, one);
        body = params.toString();
      }
      const started = performance.now();
      const res = await fetch(`${api}${p}`, { method, headers: { authorization, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, body });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { status: res.status, body: bytes.toString('utf8'), bytes, ms: performance.now() - started };
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await new Promise((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
    },
  };
}

function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

async function created(server: Server, p: string, form: Record<string, string | string[]>): Promise<Record<string, unknown>> {
  const res = await server.request('POST', p, form);
  if (res.status !== 201) throw new Error(`POST ${p}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** Whether SimulatedAudio.wav (16-bit samples after a 44-byte header) holds more than silence. */
function heard(wav: Buffer): boolean {
  for (let at = 44; at + 1 < wav.length; at += 2) if (Math.abs(wav.readInt16LE(at)) > 2000) return true;
  return false;
}

/**
 * One small WAV played to the end first, so that what is measured is the big file, not the
 * first use of the HTTP client, the decoder and the media plane (module loading, compilation).
 */
async function warmUp(server: Server, app: Receiver, files: Map<string, Buffer>): Promise<void> {
  files.set('/media/warm-up.wav', bigWav(2 * 8000 + 44, 8000, 1, 16));
  const marker = `/after-warm-up-${Date.now()}`;
  await created(server, '/Calls.json', { To: 'sim:warm', From: FROM, Twiml: `<Response><Play>${app.baseUrl}/media/warm-up.wav</Play><Redirect>${app.baseUrl}${marker}</Redirect></Response>` });
  for (const started = Date.now(); !app.requests.some((r) => r.path === marker) && Date.now() - started < 30_000; ) await sleep(50);
  files.delete('/media/warm-up.wav');
}

async function probeMedia(start: () => Promise<Server>, app: Receiver, files: Map<string, Buffer>): Promise<void> {
  const cases: [string, string, Buffer][] = [
    ['4 kHz 8-bit mono, 4.4 h', '/media/long-4k-u8.wav', bigWav(63 * MB, 4000, 1, 8)],
    ['48 kHz 16-bit stereo, 5.7 min', '/media/hifi-48k-s16.wav', bigWav(63 * MB, 48000, 2, 16)],
  ];
  console.log('\n## media: a 63 MB WAV in <Play>, played twice (a fresh server for each file)');
  console.log('| file | play | wall time | longest API stall | peak RSS − RSS before | outcome |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, p, bytes] of cases) {
    files.set(p, bytes);
    const server = await start();
    const pid = server.child.pid!;
    await warmUp(server, app, files);
    for (const play of [1, 2]) {
      await sleep(500);
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const rssBefore = procKb(pid, 'VmRSS');
      const marker = `/after${p.replace(/\W/g, '')}-${play}`;
      const started = performance.now();
      const call = await created(server, '/Calls.json', {
        To: 'sim:listener;record',
        From: FROM,
        Twiml: `<Response><Play>${app.baseUrl}${p}</Play><Redirect>${app.baseUrl}${marker}</Redirect></Response>`,
      });
      let stall = 0;
      let outcome = '';
      for (;;) {
        const poll = await server.request('GET', `/Calls/${String(call.sid)}/SimulatedAudio.wav`);
        stall = Math.max(stall, poll.ms);
        if (app.requests.some((r) => r.path === marker)) {
          outcome = 'refused: the call went on to the next verb';
          break;
        }
        if (poll.status === 200 && heard(poll.bytes)) {
          outcome = 'decoded: heard on the call';
          break;
        }
        if (performance.now() - started > 180_000) {
          outcome = 'neither within 180 s';
          break;
        }
        await sleep(20);
      }
      const wall = performance.now() - started;
      const peak = procKb(pid, 'VmHWM');
      await server.request('POST', `/Calls/${String(call.sid)}.json`, { Status: 'completed' });
      console.log(`| ${name} | ${play} | ${(wall / 1000).toFixed(2)} s | ${stall.toFixed(0)} ms | ${((peak - rssBefore) / 1024).toFixed(0)} MB (${(rssBefore / 1024).toFixed(0)} → ${(peak / 1024).toFixed(0)}) | ${outcome} |`);
    }
    await server.stop();
    files.delete(p);
  }
}

async function probeUrls(server: Server, app: Receiver, linkLocal: string, port: number, reached: string[]): Promise<void> {
  const kinds: Record<string, (url: string, tag: string) => Promise<void>> = {
    Url: async (url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Url: url })),
    FallbackUrl: async (url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Url: `http://127.0.0.1:${await closedPort()}/x`, FallbackUrl: url })),
    StatusCallback: async (url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Twiml: HANGUP, StatusCallback: url, StatusCallbackEvent: 'completed' })),
    '<Play>': async (url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Twiml: `<Response><Play>${url}</Play></Response>` })),
    '<Redirect>': async (url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Twiml: `<Response><Redirect>${url}</Redirect></Response>` })),
    'sim:…;play=': async (url) => void (await created(server, '/Calls.json', { To: `sim:p;play=${encodeURIComponent(url)}`, From: FROM, Twiml: '<Response><Pause length="1"/></Response>' })),
    VoiceUrl: async (url, tag) => {
      const number = `+1500555${String(1000 + (hash(tag) % 9000))}`;
      await created(server, '/IncomingPhoneNumbers.json', { PhoneNumber: number, VoiceUrl: url });
      await created(server, '/SimulatedCalls.json', { From: 'sim:caller', To: number });
    },
    WaitUrl: async (url, tag) => void (await created(server, '/Calls.json', { To: 'sim:w', From: FROM, Twiml: `<Response><Dial><Conference waitUrl="${url}">w${hash(tag)}</Conference></Dial></Response>` })),
    ConferenceStatusCallback: async (url, tag) =>
      void (await created(server, '/Calls.json', { To: 'sim:c', From: FROM, Twiml: `<Response><Dial><Conference statusCallback="${url}" statusCallbackEvent="join">c${hash(tag)}</Conference></Dial></Response>` })),
  };
  const ways: Record<string, (tag: string) => string> = {
    address: (tag) => `http://${linkLocal}:${port}${tag}`,
    name: (tag) => `http://linklocal.test:${port}${tag}`,
    redirect: (tag) => `${app.baseUrl}/redirect${tag}`,
  };
  console.log(`\n## urls: which kinds reached a listener on ${linkLocal} (link-local, in a network namespace)`);
  console.log(`| kind | ${Object.keys(ways).join(' | ')} |`);
  console.log(`|---|${Object.keys(ways).map(() => '---').join('|')}|`);
  for (const [kind, trigger] of Object.entries(kinds)) {
    const cells: string[] = [];
    for (const [way, urlFor] of Object.entries(ways)) {
      const tag = `/${way}/${kind.replace(/\W/g, '')}`;
      try {
        await trigger(urlFor(tag), tag);
      } catch (error) {
        cells.push(`not placed (${(error as Error).message.slice(0, 60)})`);
        continue;
      }
      // Give it the time a webhook takes to fail (2 s) and a callback queue a turn.
      const deadline = Date.now() + 3500;
      while (Date.now() < deadline && !reached.some((r) => r.includes(tag))) await sleep(50);
      cells.push(reached.some((r) => r.includes(tag)) ? '**reached**' : 'no');
    }
    console.log(`| ${kind} | ${cells.join(' | ')} |`);
  }
}

function hash(text: string): number {
  let h = 7;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) % 100_000;
  return h;
}

async function probeFallback(server: Server, app: Receiver, linkLocal: string, port: number): Promise<void> {
  const peers: Socket[] = [];
  const notHttp = createTcpServer((s) => {
    peers.push(s);
    s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
  });
  const silent = createTcpServer((s) => peers.push(s));
  const listen = (s: ReturnType<typeof createTcpServer>): Promise<number> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  const primaries: Record<string, string> = {
    'closed port (127.0.0.1)': `http://127.0.0.1:${await closedPort()}/voice`,
    'open, not HTTP (127.0.0.1)': `http://127.0.0.1:${await listen(notHttp)}/voice`,
    'open, silent (127.0.0.1)': `http://127.0.0.1:${await listen(silent)}/voice`,
    'link-local, open (HTTP)': `http://${linkLocal}:${port}/voice`,
    'link-local, closed port': `http://${linkLocal}:${port + 1}/voice`,
    'unknown host name': 'http://no-such-host.invalid/voice',
  };
  console.log('\n## fallback: what the FallbackUrl receives');
  console.log('| primary URL | ErrorCode | fallback requested after |');
  console.log('|---|---|---|');
  for (const [name, primary] of Object.entries(primaries)) {
    const fallbackPath = `/fallback/${hash(name)}`;
    const started = performance.now();
    await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Url: primary, FallbackUrl: `${app.baseUrl}${fallbackPath}` });
    let request = app.requests.find((r) => r.path === fallbackPath);
    while (request === undefined && performance.now() - started < 10_000) {
      await sleep(10);
      request = app.requests.find((r) => r.path === fallbackPath);
    }
    console.log(`| ${name} | ${request ? String(request.params.ErrorCode) : 'no fallback request'} | ${request ? `${(performance.now() - started).toFixed(0)} ms` : ''} |`);
  }
  for (const s of peers) s.destroy();
  for (const s of [notHttp, silent]) s.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conclave-probe-outbound-'));
  let netns: Netns | undefined;
  let listener: ChildProcess | undefined;
  let server: Server | undefined;
  let app: Receiver | undefined;
  try {
    netns = await createNetns();
    const linkLocal = `169.254.${netns.nsAddress.split('.')[2]}.2`;
    await runOk('ip', ['-n', netns.name, 'addr', 'add', `${linkLocal}/32`, 'dev', netns.nsInterface]);
    await runOk('ip', ['route', 'add', `${linkLocal}/32`, 'via', netns.nsAddress, 'dev', netns.hostInterface]);
    const files = new Map<string, Buffer>();
    let port = 0;
    app = await startReceiver((request, res: ServerResponse) => {
      const body = files.get(request.path);
      if (body) {
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length });
        res.end(body);
      } else if (request.path.startsWith('/redirect/')) {
        res.writeHead(302, { location: `http://${linkLocal}:${port}${request.path}` });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(HANGUP);
      }
    });
    port = Number(new URL(app.baseUrl).port);
    const reached: string[] = [];
    const script = `
      const http = require('node:http');
      http.createServer((req, res) => { console.log(req.method + ' ' + req.url); res.writeHead(200, { 'content-type': 'text/xml' }); res.end(${JSON.stringify(HANGUP)}); })
        .listen(${port}, ${JSON.stringify(linkLocal)}, () => console.log('listening'));`;
    listener = netns.spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) =>
      listener!.stdout!.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          if (line === 'listening') resolve();
          else reached.push(line);
        }
      }),
    );
    const hostsFile = path.join(dir, 'hosts');
    writeFileSync(hostsFile, `${readFileSync('/etc/hosts', 'utf8')}\n${linkLocal} linklocal.test\n`);
    let servers = 0;
    const start = (): Promise<Server> => startServer(hostsFile, mkdtempSync(path.join(dir, `server${servers++}-`)));
    console.log(`# probe-outbound: server from ${root}, Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    if (only.has('media')) await probeMedia(start, app, files);
    if (only.has('urls') || only.has('fallback')) server = await start();
    if (only.has('urls')) await probeUrls(server!, app, linkLocal, port, reached);
    if (only.has('fallback')) await probeFallback(server!, app, linkLocal, port);
  } finally {
    await server?.stop();
    listener?.kill();
    await app?.close();
    await netns?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
