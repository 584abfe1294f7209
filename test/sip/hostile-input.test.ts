/**
 * Hostile and malformed input against a real UDP+TCP transport and a SipUserAgent: random
 * bytes, binary junk, truncated headers, huge Content-Length, negative CSeq, missing Via or
 * Call-ID, header floods, a 2 MB TCP message, bad SIP versions, responses nobody asked for,
 * and a burst of valid INVITEs/BYEs/CANCELs that are never completed.
 *
 * Asserts: the process survives (valid requests are still answered afterwards), requests the
 * stack can answer get 400/413/505/481 as RFC 3261 §8.2, §21.4 and §21.5.6 say, streams with
 * broken framing are closed, and once the UA's timers have fired (a manual clock: no sleeps)
 * no transaction, dialog or timer is left behind.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../src/sip/message.js';
import { writeAnswer, writeOffer } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import { newBranch } from '../../src/sip/transaction/transaction-key.js';
import { SipCombinedTransport } from '../../src/sip/transport/combined-transport.js';
import { SipUserAgent } from '../../src/sip/ua/user-agent.js';
import { ManualTimers } from './helpers/manual-timers.js';
import { until } from '../helpers/until.js';


interface Target {
  transport: SipCombinedTransport;
  ua: SipUserAgent;
  clock: ManualTimers;
  malformed: Array<{ error: string; transport: string | undefined; answered: boolean; closed: boolean }>;
  delivered: SipMessage[];
  errors: unknown[];
  invites: number;
}

let target: Target;
const cleanups: Array<() => unknown> = [];

beforeEach(async () => {
  const malformed: Target['malformed'] = [];
  const transport = await SipCombinedTransport.open({
    host: '127.0.0.1',
    port: 0,
    tcp: { idleTimeoutMs: 300, maxMessageBytes: 64 * 1024 },
    onMalformed: (error, source, answered, closed) => malformed.push({ error, transport: source.transport, answered, closed }),
    onError: () => undefined, // resets from peers that vanish are expected here
  });
  const delivered: SipMessage[] = [];
  const setHandler = transport.setMessageHandler.bind(transport);
  transport.setMessageHandler = (handler) =>
    setHandler((message, source) => {
      delivered.push(message);
      handler(message, source);
    });
  const clock = new ManualTimers();
  const errors: unknown[] = [];
  const t: Target = { transport, ua: undefined as unknown as SipUserAgent, clock, malformed, delivered, errors, invites: 0 };
  t.ua = new SipUserAgent({
    transport,
    address: transport.address,
    timers: clock,
    onError: (e) => errors.push(e),
    onInvite: (incoming) => {
      t.invites++;
      // Alternate: reject, or accept and never see the ACK (the 2xx retransmitter must give up).
      if (t.invites % 2 === 0) incoming.reject(486);
      else incoming.accept(writeAnswer({ address: '127.0.0.1', port: 40000, sessionId: '9', sessionVersion: 1 }, rtpAudio(incoming.offer)));
    },
  });
  target = t;
  cleanups.push(() => transport.close(), () => t.ua.close());
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A UDP client that collects the status line of every response it gets. */
async function udpClient(): Promise<{ socket: UdpSocket; port: number; statuses: number[]; send(data: Buffer | string): Promise<void> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const statuses: number[] = [];
  socket.on('message', (data) => {
    const m = /^SIP\/2\.0 (\d{3}) /.exec(data.toString('latin1'));
    if (m) statuses.push(Number(m[1]));
  });
  const { port } = socket.address();
  const to = target.transport.address;
  return {
    socket,
    port,
    statuses,
    send: (data) => new Promise<void>((resolve, reject) => socket.send(data, to.port, to.host, (e) => (e ? reject(e) : resolve()))),
  };
}

/** A TCP client that collects status lines and knows when the server closed on it. */
async function tcpClient(): Promise<{ socket: Socket; statuses: number[]; closed: Promise<void>; port: number }> {
  const to = target.transport.address;
  const socket = connect(to.port, to.host);
  cleanups.push(() => socket.destroy());
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const statuses: number[] = [];
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const m of text.matchAll(/^SIP\/2\.0 (\d{3}) /gm)) statuses.push(Number(m[1]));
    text = text.slice(text.lastIndexOf('\n') + 1);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, statuses, closed, port: socket.localPort ?? 0 };
}

interface Fields {
  method?: string;
  uri?: string;
  version?: string;
  via?: string | null;
  callId?: string | null;
  cseq?: string;
  extra?: string[];
  body?: string;
  contentLength?: string | null;
  transport?: 'UDP' | 'TCP';
  port: number;
}

/** A request as text, with any field broken on purpose; `null` leaves a header out. */
function request(f: Fields): string {
  const method = f.method ?? 'OPTIONS';
  const to = target.transport.address;
  const lines = [`${method} ${f.uri ?? `sip:conclave@${to.host}:${to.port}`} SIP/${f.version ?? '2.0'}`];
  if (f.via !== null) lines.push(`Via: ${f.via ?? `SIP/2.0/${f.transport ?? 'UDP'} 127.0.0.1:${f.port};rport;branch=${newBranch()}`}`);
  lines.push('Max-Forwards: 70', `From: <sip:mallory@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`, `To: <sip:conclave@${to.host}>`);
  if (f.callId !== null) lines.push(`Call-ID: ${f.callId ?? `${randomBytes(8).toString('hex')}@127.0.0.1`}`);
  lines.push(`CSeq: ${f.cseq ?? `1 ${method}`}`);
  if (method === 'INVITE') lines.push(`Contact: <sip:mallory@127.0.0.1:${f.port}>`);
  lines.push(...(f.extra ?? []));
  const body = f.body ?? '';
  if (body.length > 0) lines.push('Content-Type: application/sdp');
  if (f.contentLength !== null) lines.push(`Content-Length: ${f.contentLength ?? Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A response to a request we never sent. */
function strayResponse(status: number, transport: 'UDP' | 'TCP'): string {
  const to = target.transport.address;
  return [
    `SIP/2.0 ${status} Whatever`,
    `Via: SIP/2.0/${transport} ${to.host}:${to.port};branch=${newBranch()}`,
    'From: <sip:conclave@127.0.0.1>;tag=ours',
    'To: <sip:mallory@127.0.0.1>;tag=stray',
    `Call-ID: ${randomBytes(8).toString('hex')}@127.0.0.1`,
    '2 INVITE'.replace(/^/, 'CSeq: '),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const offer = writeOffer({ address: '127.0.0.1', port: 30000, sessionId: '7', sessionVersion: 1 });

/** Sends over UDP and waits until the transport has either parsed it or reported it malformed. */
async function udpSendAndWait(client: Awaited<ReturnType<typeof udpClient>>, data: Buffer | string): Promise<void> {
  const before = target.malformed.length + target.delivered.length;
  await client.send(data);
  await until(() => target.malformed.length + target.delivered.length > before);
}

/** The UA's private tables, peeked at to prove nothing is left in them. */
interface UaInternals {
  core: { dialogs: Map<unknown, unknown>; lingering: Map<unknown, unknown>; outbound: Set<unknown> };
  uas: { pendingInvites: Map<unknown, unknown> };
}

function expectNoLeaks(): void {
  target.clock.runAll();
  const internals = target.ua as unknown as UaInternals;
  expect({
    serverTransactions: target.ua.layer.serverTransactionCount,
    clientTransactions: target.ua.layer.clientTransactionCount,
    dialogs: internals.core.dialogs.size,
    lingering: internals.core.lingering.size,
    outbound: internals.core.outbound.size,
    pendingInvites: internals.uas.pendingInvites.size,
    timers: target.clock.pending,
    activeCalls: target.ua.activeCalls.length,
  }).toEqual({
    serverTransactions: 0,
    clientTransactions: 0,
    dialogs: 0,
    lingering: 0,
    outbound: 0,
    pendingInvites: 0,
    timers: 0,
    activeCalls: 0,
  });
}

async function stillAnswers(): Promise<void> {
  const udp = await udpClient();
  await udp.send(request({ port: udp.port }));
  await until(() => udp.statuses.includes(200));
  const tcp = await tcpClient();
  tcp.socket.write(request({ port: tcp.port, transport: 'TCP' }));
  await until(() => tcp.statuses.includes(200));
  tcp.socket.destroy();
}

describe('hostile input over UDP', () => {
  it('survives random bytes and binary junk without answering them', async () => {
    const client = await udpClient();
    for (let i = 0; i < 200; i++) {
      const junk = randomBytes(1 + (i * 37) % 1400);
      if (junk.every((b) => b === 0x0d || b === 0x0a)) continue;
      await udpSendAndWait(client, junk);
    }
    await udpSendAndWait(client, Buffer.from([0, 0, 0, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a]));
    await udpSendAndWait(client, Buffer.concat([Buffer.from('INVITE \u0000\u0001 SIP/2.0\r\n'), randomBytes(500)]));
    expect(client.statuses).toEqual([]);
    expect(target.delivered).toEqual([]);
    await stillAnswers();
    expectNoLeaks();
  });

  it('answers malformed but routable requests with 400, 413, 505 and 513, and drops the rest', async () => {
    const client = await udpClient();
    const port = client.port;
    const cases: Array<{ name: string; data: string; status?: number }> = [
      { name: 'negative CSeq', data: request({ port, cseq: '-1 OPTIONS' }), status: 400 },
      { name: 'CSeq too large', data: request({ port, cseq: '4294967296 OPTIONS' }), status: 400 },
      { name: 'CSeq method mismatch', data: request({ port, cseq: '1 INVITE' }), status: 400 },
      { name: 'huge Content-Length', data: request({ port, contentLength: '999999999' }), status: 400 },
      { name: 'Content-Length not a number', data: request({ port, contentLength: '12abc' }), status: 400 },
      { name: 'truncated headers', data: request({ port }).replace(/\r\n\r\n$/, '\r\nX-Trunc'), status: 400 },
      { name: 'bad SIP version', data: request({ port, version: '3.0' }), status: 505 },
      { name: 'SIP version 1.0 INVITE', data: request({ port, method: 'INVITE', version: '1.0', body: offer }), status: 505 },
      { name: 'header flood (values)', data: request({ port, extra: Array.from({ length: 400 }, (_, i) => `X-Flood-${i}: ${i}`) }), status: 413 },
      { name: 'two Call-IDs', data: request({ port, extra: ['Call-ID: second@x'] }), status: 400 },
      { name: 'malformed Max-Forwards', data: request({ port, extra: ['Max-Forwards: lots'] }), status: 400 },
      { name: 'missing Via', data: request({ port, via: null }) },
      { name: 'malformed Via', data: request({ port, via: 'SIP/2.0/UDP' }) },
      { name: 'missing Call-ID', data: request({ port, callId: null }) },
      { name: 'header section over 16 KiB', data: request({ port, extra: [`X-Big: ${'a'.repeat(20_000)}`] }), status: 513 },
      { name: 'malformed request line', data: 'OPTIONS  SIP/2.0\r\n\r\n' },
      { name: 'ACK with a bad CSeq is never answered', data: request({ port, method: 'ACK', cseq: 'x ACK' }) },
    ];
    for (const c of cases) {
      const before = client.statuses.length;
      await udpSendAndWait(client, c.data);
      if (c.status !== undefined) {
        await until(() => client.statuses.length > before);
        expect({ name: c.name, status: client.statuses.at(-1) }).toEqual({ name: c.name, status: c.status });
      }
    }
    // Every case was malformed: none reached the UA.
    expect(target.delivered).toEqual([]);
    expect(target.malformed).toHaveLength(cases.length);
    expect(client.statuses).toHaveLength(cases.filter((c) => c.status !== undefined).length);
    await stillAnswers();
    expectNoLeaks();
  });

  it('ignores responses nobody asked for', async () => {
    const client = await udpClient();
    for (const status of [100, 180, 200, 486, 603]) await udpSendAndWait(client, strayResponse(status, 'UDP'));
    expect(target.delivered.map((m) => (m.kind === 'response' ? m.status : m.method))).toEqual([100, 180, 200, 486, 603]);
    expect(client.statuses).toEqual([]);
    expect(target.errors).toEqual([]);
    expectNoLeaks();
  });

  it('answers valid but unwanted requests and forgets them once the timers fire', async () => {
    const client = await udpClient();
    const port = client.port;
    const sent: string[] = [];
    const send = async (data: string, label: string): Promise<void> => {
      sent.push(label);
      await udpSendAndWait(client, data);
    };
    for (let i = 0; i < 20; i++) await send(request({ port, method: 'INVITE', body: offer }), 'INVITE');
    for (let i = 0; i < 10; i++) await send(request({ port, method: 'BYE' }), 'BYE');
    for (let i = 0; i < 10; i++) await send(request({ port, method: 'CANCEL' }), 'CANCEL');
    for (let i = 0; i < 10; i++) await send(request({ port, method: 'FROBNICATE' }), 'FROBNICATE');
    await send(request({ port, method: 'INVITE' }), 'INVITE without SDP');
    await send(request({ port, method: 'INVITE', body: 'v=0\r\nthis is not sdp' }), 'INVITE with junk SDP');
    await send(request({ port, method: 'INVITE', body: offer, extra: ['Require: 100rel, foo'] }), 'INVITE with Require');
    await send(request({ port, method: 'ACK' }), 'stray ACK');
    // 20 INVITEs: 100 each, then 200 or 486; BYE/CANCEL: 481; unknown method: 501; and 488, 488, 420.
    await until(() => client.statuses.filter((s) => s !== 100).length >= 20 + 10 + 10 + 10 + 3);
    const count = (s: number): number => client.statuses.filter((x) => x === s).length;
    expect(count(200)).toBe(10);
    expect(count(486)).toBe(10);
    expect(count(481)).toBe(20);
    expect(count(501)).toBe(10);
    expect(count(488)).toBe(2);
    expect(count(420)).toBe(1);
    expect(target.ua.layer.serverTransactionCount).toBeGreaterThan(0);
    expect((target.ua as unknown as UaInternals).core.dialogs.size).toBe(10); // accepted, waiting for an ACK
    // Nobody ACKs: the 2xx retransmitters give up and BYE (which time out too), Timers H/J/L fire.
    expectNoLeaks();
  });
});

describe('hostile input over TCP', () => {
  it('answers a 2 MB message with 513 and closes its connection, and keeps serving others', async () => {
    const bystander = await tcpClient();
    const client = await tcpClient();
    const body = 'x'.repeat(2 * 1024 * 1024);
    client.socket.write(request({ port: client.port, transport: 'TCP', method: 'INVITE', body }));
    await client.closed;
    expect(client.statuses).toEqual([513]);
    expect(target.malformed.at(-1)).toMatchObject({ transport: 'tcp', answered: true, closed: true });
    bystander.socket.write(request({ port: bystander.port, transport: 'TCP' }));
    await until(() => bystander.statuses.includes(200));
    expect(bystander.socket.destroyed).toBe(false);
    expectNoLeaks();
  });

  it('answers a header section over 16 KiB with 513 (RFC 3261 §21.5.14), then closes: the framing is lost', async () => {
    const client = await tcpClient();
    client.socket.write(request({ port: client.port, transport: 'TCP', method: 'INVITE', body: offer, extra: [`X-Big: ${'a'.repeat(20_000)}`] }));
    await client.closed;
    expect(client.statuses).toEqual([513]);
    expect(target.malformed.at(-1)).toMatchObject({ error: 'header section larger than 16384 bytes', transport: 'tcp', answered: true, closed: true });
    // Without a readable start line there is nobody to answer: closed without a word.
    const junk = await tcpClient();
    junk.socket.write(`GARBAGE\r\n${'a'.repeat(20_000)}`);
    await junk.closed;
    expect(junk.statuses).toEqual([]);
    expect(target.delivered).toEqual([]);
    await stillAnswers();
  });

  it('closes connections on a huge Content-Length, on a missing Content-Length and on junk', async () => {
    const inputs = [
      request({ port: 9, transport: 'TCP', contentLength: '999999999' }),
      request({ port: 9, transport: 'TCP', contentLength: null }),
      Buffer.concat([randomBytes(2000), Buffer.from('\r\n\r\n')]),
      `${'A'.repeat(70 * 1024)}`,
    ];
    for (const input of inputs) {
      const client = await tcpClient();
      client.socket.write(input);
      await client.closed;
    }
    expect(target.malformed.filter((m) => m.closed)).toHaveLength(inputs.length);
    expect(target.delivered).toEqual([]);
    await until(() => target.transport.tcp.connectionCount === 0);
    await stillAnswers();
  });

  it('answers framed but malformed requests on the same connection and keeps it open', async () => {
    const client = await tcpClient();
    const port = client.port;
    const bad = [
      request({ port, transport: 'TCP', cseq: '-5 OPTIONS' }),
      request({ port, transport: 'TCP', version: '2.1' }),
      request({ port, transport: 'TCP', extra: Array.from({ length: 300 }, (_, i) => `X-Flood: ${i}`) }),
      request({ port, transport: 'TCP', callId: null }), // not answerable: dropped, connection kept
    ];
    client.socket.write(bad.join(''));
    await until(() => client.statuses.length === 3);
    expect(client.statuses).toEqual([400, 505, 413]);
    client.socket.write(request({ port, transport: 'TCP' }));
    await until(() => client.statuses.length === 4);
    expect(client.statuses[3]).toBe(200);
    expect(client.socket.destroyed).toBe(false);
    expectNoLeaks();
  });

  it('closes a slow client that never finishes its headers (idle timeout)', async () => {
    const client = await tcpClient();
    client.socket.write('INVITE sip:conclave@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKslow\r\n');
    await client.closed;
    await until(() => target.transport.tcp.connectionCount === 0);
  });

  it('runs INVITE bursts over TCP and leaks nothing once the timers fire', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => tcpClient()));
    for (const c of clients) {
      for (let i = 0; i < 4; i++) c.socket.write(request({ port: c.port, transport: 'TCP', method: 'INVITE', body: offer }));
    }
    await until(() => clients.every((c) => c.statuses.filter((s) => s !== 100).length === 4));
    expect(target.invites).toBe(20);
    for (const c of clients) c.socket.destroy();
    expectNoLeaks();
  });

  it('tolerates a peer that resets mid-message, and stray responses on TCP', async () => {
    const client = await tcpClient();
    const response = strayResponse(200, 'TCP');
    client.socket.write(response);
    await until(() => target.delivered.length === 1);
    client.socket.write(request({ port: client.port, transport: 'TCP', method: 'INVITE', body: offer }).slice(0, 150));
    client.socket.resetAndDestroy();
    await until(() => target.transport.tcp.connectionCount === 0);
    await stillAnswers();
    expectNoLeaks();
  });
});

