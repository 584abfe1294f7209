/**
 * The lifecycle probe of issue #10, against a real server process (`src/main.ts serve` of this
 * checkout, or of `--root`: a worktree of an older commit for "before"), SQLite in a temp dir:
 *
 * 1. `rtp`: the RTP range holds `--pairs` legs (default 4). That many SIP phones call a number
 *    and stay; then one more calls. Reported: what the extra caller got (its final status, or
 *    none) and how long after its INVITE.
 * 2. `sigterm`: `--participants` simulated participants (default 20) and one SIP phone in a
 *    conference, every call with a status callback, plus one call whose TwiML webhook never
 *    answers (CONCLAVE_WEBHOOK_TIMEOUT_MS 15 s, the default). SIGTERM. Reported: the time to
 *    exit and the exit code, whether the phone got a BYE, and how many `completed` callbacks
 *    arrived.
 * 3. `kill`: the same conference without the phone; kill -9; start again on the same database.
 *    Reported: how many `completed` callbacks and conference leave/end callbacks the second
 *    start sent, and how long after it started.
 *
 *   npx tsx bench/probe-lifecycle.ts [--root DIR] [--pairs N] [--participants N] [--only rtp,sigterm,kill]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { SipPhone } from '../test/helpers/sip-phone.js';
import { answer, startReceiver, type Receiver } from '../test/helpers/webhook-receiver.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const NUMBER = '+15005550199';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
}

const root = path.resolve(option('root', HERE));
const pairs = Number(option('pairs', '4'));
const participants = Number(option('participants', '20'));
const only = new Set(option('only', 'rtp,sigterm,kill').split(','));
const accountSid = newSid('AC');
const authToken = newAuthToken();

interface Server {
  child: ChildProcess;
  api: string;
  sipPort: number;
  exited: Promise<number | null>;
}

function serve(database: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--port', '0'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', CONCLAVE_DATABASE: database, CONCLAVE_ACCOUNT_SID: accountSid, CONCLAVE_AUTH_TOKEN: authToken, CONCLAVE_SIP_PORT: '0', CONCLAVE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr!.resume();
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const api = /listening on (http:\/\/\S+)\/2010-04-01/.exec(out)?.[1];
      const sip = /SIP: sip:<number>@[\d.]+:(\d+)/.exec(out)?.[1];
      if (api && sip) resolve({ child, api: `${api}/2010-04-01/Accounts/${accountSid}`, sipPort: Number(sip), exited });
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before it listened`)));
  });
}

async function post(url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function receiver(): Promise<Receiver> {
  return startReceiver((r, response) => {
    const p = r.path.split('?')[0];
    if (p === '/voice') return answer(response, 200, 'text/xml', '<Response><Dial><Conference>probe</Conference></Dial></Response>');
    if (p === '/never') return;
    answer(response, 204, 'text/plain', '');
  });
}

function tempDatabase(): { file: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conclave-probe-'));
  return { file: path.join(dir, 'conclave.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function probeRtp(): Promise<void> {
  const db = tempDatabase();
  const web = await receiver();
  const server = await serve(db.file, { CONCLAVE_RTP_PORTS: `45000-${45000 + pairs * 2 - 1}` });
  const phones: SipPhone[] = [];
  try {
    await post(`${server.api}/IncomingPhoneNumbers.json`, { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` });
    const target = `sip:${NUMBER}@127.0.0.1:${server.sipPort}`;
    for (let i = 0; i < pairs; i++) {
      const phone = await SipPhone.open(`p${i}`, null);
      phones.push(phone);
      await phone.dial(target);
    }
    const extra = await SipPhone.open('extra', null);
    phones.push(extra);
    const since = performance.now();
    const outcome = await Promise.race([
      extra.dial(target).then(
        () => 'answered (200)',
        (error: { status?: number }) => `refused ${error.status ?? '?'}`,
      ),
      sleep(30_000).then(() => 'no final answer in 30 s'),
    ]);
    console.log(`rtp: range of ${pairs} pairs full; the next caller: ${outcome} after ${(performance.now() - since).toFixed(0)} ms`);
  } finally {
    for (const phone of phones) await phone.close();
    server.child.kill('SIGKILL');
    await server.exited;
    await web.close();
    db.remove();
  }
}

async function conference(server: Server, web: Receiver): Promise<void> {
  for (let i = 0; i < participants; i++) {
    await post(`${server.api}/Calls.json`, {
      To: `sim:p${i};tone=${300 + i * 10}`,
      From: '+15005550006',
      Twiml: `<Response><Dial><Conference statusCallback="${web.baseUrl}/conference" statusCallbackEvent="leave end">probe</Conference></Dial></Response>`,
      StatusCallback: `${web.baseUrl}/status`,
      StatusCallbackEvent: 'completed',
    });
  }
  for (const deadline = performance.now() + 20_000; performance.now() < deadline; await sleep(100)) {
    const res = await fetch(`${server.api}/Calls.json?Status=in-progress&PageSize=1000`, { headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` } });
    if (((await res.json()) as { calls: unknown[] }).calls.length >= participants) return;
  }
}

async function probeSigterm(): Promise<void> {
  const db = tempDatabase();
  const web = await receiver();
  const server = await serve(db.file);
  const phone = await SipPhone.open('desk', 500);
  try {
    await post(`${server.api}/IncomingPhoneNumbers.json`, { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` });
    await conference(server, web);
    const call = await phone.dial(`sip:${NUMBER}@127.0.0.1:${server.sipPort}`);
    let bye = 'no BYE';
    call.on('ended', (e) => (bye = e.by === 'remote' ? 'BYE received' : bye));
    await post(`${server.api}/Calls.json`, { To: 'sim:waiting', From: '+15005550006', Url: `${web.baseUrl}/never` });
    for (let i = 0; i < 100 && !web.requests.some((r) => r.path === '/never'); i++) await sleep(20);
    const since = performance.now();
    server.child.kill('SIGTERM');
    const code = await Promise.race([server.exited, sleep(60_000).then(() => 'still running after 60 s')]);
    const took = performance.now() - since;
    await sleep(500);
    const completed = web.requests.filter((r) => r.path === '/status' && r.params.CallStatus === 'completed').length;
    console.log(`sigterm: exit ${String(code)} after ${took.toFixed(0)} ms; phone: ${bye}; completed callbacks ${completed} of ${participants}`);
  } finally {
    await phone.close();
    server.child.kill('SIGKILL');
    await web.close();
    db.remove();
  }
}

async function probeKill(): Promise<void> {
  const db = tempDatabase();
  const web = await receiver();
  try {
    const first = await serve(db.file);
    await conference(first, web);
    first.child.kill('SIGKILL');
    await first.exited;
    const before = web.requests.length;
    const since = performance.now();
    const second = await serve(db.file);
    await sleep(3000);
    const owed = web.requests.slice(before);
    const completed = owed.filter((r) => r.path === '/status' && r.params.CallStatus === 'completed').length;
    const leaves = owed.filter((r) => r.params.StatusCallbackEvent === 'participant-leave').length;
    const ends = owed.filter((r) => r.params.StatusCallbackEvent === 'conference-end').length;
    console.log(`kill -9: the next start (listening after ${(performance.now() - since - 3000).toFixed(0)} ms + 3 s) sent ${completed} completed, ${leaves} participant-leave, ${ends} conference-end callbacks (of ${participants}, ${participants}, 1 owed)`);
    second.child.kill('SIGKILL');
    await second.exited;
  } finally {
    await web.close();
    db.remove();
  }
}

console.log(`probe-lifecycle: server from ${root}; Node ${process.version}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
if (only.has('rtp')) await probeRtp();
if (only.has('sigterm')) await probeSigterm();
if (only.has('kill')) await probeKill();
process.exit(0);
