/**
 * Issue 10, "webhooks can be aimed anywhere", as an attacker with an account would try it, against
 * Conclave run as an operator runs it (`conclave serve`, CONCLAVE_* variables; conclave-process.ts):
 *
 * - A listener on a link-local address (169.254.N.2, where cloud metadata services live) inside a
 *   private network namespace, routed from the host. No kind of URL an account gives — `Url`,
 *   `StatusCallback`, `<Play>`, `<Redirect>`, `sim:…;play=`, `VoiceUrl`, `WaitUrl` — reaches it:
 *   not as an address, not through a name that resolves to it (the server's /etc/hosts), not
 *   through a redirect from an allowed server, not through a name that resolves first to an
 *   allowed address and then to it (DNS rebinding, from the test's own DNS server).
 * - CONCLAVE_WEBHOOK_DENY=127.0.0.0/8 keeps Conclave off a loopback receiver;
 *   CONCLAVE_WEBHOOK_ALLOW lets a link-local receiver through.
 * - The FallbackUrl gets the same ErrorCode and ErrorUrl, and the call ends the same, whether the
 *   primary URL was a closed port, an open port that speaks no HTTP, a silent one or a refused
 *   address.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { startConclaveProcess, type ConclaveProcess } from './conclave-process.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { requireTools, runOk } from './helpers/tools.js';
import { startRebindingDns, type RebindingDns } from './rebinding-dns.js';

const HANGUP = '<Response><Hangup/></Response>';
/** Where the test's DNS server listens (a loopback address of its own, port 53). */
const DNS_HOST = '127.77.0.53';

let netns: Netns;
/** The link-local address inside the namespace, e.g. 169.254.77.2. */
let linkLocal: string;
/** Connections and requests the link-local listener saw. */
const reached: string[] = [];
let linkLocalListener: ChildProcess | undefined;
/** The application's server on 127.0.0.1:PORT (allowed by default); the link-local listener has the same port. */
let app: Receiver;
let port: number;
let dns: RebindingDns;
let dir: string;
const servers: ConclaveProcess[] = [];
let defaults: ConclaveProcess;
let denyLoopback: ConclaveProcess;
let allowLinkLocal: ConclaveProcess;

function answer(res: ServerResponse, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/xml', ...headers });
  res.end(body);
}

/** A listener in the namespace on `address`:`port` that prints each connection and request, and answers `<Hangup/>`. */
async function startLinkLocalListener(address: string, listenPort: number): Promise<ChildProcess> {
  const script = `
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      console.log('request ' + req.method + ' ' + req.url);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(${JSON.stringify(HANGUP)});
    });
    server.on('connection', () => console.log('connection'));
    server.listen(${listenPort}, ${JSON.stringify(address)}, () => console.log('listening'));`;
  const child = netns.spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the link-local listener exited (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'listening') resolve();
        else reached.push(line);
      }
    });
  });
  return child;
}

beforeAll(async () => {
  requireTools('ip');
  netns = await createNetns();
  linkLocal = `169.254.${netns.nsAddress.split('.')[2]}.2`;
  await runOk('ip', ['-n', netns.name, 'addr', 'add', `${linkLocal}/32`, 'dev', netns.nsInterface]);
  await runOk('ip', ['route', 'add', `${linkLocal}/32`, 'via', netns.nsAddress, 'dev', netns.hostInterface]);

  dns = await startRebindingDns(DNS_HOST);
  app = await startReceiver((request, res) => {
    const path = request.path;
    if (path.startsWith('/redirect/')) {
      // An allowed server that sends Conclave on to the link-local address.
      res.writeHead(302, { location: `http://${linkLocal}:${port}/via${path}` });
      res.end();
    } else if (path === '/rebind/first') {
      // From now on the name points at the link-local address; this connection closes, so the next request resolves it again.
      dns.answer('rebind.test', linkLocal);
      answer(res, `<Response><Redirect>http://rebind.test:${port}/rebind/second</Redirect></Response>`, { connection: 'close' });
    } else answer(res, HANGUP);
  });
  port = Number(new URL(app.baseUrl).port);
  linkLocalListener = await startLinkLocalListener(linkLocal, port);

  dir = mkdtempSync(join(tmpdir(), 'conclave-outbound-'));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, `${readFileSync('/etc/hosts', 'utf8')}\n${linkLocal} linklocal.test\n`);
  const resolvFile = join(dir, 'resolv.conf');
  writeFileSync(resolvFile, `nameserver ${DNS_HOST}\noptions timeout:1 attempts:2\n`);
  const start = (name: string, env: Record<string, string>): Promise<ConclaveProcess> =>
    startConclaveProcess({ env, hostsFile, resolvFile, dataDir: mkdtempSync(join(dir, `${name}-`)) }).then((server) => {
      servers.push(server);
      return server;
    });
  [defaults, denyLoopback, allowLinkLocal] = await Promise.all([
    start('defaults', {}),
    start('deny', { CONCLAVE_WEBHOOK_DENY: '127.0.0.0/8' }),
    start('allow', { CONCLAVE_WEBHOOK_ALLOW: `${linkLocal}/32` }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  linkLocalListener?.kill();
  await app?.close();
  await dns?.close();
  await netns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

type Trigger = (server: ConclaveProcess, url: string, marker: string) => Promise<void>;

async function created(server: ConclaveProcess, path: string, form: Record<string, string | string[]>): Promise<Record<string, unknown>> {
  const { status, json } = await server.request('POST', path, form);
  if (status !== 201) throw new Error(`POST ${path} answered ${status}: ${JSON.stringify(json)}`);
  return json;
}

const FROM = '+15005550006';
let nextNumber = 100;

/** Each kind of URL an account gives Conclave, and how an attacker makes Conclave request it. */
const KINDS: Record<string, Trigger> = {
  Url: async (server, url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Url: url })),
  StatusCallback: async (server, url) =>
    void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Twiml: HANGUP, StatusCallback: url, StatusCallbackEvent: ['initiated', 'completed'] })),
  '<Play>': async (server, url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Twiml: `<Response><Play>${url}</Play></Response>` })),
  '<Redirect>': async (server, url) => void (await created(server, '/Calls.json', { To: 'sim:a', From: FROM, Twiml: `<Response><Redirect>${url}</Redirect></Response>` })),
  'sim:…;play=': async (server, url) =>
    void (await created(server, '/Calls.json', { To: `sim:p;play=${encodeURIComponent(url)}`, From: FROM, Twiml: '<Response><Pause length="2"/></Response>' })),
  VoiceUrl: async (server, url) => {
    const number = `+1500555${String(nextNumber++).padStart(4, '0')}`;
    await created(server, '/IncomingPhoneNumbers.json', { PhoneNumber: number, VoiceUrl: url });
    await created(server, '/SimulatedCalls.json', { From: 'sim:caller', To: number });
  },
  WaitUrl: async (server, url, marker) =>
    void (await created(server, '/Calls.json', { To: 'sim:w', From: FROM, Twiml: `<Response><Dial><Conference waitUrl="${url}">room${marker.replace(/\W/g, '')}</Conference></Dial></Response>` })),
};

describe('requests to a URL an account gives', () => {
  it('never reach a link-local listener, whatever the kind of URL: as an address, through a name, through a redirect from an allowed server', async () => {
    const ways: Record<string, (marker: string) => string> = {
      address: (marker) => `http://${linkLocal}:${port}${marker}`,
      name: (marker) => `http://linklocal.test:${port}${marker}`,
      'redirect from an allowed server': (marker) => `${app.baseUrl}/redirect${marker}`,
    };
    for (const [way, urlFor] of Object.entries(ways)) {
      for (const [kind, trigger] of Object.entries(KINDS)) {
        const marker = `/${way.split(' ')[0]}/${kind.replace(/\W/g, '')}`;
        await trigger(defaults, urlFor(marker), marker);
        // The server's log says what it refused and why: the request was made, and stopped.
        await defaults.logLine([marker, 'refused by the outbound policy', linkLocal]);
      }
    }
    expect(reached).toEqual([]);
    // Through the redirects, the allowed server was asked for each kind.
    expect(new Set(app.requests.filter((r) => r.path.startsWith('/redirect/')).map((r) => r.path)).size).toBe(Object.keys(KINDS).length);
  }, 120_000);

  it('never reach it through a name that first resolves to an allowed address, then to the link-local one (DNS rebinding)', async () => {
    dns.answer('rebind.test', '127.0.0.1');
    await created(defaults, '/Calls.json', { To: 'sim:a', From: FROM, Url: `http://rebind.test:${port}/rebind/first` });
    // The first document came from the allowed address; the name then moved; the next connection was refused.
    await defaults.logLine(['/rebind/second', 'connection to rebind.test refused by the outbound policy', linkLocal]);
    expect(app.requests.map((r) => r.path)).toContain('/rebind/first');
    expect(app.requests.map((r) => r.path)).not.toContain('/rebind/second');
    expect(dns.queries.get('rebind.test')).toBeGreaterThanOrEqual(2);
    expect(reached).toEqual([]);
  }, 30_000);

  it('with CONCLAVE_WEBHOOK_DENY=127.0.0.0/8, never reach a loopback receiver', async () => {
    const before = app.requests.length;
    await created(denyLoopback, '/Calls.json', { To: 'sim:a', From: FROM, Url: `${app.baseUrl}/denied/url` });
    await denyLoopback.logLine(['/denied/url', 'CONCLAVE_WEBHOOK_DENY: 127.0.0.0/8']);
    await created(denyLoopback, '/Calls.json', { To: 'sim:a', From: FROM, Twiml: HANGUP, StatusCallback: `${app.baseUrl}/denied/status`, StatusCallbackEvent: 'completed' });
    await denyLoopback.logLine(['/denied/status', 'CONCLAVE_WEBHOOK_DENY: 127.0.0.0/8']);
    expect(app.requests.length).toBe(before);
  }, 30_000);

  it('with CONCLAVE_WEBHOOK_ALLOW, reach the link-local receiver it names', async () => {
    await created(allowLinkLocal, '/Calls.json', { To: 'sim:a', From: FROM, Url: `http://${linkLocal}:${port}/allowed` });
    await expect.poll(() => reached, { timeout: 10_000 }).toContain('request POST /allowed');
    reached.splice(0); // the other tests expect nothing there
  }, 30_000);
});

describe('a FallbackUrl', () => {
  it('gets the same ErrorCode and ErrorUrl, and the call ends the same, for a closed port, one that speaks no HTTP, a silent one and a refused address', async () => {
    const peers: Socket[] = [];
    const notHttp = createTcpServer((socket) => {
      peers.push(socket);
      socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    });
    const silent = createTcpServer((socket) => peers.push(socket));
    const listening = (server: TcpServer): Promise<number> =>
      new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
    try {
      const primaries: Record<string, string> = {
        closed: `http://127.0.0.1:${await closedPort()}/voice`,
        'not HTTP': `http://127.0.0.1:${await listening(notHttp)}/voice`,
        silent: `http://127.0.0.1:${await listening(silent)}/voice`,
        refused: `http://${linkLocal}:${port}/voice`,
      };
      const seen: Record<string, { ErrorCode: unknown; ErrorUrl: unknown; status: unknown }> = {};
      for (const [name, primary] of Object.entries(primaries)) {
        const fallbackPath = `/fallback/${name.replace(/\W/g, '')}`;
        const call = await created(defaults, '/Calls.json', { To: 'sim:a', From: FROM, Url: primary, FallbackUrl: `${app.baseUrl}${fallbackPath}` });
        await expect.poll(() => app.requests.find((r) => r.path === fallbackPath), { timeout: 10_000 }).toBeDefined();
        const { params } = app.requests.find((r) => r.path === fallbackPath)!;
        let final: Record<string, unknown> = {};
        await expect
          .poll(async () => (final = (await defaults.request('GET', `/Calls/${String(call.sid)}.json`)).json).status, { timeout: 10_000 })
          .toBe('completed');
        seen[name] = { ErrorCode: params.ErrorCode, ErrorUrl: params.ErrorUrl === primary ? 'the primary URL' : params.ErrorUrl, status: final.status };
      }
      for (const name of Object.keys(primaries)) expect(seen[name], name).toEqual({ ErrorCode: '11200', ErrorUrl: 'the primary URL', status: 'completed' });
      expect(reached).toEqual([]);
    } finally {
      for (const socket of peers) socket.destroy();
      for (const server of [notHttp, silent]) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});
