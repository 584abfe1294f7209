/**
 * The SIP WebSocket transport alone (RFC 7118), on a plain HTTP server's upgrades with `ws`
 * clients: messages one per frame with their source; responses back on the connection their
 * request came on; requests to a client by its address or the `.invalid` name it wrote (the
 * flow table), a name another live connection holds not taken over; a closed connection's flows
 * gone (sending throws); malformed frames answered 400 and reported; a trusted front's
 * X-Forwarded-For/-Proto believed, anyone else's not; a client that stops answering pings dropped.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRequest, responseTo, type SipMessage, type SipRequest } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parse-message.js';
import { serializeSipMessage } from '../../src/sip/serialize-message.js';
import type { SipDestination } from '../../src/sip/transaction/transport.js';
import { SipWsTransport } from '../../src/sip/transport/ws-transport.js';
import { until } from '../helpers/until.js';

interface Client {
  ws: WebSocket;
  received: SipMessage[];
  /** Every frame as text. */
  frames: string[];
}

describe('SipWsTransport', () => {
  let server: Server;
  let transport: SipWsTransport;
  let url: string;
  let trusted = false;
  const arrived: Array<{ message: SipMessage; source: SipDestination }> = [];
  const malformed: string[] = [];
  const clients: WebSocket[] = [];

  beforeEach(async () => {
    arrived.length = 0;
    malformed.length = 0;
    trusted = false;
    transport = new SipWsTransport({
      pingIntervalMs: 100,
      trustedProxy: (host) => trusted && host === '127.0.0.1',
      onMessage: (message, source) => arrived.push({ message, source }),
      onMalformed: (error) => malformed.push(error),
    });
    server = createServer();
    server.on('upgrade', (request, socket, head) => transport.accept(request, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/sip`;
  });
  afterEach(async () => {
    for (const ws of clients.splice(0)) ws.terminate();
    await transport.close();
    await new Promise((resolve) => server.close(resolve));
  });

  async function connect(headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(url, ['sip'], { headers });
    clients.push(ws);
    const received: SipMessage[] = [];
    const frames: string[] = [];
    ws.on('message', (data: Buffer) => {
      frames.push(data.toString('utf8'));
      const parsed = parseSipMessage(data, { framing: 'datagram' });
      if (parsed.ok) received.push(parsed.message);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, received, frames };
  }

  function options(alias: string, branch: string): SipRequest {
    return createRequest('OPTIONS', 'sip:conclave.example', [
      ['Via', `SIP/2.0/WS ${alias};branch=z9hG4bK${branch}`],
      ['From', `<sip:u@${alias}>;tag=1`],
      ['To', '<sip:conclave.example>'],
      ['Call-ID', `${branch}@${alias}`],
      ['CSeq', '1 OPTIONS'],
      ['Contact', `<sip:u@${alias};transport=ws>`],
    ]);
  }

  /** A request of ours to `uri`. */
  const outgoing = (uri: string, id: string): SipRequest =>
    createRequest('OPTIONS', uri, [
      ['Via', `SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bK${id}`],
      ['From', `<sip:conclave@127.0.0.1>;tag=${id}`],
      ['To', `<${uri}>`],
      ['Call-ID', id],
      ['CSeq', '1 OPTIONS'],
    ]);
  const send = (client: Client, message: SipMessage): void => client.ws.send(serializeSipMessage(message).toString('utf8'));

  it('hands up each frame with its source, answers on the connection, and reaches the client by its address or its .invalid name', async () => {
    const client = await connect();
    send(client, options('abc.invalid', 'one'));
    const { message, source } = await until(() => arrived[0], 5000, 'the OPTIONS');
    expect(source).toMatchObject({ host: '127.0.0.1', transport: 'ws' });
    expect(source.port).toBeGreaterThan(0);

    // The response: whatever destination it is given, back on the request's connection.
    transport.send(responseTo(message as SipRequest, 200), { host: '192.0.2.1', port: 5060 });
    await until(() => client.received.find((m) => m.kind === 'response' && m.status === 200), 5000, 'the 200');

    transport.send(outgoing('sip:u@abc.invalid;transport=ws', 'out1'), { host: 'abc.invalid', port: 5060 });
    transport.send(outgoing(`sip:u@127.0.0.1:${source.port};transport=ws`, 'out2'), { host: '127.0.0.1', port: source.port });
    await until(() => client.received.filter((m) => m.kind === 'request').length === 2, 5000, 'both requests');
    expect(transport.reaches({ host: 'ABC.invalid', port: 5060 })).toBe(true);
    expect(transport.reaches({ host: 'nobody.invalid', port: 5060 })).toBe(false);
  });

  it("keeps a name with the first live connection that wrote it, and forgets a closed connection's flows", async () => {
    const first = await connect();
    const second = await connect();
    send(first, options('shared.invalid', 'a'));
    await until(() => arrived.length === 1, 5000, 'the first OPTIONS');
    send(second, options('shared.invalid', 'b'));
    await until(() => arrived.length === 2, 5000, 'the second OPTIONS');
    transport.send(outgoing('sip:u@shared.invalid;transport=ws', 'x'), { host: 'shared.invalid', port: 5060 });
    await until(() => first.received.some((m) => m.kind === 'request'), 5000, 'the request on the first connection');
    expect(second.received.some((m) => m.kind === 'request')).toBe(false);

    const closed = new Promise((resolve) => first.ws.once('close', resolve));
    first.ws.close();
    await closed;
    await until(() => !transport.reaches({ host: 'shared.invalid', port: 5060 }), 5000, 'the flow gone');
    expect(() => transport.send(outgoing('sip:u@shared.invalid;transport=ws', 'y'), { host: 'shared.invalid', port: 5060 })).toThrow(/connection is gone/);
    expect(transport.connectionCount).toBe(1);
  });

  it('answers a malformed request 400 and reports it; a keep-alive of CRLFs is ignored', async () => {
    const client = await connect();
    client.ws.send('\r\n\r\n');
    client.ws.send('OPTIONS sip:x@a.invalid SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bKbad\r\nFrom: <sip:u@a.invalid>;tag=1\r\nTo: <sip:x@a.invalid>\r\nCall-ID: bad\r\nCSeq: nonsense\r\nMax-Forwards: 70\r\n\r\n');
    await until(() => malformed.length === 1, 5000, 'the malformed frame reported');
    // (Its CSeq copied as it came: the frame is read as text.)
    await until(() => client.frames.find((f) => f.startsWith('SIP/2.0 400 ')), 5000, 'the 400');
    expect(arrived).toHaveLength(0);
  });

  it("believes a trusted front's X-Forwarded-For and X-Forwarded-Proto, and nobody else's", async () => {
    const forwarded = { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9', 'X-Forwarded-Proto': 'https' };
    send(await connect(forwarded), options('spoof.invalid', 'untrusted'));
    const spoofed = await until(() => arrived[0], 5000, 'the OPTIONS through an untrusted peer');
    expect(spoofed.source).toMatchObject({ host: '127.0.0.1', transport: 'ws' });
    trusted = true;
    send(await connect(forwarded), options('front.invalid', 'trusted'));
    const fronted = await until(() => arrived[1], 5000, 'the OPTIONS through the front');
    expect(fronted.source).toMatchObject({ host: '203.0.113.9', transport: 'wss' });
    expect(transport.reaches(fronted.source)).toBe(true);
  });

  it('drops a client that stops answering pings', async () => {
    const client = await connect();
    // Its socket read no more: no pong goes back.
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await until(() => transport.connectionCount === 0, 5000, 'the silent client dropped');
  });
});
