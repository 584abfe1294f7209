/**
 * SIP over TCP (RFC 3261 §18) and the combined UDP+TCP transport: a request answered on the
 * connection it came on (§18.2.2), framing errors closing only their connection, CRLF
 * keep-alive pongs, idle connections closed, and two user agents placing and answering a
 * call over TCP chosen by `;transport=tcp` (Via stamped `SIP/2.0/TCP`, no retransmissions).
 * Every wait is on an event, never on a sleep.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequest, responseTo, topVia, type SipMessage, type SipResponse } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parse-message.js';
import { SipTcpFramer } from '../../src/sip/tcp-framer.js';
import { newBranch } from '../../src/sip/transaction/transaction-key.js';
import type { SipDestination } from '../../src/sip/transaction/transport.js';
import { writeAnswer, writeOffer } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import { SipCombinedTransport, nextHopTransport } from '../../src/sip/transport/combined-transport.js';
import { SipTcpTransport } from '../../src/sip/transport/tcp-transport.js';
import type { SipCall } from '../../src/sip/ua/call.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../src/sip/ua/user-agent.js';
import { ManualTimers } from './helpers/manual-timers.js';
import { labelOf } from './helpers/recording-transport.js';
import { until } from '../helpers/until.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


function options(from: SipDestination, to: SipDestination, transport = 'TCP', extra: Array<[string, string]> = []) {
  return createRequest('OPTIONS', `sip:bridge@${to.host}:${to.port};transport=tcp`, [
    ['Via', `SIP/2.0/${transport} ${from.host}:${from.port};rport;branch=${newBranch()}`],
    ['Max-Forwards', '70'],
    ['From', `<sip:probe@${from.host}>;tag=p1`],
    ['To', `<sip:bridge@${to.host}>`],
    ['Call-ID', `${newBranch()}@${from.host}`],
    ['CSeq', '1 OPTIONS'],
    ...extra,
  ]);
}

/** A raw TCP client that frames what it reads. */
async function rawClient(to: SipDestination): Promise<{ socket: Socket; messages: SipMessage[]; raw: Buffer[]; closed: Promise<void> }> {
  const socket = connect(to.port, to.host);
  cleanups.push(() => socket.destroy());
  await once(socket, 'connect');
  const framer = new SipTcpFramer();
  const messages: SipMessage[] = [];
  const raw: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    raw.push(chunk);
    for (const out of framer.push(chunk)) {
      if (out.type !== 'message') continue;
      const parsed = parseSipMessage(out.data, { framing: 'stream' });
      if (parsed.ok) messages.push(parsed.message);
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, messages, raw, closed };
}

async function tcp(onMessage?: (m: SipMessage, s: SipDestination) => void, extra: Partial<Parameters<typeof SipTcpTransport.open>[0]> = {}) {
  const transport = await SipTcpTransport.open({ ...extra, ...(onMessage ? { onMessage } : {}) });
  cleanups.push(() => transport.close());
  return transport;
}

describe('SipTcpTransport', () => {
  it('listens on 127.0.0.1 and is reliable', async () => {
    const transport = await tcp();
    expect(transport.address).toMatchObject({ host: '127.0.0.1', transport: 'tcp' });
    expect(transport.address.port).toBeGreaterThan(0);
    expect(transport.reliable).toBe(true);
  });

  it('answers a request on the connection it came on (§18.2.2)', async () => {
    const sources: SipDestination[] = [];
    const server = await tcp((message, source) => {
      sources.push(source);
      // The destination given is the Via sent-by port, where nobody listens: the branch decides.
      if (message.kind === 'request') server.send(responseTo(message, 200, 'srv'), { host: '127.0.0.1', port: 9 });
    });
    const client = await rawClient(server.address);
    const request = options({ host: '127.0.0.1', port: 9 }, server.address);
    client.socket.write(Buffer.concat([Buffer.from('\r\n'), Buffer.from(serialize(request))]));
    await until(() => client.messages.length === 1);
    const response = client.messages[0] as SipResponse;
    expect(response.status).toBe(200);
    expect(topVia(response)?.branch).toBe(topVia(request)?.branch);
    expect(sources[0]).toMatchObject({ host: '127.0.0.1', port: client.socket.localPort, transport: 'tcp' });
    expect(server.connectionCount).toBe(1);
  });

  it('sends a response whose connection closed to the Via sent-by port on a new connection (§18.2.2)', async () => {
    let pending: { message: SipMessage; source: SipDestination } | undefined;
    const server = await tcp((message, source) => {
      if (message.kind === 'request') pending = { message, source };
    });
    const responses: SipResponse[] = [];
    const client = await tcp((message) => message.kind === 'response' && responses.push(message));
    const viaOnly = await rawClient(server.address);
    viaOnly.socket.write(serialize(options(client.address, server.address)));
    await until(() => pending !== undefined);
    viaOnly.socket.destroy();
    await until(() => server.connectionCount === 0);
    const { message, source } = pending as { message: SipMessage; source: SipDestination };
    if (message.kind !== 'request') throw new Error('expected a request');
    server.send(responseTo(message, 200, 'srv'), source); // the source port is closed now
    await until(() => responses.length === 1);
    expect(responses[0]?.status).toBe(200);
  });

  it('sends requests between two transports over one reused connection, both ways', async () => {
    const got: SipMessage[] = [];
    const server = await tcp((message, source) => {
      got.push(message);
      if (message.kind === 'request') server.send(responseTo(message, 200, 'srv'), source);
    });
    const responses: SipResponse[] = [];
    const client = await tcp((message) => message.kind === 'response' && responses.push(message));
    client.send(options(client.address, server.address), server.address);
    client.send(options(client.address, server.address), server.address);
    await until(() => responses.length === 2);
    expect(client.connectionCount).toBe(1);
    expect(server.connectionCount).toBe(1);
    expect(got.map(labelOf)).toEqual(['OPTIONS', 'OPTIONS']);
  });

  it('answers an unparseable but framed request with 400 and keeps the connection', async () => {
    const malformed: string[] = [];
    const server = await tcp(undefined, { onMalformed: (error) => malformed.push(error) });
    const client = await rawClient(server.address);
    const bad = serialize(options({ host: '127.0.0.1', port: 9 }, server.address)).replace('CSeq: 1 OPTIONS', 'CSeq: -1 OPTIONS');
    const answers = (): number => (Buffer.concat(client.raw).toString().match(/^SIP\/2\.0 400 /gm) ?? []).length;
    client.socket.write(bad);
    await until(() => answers() === 1);
    expect(malformed).toEqual(['malformed CSeq']);
    client.socket.write(bad);
    await until(() => answers() === 2);
    expect(server.connectionCount).toBe(1);
  });

  it('closes a connection whose framing is lost, and only that one', async () => {
    const malformed: Array<{ error: string; closed: boolean }> = [];
    const server = await tcp(undefined, { onMalformed: (error, _s, _a, closed) => malformed.push({ error, closed }) });
    const good = await rawClient(server.address);
    const bad = await rawClient(server.address);
    await until(() => server.connectionCount === 2);
    bad.socket.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKx\r\n\r\n');
    await bad.closed;
    expect(malformed).toEqual([{ error: 'missing or malformed Content-Length on a stream', closed: true }]);
    await until(() => server.connectionCount === 1);
    good.socket.write(serialize(options({ host: '127.0.0.1', port: 9 }, server.address)).replace('OPTIONS sip', 'FOO sip').replace('1 OPTIONS', '1 FOO'));
    expect(good.socket.destroyed).toBe(false);
  });

  it('answers a double-CRLF ping with a CRLF pong (RFC 5626 §3.5.1)', async () => {
    const server = await tcp();
    const client = await rawClient(server.address);
    client.socket.write('\r\n\r\n');
    await until(() => Buffer.concat(client.raw).toString() === '\r\n');
  });

  it('closes idle connections', async () => {
    const server = await tcp(undefined, { idleTimeoutMs: 50 });
    const client = await rawClient(server.address);
    await client.closed;
    await until(() => server.connectionCount === 0);
  });

  it('reports a failed connect and drops the connection', async () => {
    const errors: Error[] = [];
    const closedServer = await SipTcpTransport.open();
    const deadPort = closedServer.address.port;
    await closedServer.close();
    const client = await tcp(undefined, { onError: (e) => errors.push(e) });
    client.send(options(client.address, { host: '127.0.0.1', port: deadPort }), { host: '127.0.0.1', port: deadPort });
    await until(() => errors.length === 1);
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/);
    await until(() => client.connectionCount === 0);
  });
});

function serialize(message: SipMessage): string {
  const lines = [message.kind === 'request' ? `${message.method} ${message.uri} SIP/2.0` : `SIP/2.0 ${message.status} ${message.reason}`];
  for (const { name, value } of message.headers) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${message.body.length}`);
  return `${lines.join('\r\n')}\r\n\r\n${message.body.toString()}`;
}

interface Peer {
  ua: SipUserAgent;
  transport: SipCombinedTransport;
  uri: string;
  sent: Array<{ label: string; via: string; contact: string | undefined; tcp: boolean }>;
}

async function peer(name: string, options: Partial<SipUserAgentOptions> = {}): Promise<Peer> {
  const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });
  const sent: Peer['sent'] = [];
  const tcpSend = transport.tcp.send.bind(transport.tcp);
  const udpSend = transport.udp.send.bind(transport.udp);
  transport.tcp.send = (message, destination) => {
    sent.push({ label: labelOf(message), via: message.headers.get('Via') ?? '', contact: message.headers.get('Contact'), tcp: true });
    tcpSend(message, destination);
  };
  transport.udp.send = (message, destination) => {
    sent.push({ label: labelOf(message), via: message.headers.get('Via') ?? '', contact: message.headers.get('Contact'), tcp: false });
    udpSend(message, destination);
  };
  const { host, port } = transport.address;
  const ua = new SipUserAgent({
    transport,
    address: { host, port },
    contact: `<sip:${name}@${host}:${port};transport=tcp>`,
    onError: (e) => {
      throw e;
    },
    ...options,
  });
  cleanups.push(() => transport.close(), () => ua.close());
  return { ua, transport, uri: `sip:${name}@${host}:${port};transport=tcp`, sent };
}

const aliceMedia = { address: '127.0.0.1', port: 40000, sessionId: '1', sessionVersion: 1 };
const bobMedia = { address: '127.0.0.1', port: 50000, sessionId: '2', sessionVersion: 1 };

describe('SipCombinedTransport', () => {
  it('listens on UDP and TCP on the same port', async () => {
    const transport = await SipCombinedTransport.open();
    cleanups.push(() => transport.close());
    expect(transport.udp.address.port).toBe(transport.tcp.address.port);
    expect(transport.address).toEqual({ host: '127.0.0.1', port: transport.tcp.address.port });
  });

  it('picks the transport from the destination, the next-hop URI and the response Via', () => {
    const req = createRequest('INVITE', 'sip:b@10.0.0.1;transport=TCP');
    expect(nextHopTransport(req)).toBe('tcp');
    req.headers.append('Route', '<sip:proxy@10.0.0.2;lr>');
    expect(nextHopTransport(req)).toBeUndefined();
    expect(nextHopTransport(createRequest('BYE', 'sip:b@10.0.0.1'))).toBeUndefined();
  });

  it('places and answers a call over TCP between two user agents, then BYE', async () => {
    let bobCall: SipCall | undefined;
    const bob = await peer('bob', {
      onInvite: (incoming) => {
        incoming.ringing();
        bobCall = incoming.accept(writeAnswer(bobMedia, rtpAudio(incoming.offer)));
      },
    });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia), timeoutMs: 5000 });
    const answered = await call.next('answered');
    expect(answered.remoteAudio).toMatchObject({ codec: 'PCMU', port: 50000 });
    await until(() => bobCall?.state === 'active');
    const remoteEnd = (bobCall as SipCall).next('ended');
    call.hangup();
    expect(await remoteEnd).toEqual({ by: 'remote', reason: 'bye' });
    await until(() => alice.sent.some((s) => s.label === '200') || bob.sent.at(-1)?.label === '200');

    expect(alice.sent.map((s) => s.label)).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(bob.sent.map((s) => s.label)).toEqual(['100', '180', '200', '200']);
    expect([...alice.sent, ...bob.sent].every((s) => s.tcp)).toBe(true);
    expect(alice.sent.every((s) => s.via.startsWith('SIP/2.0/TCP '))).toBe(true);
    // Bob's responses went back on Alice's connection; his BYE-200 too: one connection each way at most.
    expect(bob.transport.tcp.connectionCount).toBeLessThanOrEqual(2);
    expect(alice.ua.layer.clientTransactionCount + bob.ua.layer.serverTransactionCount).toBeGreaterThanOrEqual(0);
  });

  it('keeps UDP calls on UDP', async () => {
    let bobCall: SipCall | undefined;
    const bob = await peer('bob', {
      contact: undefined,
      onInvite: (incoming) => {
        bobCall = incoming.accept(writeAnswer(bobMedia, rtpAudio(incoming.offer)));
      },
    });
    const alice = await peer('alice', { contact: undefined });
    const to = bob.uri.replace(';transport=tcp', '');
    const call = alice.ua.invite({ to, from: alice.uri, sdpOffer: writeOffer(aliceMedia) });
    await call.next('answered');
    await until(() => bobCall?.state === 'active');
    expect([...alice.sent, ...bob.sent].some((s) => s.tcp)).toBe(false);
    expect(alice.sent[0]?.via).toMatch(/^SIP\/2\.0\/UDP /);
  });

  it('uses TCP when the destination asks for it, with no INVITE retransmission on it', async () => {
    let answer: (() => void) | undefined;
    const bob = await peer('bob', {
      contact: undefined,
      onInvite: (incoming) => {
        answer = () => void incoming.accept(writeAnswer(bobMedia, rtpAudio(incoming.offer)));
      },
    });
    const clock = new ManualTimers();
    const alice = await peer('alice', { timers: clock, contact: undefined });
    const to = bob.uri.replace(';transport=tcp', '');
    const call = alice.ua.invite({
      to,
      from: alice.uri,
      sdpOffer: writeOffer(aliceMedia),
      destination: { ...bob.transport.address, transport: 'tcp' },
    });
    await until(() => answer !== undefined);
    clock.advance(16 * 500); // Timer A would have fired at 0.5, 1.5, 3.5 and 7.5 s on UDP
    expect(alice.sent.filter((s) => s.label === 'INVITE')).toHaveLength(1);
    (answer as () => void)();
    await call.next('answered');
    expect(alice.sent.every((s) => s.tcp)).toBe(true);
    // Default Contacts sent over TCP say so, so in-dialog requests stay on TCP.
    const { host, port } = alice.transport.address;
    expect(alice.sent[0]?.contact).toBe(`<sip:conclave@${host}:${port};transport=tcp>`);
    expect(bob.sent.find((s) => s.label === '200')?.contact).toBe(`<sip:conclave@${host}:${bob.transport.address.port};transport=tcp>`);
  });
});
