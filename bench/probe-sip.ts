/**
 * The SIP flood probe: a real Conclave (`src/main.ts serve`, in a child process, with its
 * normal JSON logging to a pipe this script drains and counts) attacked three ways on
 * 127.0.0.0/8, where each 127.x.y.z is its own source address:
 *
 * 1. INVITE flood: `--rate` INVITEs a second (default 10,000) for `--seconds` (default 5) from
 *    127.0.0.1 to a number nobody owns, never ACKing anything (the worst case: every answered
 *    INVITE keeps its server transaction for Timer H, 64*T1 = 32 s). Meanwhile, one second in,
 *    a legitimate phone on 127.0.0.2 calls a number that is owned (its VoiceUrl answers
 *    `<Pause length="1"/><Hangup/>`; the same phone makes one such call before the flood, so
 *    that the media threads a call starts are up before "RSS before" is read). Reported: the
 *    server's peak RSS (VmHWM) against its RSS before, its CPU time during the flood, the
 *    datagrams the kernel dropped for a full receive buffer (machine-wide), the responses the
 *    flooder got (by status, Timer G retransmissions included) until `--drain` seconds after the
 *    flood ended (default 35: past Timer H), the server's own summary lines, and whether the
 *    legitimate call was answered and ended by Conclave's BYE.
 * 2. TCP: `--connections` connections (default 1,024) from 127.0.0.1, held open; then one from
 *    127.0.0.3 sends an OPTIONS. Reported: how many of the first stayed open, and whether the
 *    other source got its 200.
 * 3. Malformed datagrams: `--malformed` junk datagrams (default 10,000) from five source
 *    addresses; reported: the bytes the server logged meanwhile and for 11 s after (a periodic
 *    summary may come up to 10 s later), per datagram.
 *
 *   npx tsx bench/probe-sip.ts [--root DIR] [--rate N] [--seconds S] [--drain S]
 *                              [--connections N] [--malformed N] [--only flood,tcp,malformed]
 *                              [--server-log FILE] [--node-options '--trace-gc …']
 *
 * `--root` runs another checkout's server (e.g. a worktree of an older commit: "before");
 * the client side always comes from this one. The server runs with the settings' defaults
 * (`--node-options` are given to its node, e.g. --trace-gc); `--server-log` keeps everything it
 * printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { appendFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { writeOffer } from '../src/sip/sdp/audio-session.js';
import { SipCombinedTransport } from '../src/sip/transport/combined-transport.js';
import { SipUserAgent } from '../src/sip/ua/user-agent.js';

interface Options {
  root: string;
  rate: number;
  seconds: number;
  drain: number;
  connections: number;
  malformed: number;
  only: Set<string>;
  serverLog: string | undefined;
  nodeOptions: string[];
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    root: path.resolve(fileURLToPath(new URL('..', import.meta.url))),
    rate: 10_000,
    seconds: 5,
    drain: 35,
    connections: 1024,
    malformed: 10_000,
    only: new Set(['flood', 'tcp', 'malformed']),
    serverLog: undefined,
    nodeOptions: [],
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value = ''] = [argv[i], argv[i + 1]];
    if (name === '--root') o.root = path.resolve(value);
    else if (name === '--rate') o.rate = Number(value);
    else if (name === '--seconds') o.seconds = Number(value);
    else if (name === '--drain') o.drain = Number(value);
    else if (name === '--connections') o.connections = Number(value);
    else if (name === '--malformed') o.malformed = Number(value);
    else if (name === '--only') o.only = new Set(value.split(','));
    else if (name === '--server-log') o.serverLog = path.resolve(value);
    else if (name === '--node-options') o.nodeOptions = value.split(' ').filter((v) => v !== '');
    else throw new Error(`unknown argument ${name}`);
  }
  return o;
}

const OWNED = '+15005550006';
const UNOWNED = '+15550000000';

interface ProbedServer {
  child: ChildProcess;
  apiUrl: string;
  sipPort: number;
  logBytes: () => number;
  logLines: () => string[];
  rssKb: () => number;
  /** CPU time the server has used, user and system, in seconds. */
  cpuSeconds: () => number;
  peakRssKb: () => number;
  stop: () => Promise<void>;
}

/** Datagrams the kernel dropped because a UDP socket's receive buffer was full (all sockets of the machine). */
function udpReceiveBufferErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('RcvbufErrors')] ?? 0);
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function startServer(o: Options, owner: { accountSid: string; authToken: string }): Promise<ProbedServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conclave-probe-sip-'));
  const child = spawn(process.execPath, [...o.nodeOptions, '--import', 'tsx', path.join(o.root, 'src/main.ts'), 'serve'], {
    cwd: o.root,
    env: {
      ...process.env,
      CONCLAVE_DATABASE: path.join(dir, 'conclave.db'),
      CONCLAVE_HTTP_PORT: '0',
      CONCLAVE_SIP_PORT: '0',
      CONCLAVE_SIP_HOST: '127.0.0.1',
      CONCLAVE_ACCOUNT_SID: owner.accountSid,
      CONCLAVE_AUTH_TOKEN: owner.authToken,
      CONCLAVE_MEDIA_REALTIME: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let bytes = 0;
  let text = '';
  const lines: string[] = [];
  const take = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (o.serverLog) appendFileSync(o.serverLog, chunk);
    text += chunk.toString('utf8');
    const cut = text.lastIndexOf('\n');
    if (cut >= 0) {
      lines.push(...text.slice(0, cut).split('\n'));
      text = text.slice(cut + 1);
      if (lines.length > 200_000) lines.splice(0, lines.length - 100_000);
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const started = Date.now();
  let apiUrl: string | undefined;
  let sipPort: number | undefined;
  while (apiUrl === undefined || sipPort === undefined) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${lines.join('\n')}${text}`);
    if (Date.now() - started > 60_000) throw new Error('the server did not start in 60 s');
    for (const line of lines) {
      apiUrl ??= /Conclave is listening on (http:\/\/\S+)\/2010-04-01/.exec(line)?.[1];
      const sip = /^SIP: sip:<number>@[\d.]+:(\d+)/.exec(line)?.[1];
      if (sip) sipPort = Number(sip);
    }
    await sleep(100);
  }
  const pid = child.pid!;
  return {
    child,
    apiUrl,
    sipPort,
    logBytes: () => bytes,
    logLines: () => lines,
    rssKb: () => procStatus(pid, 'VmRSS'),
    cpuSeconds: () => {
      // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 a second).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    peakRssKb: () => procStatus(pid, 'VmHWM'),
    stop: async () => {
      child.kill('SIGTERM');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The VoiceUrl of the owned number: answers, waits a second, hangs up. */
async function twimlServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end('<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/><Hangup/></Response>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, url: `http://127.0.0.1:${address.port}/voice` };
}

async function registerNumber(server: ProbedServer, owner: { accountSid: string; authToken: string }, voiceUrl: string): Promise<void> {
  const response = await fetch(`${server.apiUrl}/2010-04-01/Accounts/${owner.accountSid}/IncomingPhoneNumbers.json`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${owner.accountSid}:${owner.authToken}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ PhoneNumber: OWNED, VoiceUrl: voiceUrl }).toString(),
  });
  if (response.status !== 201) throw new Error(`registering ${OWNED}: ${response.status} ${await response.text()}`);
}

async function udpSocket(host: string): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return socket;
}

const SDP = writeOffer({ address: '127.0.0.1', port: 30000, sessionId: '1', sessionVersion: 1 });

function invite(port: number, sipPort: number): Buffer {
  const tag = randomBytes(4).toString('hex');
  return Buffer.from(
    [
      `INVITE sip:${UNOWNED}@127.0.0.1:${sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};rport;branch=z9hG4bK${randomBytes(8).toString('hex')}`,
      'Max-Forwards: 70',
      `From: <sip:flood@127.0.0.1:${port}>;tag=${tag}`,
      `To: <sip:${UNOWNED}@127.0.0.1:${sipPort}>`,
      `Call-ID: ${randomBytes(10).toString('hex')}@127.0.0.1`,
      'CSeq: 1 INVITE',
      `Contact: <sip:flood@127.0.0.1:${port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(SDP)}`,
      '',
      SDP,
    ].join('\r\n'),
  );
}

/** Sends `total` datagrams made by `make` at `rate` a second, in 10 ms batches. */
async function pace(rate: number, total: number, send: (i: number) => void): Promise<void> {
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + Math.ceil(rate / 100));
    for (; sent < due; sent++) send(sent);
    await sleep(10);
  }
}

interface LegitResult {
  outcome: string;
  setupMs?: number;
}

/** A phone on `host` calls the owned number; resolves when the call ends or after 20 s. */
async function legitimateCall(host: string, sipPort: number): Promise<LegitResult> {
  const transport = await SipCombinedTransport.open({ host, port: 0 });
  const ua = new SipUserAgent({ transport, address: transport.address });
  try {
    const started = performance.now();
    const call = ua.invite({
      to: `sip:${OWNED}@127.0.0.1:${sipPort}`,
      from: `sip:legit@${host}:${transport.address.port}`,
      sdpOffer: writeOffer({ address: host, port: 30002, sessionId: '2', sessionVersion: 1 }),
      timeoutMs: 15_000,
    });
    return await new Promise<LegitResult>((resolve) => {
      let setupMs: number | undefined;
      const timer = setTimeout(() => resolve({ outcome: setupMs === undefined ? 'no answer in 20 s' : 'answered, no BYE in 20 s', ...(setupMs === undefined ? {} : { setupMs }) }), 20_000);
      call.on('answered', () => (setupMs = performance.now() - started));
      call.on('failed', (f) => {
        clearTimeout(timer);
        resolve({ outcome: `failed ${f.status} ${f.reason}` });
      });
      call.on('ended', (e) => {
        clearTimeout(timer);
        resolve({ outcome: e.by === 'remote' ? 'completed (answered, then Conclave hung up)' : `ended by us: ${e.reason}`, ...(setupMs === undefined ? {} : { setupMs }) });
      });
    });
  } finally {
    ua.close();
    await transport.close();
  }
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

async function probeFlood(server: ProbedServer, o: Options): Promise<void> {
  const socket = await udpSocket('127.0.0.1');
  socket.setRecvBufferSize(8 * 1024 * 1024);
  const port = socket.address().port;
  const statuses = new Map<number, number>();
  socket.on('message', (data) => {
    const status = Number(/^SIP\/2\.0 (\d{3}) /.exec(data.toString('latin1', 0, 16))?.[1]);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const warmUp = await legitimateCall('127.0.0.2', server.sipPort);
  if (!warmUp.outcome.startsWith('completed')) throw new Error(`the warm-up call did not complete: ${warmUp.outcome}`);
  const before = server.rssKb();
  const logBefore = server.logBytes();
  const linesBefore = server.logLines().length;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, server.rssKb())), 100);
  const total = o.rate * o.seconds;
  const legit = sleep(1000).then(() => legitimateCall('127.0.0.2', server.sipPort));
  const cpuBefore = server.cpuSeconds();
  const dropsBefore = udpReceiveBufferErrors();
  const floodStart = performance.now();
  await pace(o.rate, total, () => socket.send(invite(port, server.sipPort), server.sipPort, '127.0.0.1'));
  const floodSeconds = (performance.now() - floodStart) / 1000;
  const floodCpu = server.cpuSeconds() - cpuBefore;
  const kernelDrops = udpReceiveBufferErrors() - dropsBefore;
  const afterFlood = new Map(statuses);
  const legitResult = await legit;
  await sleep(Math.max(0, o.drain * 1000 - (performance.now() - floodStart - floodSeconds * 1000))); // from the flood's end
  clearInterval(sampler);
  socket.close();
  const count = (m: Map<number, number>): string =>
    [...m.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ') || 'none';
  const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  console.log(`## INVITE flood: ${total} INVITEs from 127.0.0.1 in ${floodSeconds.toFixed(1)} s to ${UNOWNED} (unowned), never ACKed`);
  console.log(`server RSS before ${mb(before)}, peak during the probe ${mb(Math.max(peak, server.peakRssKb()))} (VmHWM ${mb(server.peakRssKb())}), ${o.drain} s after the flood ${mb(server.rssKb())}`);
  console.log(`server CPU during the flood: ${floodCpu.toFixed(1)} s in ${floodSeconds.toFixed(1)} s; datagrams the kernel dropped for a full receive buffer meanwhile (machine-wide): ${kernelDrops}`);
  console.log(`responses during the flood: ${sum(afterFlood)} (${count(afterFlood)})`);
  console.log(`responses until ${o.drain} s after the flood: ${sum(statuses)} (${count(statuses)}) — ${(sum(statuses) / total).toFixed(2)} per INVITE`);
  console.log(`server log: ${server.logBytes() - logBefore} bytes (${((server.logBytes() - logBefore) / total).toFixed(1)} per INVITE)`);
  // The server's own summaries (when it has them) say how many INVITEs it read at all.
  for (const line of server.logLines().slice(linesBefore)) {
    const msg = /"msg":"(SIP: [\d,]+ more [^"]*)"/.exec(line)?.[1];
    if (msg) console.log(`server: ${msg}`);
  }
  console.log(`legitimate call from 127.0.0.2: ${legitResult.outcome}${legitResult.setupMs === undefined ? '' : `, answered ${legitResult.setupMs.toFixed(0)} ms after the INVITE`}`);
}

async function probeTcp(server: ProbedServer, o: Options): Promise<void> {
  const sockets: Socket[] = [];
  let refused = 0;
  const open = (localAddress: string): Promise<Socket | undefined> =>
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.sipPort, localAddress });
      socket.on('error', () => resolve(undefined));
      socket.once('close', () => resolve(undefined));
      socket.once('connect', () => resolve(socket));
    });
  for (let i = 0; i < o.connections; i += 64) {
    const batch = await Promise.all(Array.from({ length: Math.min(64, o.connections - i) }, () => open('127.0.0.1')));
    for (const s of batch) if (s) sockets.push(s);
  }
  // A refused connection is accepted by the kernel, then closed by the server: give it a moment.
  await sleep(1000);
  const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
  refused = o.connections - stillOpen;
  const other = await open('127.0.0.3');
  let answer = 'could not connect';
  if (other) {
    const port = other.localPort ?? 0;
    other.write(
      [
        `OPTIONS sip:conclave@127.0.0.1:${server.sipPort} SIP/2.0`,
        `Via: SIP/2.0/TCP 127.0.0.3:${port};branch=z9hG4bK${randomBytes(8).toString('hex')}`,
        'Max-Forwards: 70',
        `From: <sip:other@127.0.0.3>;tag=${randomBytes(4).toString('hex')}`,
        `To: <sip:conclave@127.0.0.1:${server.sipPort}>`,
        `Call-ID: ${randomBytes(8).toString('hex')}@127.0.0.3`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    answer = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('connected, no answer in 5 s'), 5000);
      other.on('data', (d: Buffer) => {
        clearTimeout(timer);
        resolve(`answered: ${d.toString('latin1').split('\r\n')[0]}`);
      });
      other.once('close', () => {
        clearTimeout(timer);
        resolve('connected, then closed by the server without an answer');
      });
    });
    other.destroy();
  }
  for (const s of sockets) s.destroy();
  console.log(`## TCP: ${o.connections} connections from 127.0.0.1, then one from 127.0.0.3`);
  console.log(`from 127.0.0.1: ${stillOpen} stayed open, ${refused} refused`);
  console.log(`from 127.0.0.3: ${answer}`);
}

async function probeMalformed(server: ProbedServer, o: Options): Promise<void> {
  const hosts = ['127.0.0.1', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];
  const sockets = await Promise.all(hosts.map((h) => udpSocket(h)));
  const logBefore = server.logBytes();
  const linesBefore = server.logLines().length;
  const junk = Buffer.from('this is not SIP at all\r\n\r\n');
  await pace(5000, o.malformed, (i) => sockets[i % sockets.length]!.send(junk, server.sipPort, '127.0.0.1'));
  await sleep(11_000);
  const bytes = server.logBytes() - logBefore;
  const lines = server.logLines().slice(linesBefore).filter((l) => l.trim() !== '');
  for (const s of sockets) s.close();
  console.log(`## Malformed datagrams: ${o.malformed} from ${hosts.length} addresses at 5,000/s`);
  console.log(`server log: ${bytes} bytes in ${lines.length} lines (${(bytes / o.malformed).toFixed(1)} bytes per datagram)`);
  const sample = lines.find((l) => /malformed/i.test(l));
  if (sample) console.log(`e.g. ${sample.slice(0, 300)}`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const owner = { accountSid: newSid('AC'), authToken: newAuthToken() };
  const twiml = await twimlServer();
  console.log(`# SIP probe: server from ${o.root}; ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}`);
  for (const phase of ['flood', 'tcp', 'malformed'] as const) {
    if (!o.only.has(phase)) continue;
    // A fresh server per phase, so that one's leftovers do not blur the next one's figures.
    const server = await startServer(o, owner);
    try {
      await registerNumber(server, owner, twiml.url);
      if (phase === 'flood') await probeFlood(server, o);
      else if (phase === 'tcp') await probeTcp(server, o);
      else await probeMalformed(server, o);
    } finally {
      await server.stop();
    }
  }
  twiml.server.close();
}

await main();
