/**
 * Floods against the SIP edge, on real UDP and TCP sockets of 127.0.0.0/8, where every
 * 127.x.y.z is an address of its own — so "another source" is simply another address:
 *
 * - the real app with a small INVITE budget: a burst from one address gets 404s up to its
 *   budget, 503 + Retry-After for about as many more (RFC 3261 §21.5.4), then silence, and a
 *   call from another address meanwhile is answered and completes; the log holds one line
 *   for all of it, not one per INVITE;
 * - malformed datagrams cost the log one detailed line, then a summary per interval;
 * - the transaction-table cap refuses with 503 and a longer Retry-After, and trusted
 *   sources skip the per-source budget;
 * - TCP: the connection one over the per-address limit is refused while another address still
 *   connects and is answered; the global cap holds for everyone; trusted addresses are exempt.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { DEFAULT_SIP_LIMITS, type SipLimits } from '../../src/config.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { SipFloodLog } from '../../src/endpoints/sip/sip-flood-log.js';
import { RequestAdmission } from '../../src/sip/limits/request-admission.js';
import { writeOffer } from '../../src/sip/sdp/audio-session.js';
import { SipCombinedTransport } from '../../src/sip/transport/combined-transport.js';
import type { TcpTransportOptions } from '../../src/sip/transport/tcp-transport.js';
import { SipUserAgent } from '../../src/sip/ua/user-agent.js';
import { openTestStore } from '../helpers/stores.js';
import { testConfig } from '../helpers/test-app.js';
import { answer, startReceiver } from '../helpers/webhook-receiver.js';

const OWNED = '+15005550006';
const UNOWNED = '+15550000000';
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type LogLine = { level: number; msg: string } & Record<string, unknown>;

/** A pino logger whose JSON lines are kept, as an operator's log file would keep them. */
function capturedLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** The real app, SIP on a free port of 127.0.0.1, with `limits` over the defaults. */
async function startApp(limits: Partial<SipLimits>, logger: Logger): Promise<{ app: App; sipPort: number; own(number: string, voiceUrl: string): Promise<void> }> {
  const { store, cleanup } = await openTestStore('sqlite');
  const base = testConfig('sqlite', { sip: true });
  const config = { ...base, sip: { ...base.sip!, limits: { ...DEFAULT_SIP_LIMITS, ...limits } } };
  const owner = { accountSid: newSid('AC'), authToken: newAuthToken() };
  const app = await createApp(config, owner, { store, logger });
  const baseUrl = await app.listen();
  cleanups.push(cleanup, () => app.close());
  return {
    app,
    sipPort: app.sipAddress()!.port,
    async own(number, voiceUrl) {
      const res = await fetch(`${baseUrl}/2010-04-01/Accounts/${owner.accountSid}/IncomingPhoneNumbers.json`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${owner.accountSid}:${owner.authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ PhoneNumber: number, VoiceUrl: voiceUrl }).toString(),
      });
      expect(res.status).toBe(201);
    },
  };
}

interface Reply {
  status: number;
  callId: string;
  retryAfter?: string;
}

/** A bare UDP socket on `host` that keeps every response it gets. */
async function udpPeer(host: string, target: number): Promise<{ socket: UdpSocket; port: number; target: number; replies: Reply[]; send(data: string): void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const replies: Reply[] = [];
  socket.on('message', (data) => {
    const text = data.toString('latin1');
    const status = /^SIP\/2\.0 (\d{3}) /.exec(text)?.[1];
    if (!status) return;
    const retryAfter = /^Retry-After: *(.*)$/im.exec(text)?.[1]?.trim();
    replies.push({ status: Number(status), callId: /^Call-ID: *(\S+)/im.exec(text)?.[1] ?? '', ...(retryAfter ? { retryAfter } : {}) });
  });
  return { socket, port: socket.address().port, target, replies, send: (data) => socket.send(Buffer.from(data, 'latin1'), target, '127.0.0.1') };
}

const SDP = writeOffer({ address: '127.0.0.1', port: 30000, sessionId: '1', sessionVersion: 1 });

function request(method: string, user: string, host: string, port: number, target: number, transport = 'UDP'): string {
  const body = method === 'INVITE' ? SDP : '';
  return [
    `${method} sip:${user}@127.0.0.1:${target} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${host}:${port};rport;branch=z9hG4bK${randomBytes(8).toString('hex')}`,
    'Max-Forwards: 70',
    `From: <sip:flood@${host}:${port}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${user}@127.0.0.1:${target}>`,
    `Call-ID: ${randomBytes(10).toString('hex')}@${host}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:flood@${host}:${port}>`,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** The final status each Call-ID got first (retransmitted 404s counted once). */
function finals(replies: Reply[]): Map<string, Reply> {
  const byCall = new Map<string, Reply>();
  for (const reply of replies) if (reply.status >= 200 && !byCall.has(reply.callId)) byCall.set(reply.callId, reply);
  return byCall;
}

/** A phone on `host` (its own address) that calls `user` and resolves with how the call went. */
async function callFrom(host: string, user: string, sipPort: number): Promise<{ answered: boolean; endedBy: string }> {
  const transport = await SipCombinedTransport.open({ host, port: 0 });
  const ua = new SipUserAgent({ transport, address: transport.address });
  cleanups.push(() => transport.close(), () => ua.close());
  const call = ua.invite({
    to: `sip:${user}@127.0.0.1:${sipPort}`,
    from: `sip:legit@${host}:${transport.address.port}`,
    sdpOffer: writeOffer({ address: host, port: 30002, sessionId: '2', sessionVersion: 1 }),
    timeoutMs: 10_000,
  });
  let answered = false;
  call.on('answered', () => (answered = true));
  return new Promise((resolve) => {
    call.on('failed', (f) => resolve({ answered, endedBy: `failed ${f.status}` }));
    call.on('ended', (e) => resolve({ answered, endedBy: e.by }));
  });
}

/**
 * `total` junk datagrams from the peers in turn, in rounds of 60 each followed by an OPTIONS
 * from every peer: a socket's datagrams are read in order, so once the OPTIONS are answered
 * the junk before them has been dealt with — and no round overruns the receive buffer.
 */
async function sendJunk(peers: Array<Awaited<ReturnType<typeof udpPeer>>>, total: number): Promise<void> {
  for (let sent = 0; sent < total; ) {
    for (const end = Math.min(total, sent + 60); sent < end; sent++) peers[sent % peers.length]!.send(`this is not SIP ${sent}\r\n\r\n`);
    const before = peers.map((p) => p.replies.length);
    for (const peer of peers) peer.send(request('OPTIONS', 'conclave', peer.socket.address().address, peer.port, peer.target));
    await vi.waitFor(() => expect(peers.every((p, i) => p.replies.slice(before[i]).some((r) => r.status === 200))).toBe(true));
  }
}

describe('INVITE floods against the app', () => {
  it('answers one address over its budget with 503 and Retry-After, then with silence, while a call from another address completes', async () => {
    const { logger, lines } = capturedLogger();
    const { sipPort, own } = await startApp({ invitesPerSecond: 10 }, logger);
    const web = await startReceiver((_r, res) => answer(res, 200, 'text/xml', '<Response><Pause length="1"/><Hangup/></Response>'));
    cleanups.push(() => web.close());
    await own(OWNED, `${web.baseUrl}/voice`);

    const flood = await udpPeer('127.0.0.1', sipPort);
    for (let i = 0; i < 60; i++) flood.send(request('INVITE', UNOWNED, '127.0.0.1', flood.port, sipPort));
    // Another address calls meanwhile: answered, and ended by Conclave's BYE after the Pause.
    expect(await callFrom('127.0.0.2', OWNED, sipPort)).toEqual({ answered: true, endedBy: 'remote' });

    const byStatus = (status: number): Reply[] => [...finals(flood.replies).values()].filter((r) => r.status === status);
    // A budget of 10 a second, and 503s for about 10 more: the rest of the 60 got nothing at
    // all. (Refills while the burst is read are allowed for, up to a second's worth.)
    expect(byStatus(404).length).toBeGreaterThanOrEqual(10);
    expect(byStatus(503).length).toBeGreaterThanOrEqual(10);
    expect(byStatus(404).length + byStatus(503).length).toBeLessThanOrEqual(40);
    expect(finals(flood.replies).size).toBe(byStatus(404).length + byStatus(503).length);
    for (const refusal of byStatus(503)) expect(refusal.retryAfter).toMatch(/^[12]$/);
    // The log: one line for the first refusal and one for the first 404, not one per INVITE.
    expect(lines.filter((l) => /^SIP: INVITE (answered 503|dropped)/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => l.msg.startsWith('SIP: nothing answers to'))).toHaveLength(1);
  });

  it('logs one line for a burst of malformed datagrams, not one each', async () => {
    const { logger, lines } = capturedLogger();
    const { sipPort } = await startApp({}, logger);
    const peers = await Promise.all(['127.0.0.1', '127.0.0.3', '127.0.0.4'].map((host) => udpPeer(host, sipPort)));
    await sendJunk(peers, 300);
    expect(lines.filter((l) => /malformed/.test(l.msg)).map((l) => l.msg)).toEqual(['SIP: malformed message']);
  });
});

describe('the throttled log of malformed messages', () => {
  it('tells the first one in detail and the rest in a summary with their count and sources', async () => {
    const { logger, lines } = capturedLogger();
    const floodLog = new SipFloodLog(logger, 1000);
    cleanups.push(() => floodLog.close());
    const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0, onMalformed: (error, source, answered, closed) => floodLog.malformed(error, source, answered, closed) });
    const ua = new SipUserAgent({ transport, address: transport.address });
    cleanups.push(() => transport.close(), () => ua.close());
    const peers = await Promise.all(['127.0.0.1', '127.0.0.3', '127.0.0.4'].map((host) => udpPeer(host, transport.address.port)));
    await sendJunk(peers, 300);

    const counted = (): number =>
      lines.reduce((sum, l) => sum + (l.msg === 'SIP: malformed message' ? 1 : typeof l.count === 'number' ? l.count : 0), 0);
    await vi.waitFor(() => expect(counted()).toBe(300), { timeout: 10_000 });
    // One detailed line per interval and one summary: a handful of lines for 300 datagrams.
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines[0]).toMatchObject({ msg: 'SIP: malformed message', error: 'malformed start line', answered: false });
    const summary = lines.find((l) => l.msg !== 'SIP: malformed message')!;
    expect(summary.msg).toMatch(/^SIP: [\d,]+ more malformed messages \(dropped [\d,]+\) from [1-3] sources? in the last 1 s$/);
    expect((summary.top as Array<[string, number]>)[0]?.[0]).toMatch(/^127\.0\.0\.[134]$/);
  });
});

describe('the throttled log of requests refused by SIP Domains', () => {
  it('tells the first 403 in detail and a thousand more in one summary, REGISTERs and INVITEs alike', () => {
    const { logger, lines } = capturedLogger();
    const floodLog = new SipFloodLog(logger, 60_000);
    for (let i = 0; i < 1000; i++) floodLog.domainRefused(i % 2 === 0 ? 'REGISTER' : 'INVITE', 'phones.acme.example', { host: '203.0.113.9', port: 5060 + (i % 7), transport: 'udp' });
    floodLog.close(); // says what is pending, as the interval's end would
    expect(lines[0]).toMatchObject({ msg: 'SIP: a REGISTER to the SIP Domain phones.acme.example from 203.0.113.9 was refused (403): no mapping lets it in from there, or its credentials were wrong', domain: 'phones.acme.example', method: 'REGISTER' });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ count: 999, kinds: { 'REGISTER 403': 499, 'INVITE 403': 500 }, sources: 1 });
    expect(lines[1]!.msg).toMatch(/^SIP: 999 more requests to SIP Domains refused \(.*\) from 1 source.* in the last 60 s$/);
  });
});

describe('request admission on a user agent', () => {
  async function agent(admission: RequestAdmission): Promise<{ port: number; refused: string[] }> {
    const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });
    const refused: string[] = [];
    const ua = new SipUserAgent({ transport, address: transport.address, admission, onRefused: (request, _s, action, cause) => refused.push(`${request.method} ${action} ${cause}`) });
    cleanups.push(() => transport.close(), () => ua.close());
    return { port: transport.address.port, refused };
  }

  it('refuses everyone with 503 and a longer Retry-After once the transaction table is full', async () => {
    const { port, refused } = await agent(new RequestAdmission({ maxServerTransactions: 5 }));
    const a = await udpPeer('127.0.0.1', port);
    const b = await udpPeer('127.0.0.5', port);
    for (let i = 0; i < 5; i++) a.send(request('OPTIONS', 'conclave', '127.0.0.1', a.port, port));
    await vi.waitFor(() => expect(a.replies.filter((r) => r.status === 200)).toHaveLength(5));
    // The five answered OPTIONS stay for Timer J (32 s on UDP): the table is full.
    b.send(request('OPTIONS', 'conclave', '127.0.0.5', b.port, port));
    await vi.waitFor(() => expect(b.replies).toHaveLength(1));
    expect(b.replies[0]).toMatchObject({ status: 503 });
    expect(Number(b.replies[0]!.retryAfter)).toBeGreaterThanOrEqual(10);
    expect(refused).toEqual(['OPTIONS refuse transaction-limit']);
  });

  it('lets a trusted address past its per-source budget, and holds the others to it', async () => {
    const { port } = await agent(new RequestAdmission({ invitesPerSecond: 1, othersPerSecond: 2, trusted: ['127.0.0.6/31'] }));
    const trunk = await udpPeer('127.0.0.7', port);
    const stranger = await udpPeer('127.0.0.8', port);
    for (let i = 0; i < 20; i++) trunk.send(request('OPTIONS', 'conclave', '127.0.0.7', trunk.port, port));
    for (let i = 0; i < 20; i++) stranger.send(request('OPTIONS', 'conclave', '127.0.0.8', stranger.port, port));
    await vi.waitFor(() => expect(trunk.replies.filter((r) => r.status === 200)).toHaveLength(20));
    // The stranger's OPTIONS behind them are read by now: 2 served, 2 refused, 16 unanswered.
    trunk.send(request('OPTIONS', 'conclave', '127.0.0.7', trunk.port, port));
    await vi.waitFor(() => expect(trunk.replies.filter((r) => r.status === 200)).toHaveLength(21));
    const statuses = stranger.replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(2);
    expect(statuses.length).toBeLessThanOrEqual(10);
  });
});

describe('TCP connection limits', () => {
  async function server(tcp: TcpTransportOptions): Promise<{ port: number; refused: string[] }> {
    const refused: string[] = [];
    const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0, tcp: { ...tcp, onRefused: (source, limit) => refused.push(`${source.host} ${limit}`) } });
    const ua = new SipUserAgent({ transport, address: transport.address });
    cleanups.push(() => transport.close(), () => ua.close());
    return { port: transport.address.port, refused };
  }

  /** A connection from `host`: `answered` once an OPTIONS on it got its 200, `closed` when the server dropped it. */
  function connection(host: string, port: number): { socket: Socket; answered: Promise<boolean>; closed: Promise<void> } {
    // A refused connection may be reset before or after the client sees it connected.
    const socket = connect({ host: '127.0.0.1', port, localAddress: host });
    cleanups.push(() => socket.destroy());
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const answered = new Promise<boolean>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (/^SIP\/2\.0 200 /m.test(text)) resolve(true);
      });
      void closed.then(() => resolve(false));
    });
    socket.once('connect', () => socket.write(request('OPTIONS', 'conclave', host, socket.localPort ?? 0, port, 'TCP')));
    return { socket, answered, closed };
  }

  it('refuses the connection one over the per-address limit, and still takes another address', async () => {
    const { port, refused } = await server({ maxConnectionsPerSource: 3 });
    const first = [1, 2, 3].map(() => connection('127.0.0.1', port));
    expect(await Promise.all(first.map((c) => c.answered))).toEqual([true, true, true]);
    const extra = connection('127.0.0.1', port);
    await extra.closed;
    expect(await extra.answered).toBe(false);
    expect(refused).toEqual(['127.0.0.1 source']);
    const other = connection('127.0.0.9', port);
    expect(await other.answered).toBe(true);
    // A slot freed by its own address is free again.
    first[0]!.socket.destroy();
    await first[0]!.closed;
    await vi.waitFor(async () => expect(await connection('127.0.0.1', port).answered).toBe(true));
  });

  it('holds everyone to the global cap, and exempts trusted addresses from the per-address one', async () => {
    const { port, refused } = await server({ maxConnections: 4, maxConnectionsPerSource: 2, exempt: (host) => host === '127.0.0.10' });
    const trusted = [1, 2, 3].map(() => connection('127.0.0.10', port));
    expect(await Promise.all(trusted.map((c) => c.answered))).toEqual([true, true, true]);
    expect(await connection('127.0.0.11', port).answered).toBe(true);
    const late = connection('127.0.0.12', port);
    await late.closed;
    expect(refused).toEqual(['127.0.0.12 total']);
  });
});
