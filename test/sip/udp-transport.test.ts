/**
 * SipUdpTransport on loopback (RFC 3261 §18.1.1, §18.2.1): an OPTIONS/200 exchange, through
 * bare transports and through two transaction layers, and 400 answers to malformed requests.
 * Every wait is on an event, never on a sleep.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequest, responseTo, type SipMessage, type SipResponse } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parse-message.js';
import { SipTransactionLayer } from '../../src/sip/transaction/transaction-layer.js';
import { newBranch } from '../../src/sip/transaction/transaction-key.js';
import type { SipDestination } from '../../src/sip/transaction/transport.js';
import { SipUdpTransport } from '../../src/sip/udp-transport.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(onMessage?: (m: SipMessage, s: SipDestination) => void): Promise<SipUdpTransport> {
  const transport = await SipUdpTransport.open(onMessage ? { onMessage } : {});
  cleanups.push(() => transport.close());
  return transport;
}

function options(from: SipDestination, to: SipDestination) {
  return createRequest('OPTIONS', `sip:bridge@${to.host}:${to.port}`, [
    ['Via', `SIP/2.0/UDP ${from.host}:${from.port};rport;branch=${newBranch()}`],
    ['Max-Forwards', '70'],
    ['From', `<sip:probe@${from.host}>;tag=p1`],
    ['To', `<sip:bridge@${to.host}>`],
    ['Call-ID', `${newBranch()}@${from.host}`],
    ['CSeq', '1 OPTIONS'],
  ]);
}

describe('SipUdpTransport', () => {
  it('binds 127.0.0.1 on a free port', async () => {
    const transport = await open();
    expect(transport.address.host).toBe('127.0.0.1');
    expect(transport.address.port).toBeGreaterThan(0);
    expect(transport.reliable).toBe(false);
  });

  it('exchanges OPTIONS and 200 OK between two transports', async () => {
    const server = await open((message, source) => {
      if (message.kind === 'request') server.send(responseTo(message, 200, 'srv'), source);
    });
    const client = await open();
    const answered = new Promise<SipResponse>((resolve) => {
      client.setMessageHandler((m) => m.kind === 'response' && resolve(m));
    });
    client.send(options(client.address, server.address), server.address);
    const response = await answered;
    expect(response.status).toBe(200);
    expect(response.headers.get('To')).toMatch(/;tag=srv$/);
  });

  it('runs a non-INVITE transaction end to end over two transaction layers', async () => {
    const server = await open();
    const serverLayer = new SipTransactionLayer({
      transport: server,
      onRequest: (request, _source, tx) => tx?.respond(responseTo(request, 200, 'srv')),
    });
    server.setMessageHandler((m, s) => serverLayer.receive(m, s));
    const client = await open();
    const clientLayer = new SipTransactionLayer({ transport: client, onRequest: () => {} });
    client.setMessageHandler((m, s) => clientLayer.receive(m, s));
    cleanups.push(() => serverLayer.close(), () => clientLayer.close());

    const final = new Promise<SipResponse>((resolve) => {
      clientLayer.sendRequest(options(client.address, server.address), server.address, (r) => r.status >= 200 && resolve(r));
    });
    const response = await final;
    expect(response.status).toBe(200);
    expect(response.headers.get('Via')).toContain(`rport=${client.address.port}`);
    expect(clientLayer.clientTransactionCount).toBe(1); // in Completed for Timer K
    expect(serverLayer.serverTransactionCount).toBe(1); // in Completed for Timer J
  });

  it('answers a malformed but answerable request with 400, and drops garbage', async () => {
    const malformed: Array<[string, boolean]> = [];
    const server = await SipUdpTransport.open({ onMalformed: (error, _s, answered) => malformed.push([error, answered]) });
    cleanups.push(() => server.close());
    const raw = createSocket('udp4');
    raw.bind(0, '127.0.0.1');
    await once(raw, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => raw.close(() => resolve())));

    const bad = options({ host: '127.0.0.1', port: raw.address().port }, server.address);
    bad.headers.set('CSeq', 'one OPTIONS');
    const text = `OPTIONS ${bad.uri} SIP/2.0\r\n${[...bad.headers].map((h) => `${h.name}: ${h.value}`).join('\r\n')}\r\n\r\n`;
    raw.send('\r\n\r\n', server.address.port, '127.0.0.1'); // keep-alive: ignored
    raw.send(Buffer.from([0xff, 0x00, 0x13]), server.address.port, '127.0.0.1');
    raw.send(text, server.address.port, '127.0.0.1');
    const [datagram] = (await once(raw, 'message')) as [Buffer];
    // The 400 copies the broken CSeq as it was (§8.2.6.2), so a strict parse of it fails too.
    expect(datagram.toString()).toMatch(/^SIP\/2\.0 400 Bad Request \(malformed CSeq\)\r\n/);
    const result = parseSipMessage(datagram);
    expect(!result.ok && result.partial?.status).toBe(400);
    expect(malformed).toEqual([
      ['malformed start line', false],
      ['malformed CSeq', true],
    ]);
  });

  it('refuses to send after close, and close is idempotent', async () => {
    const transport = await SipUdpTransport.open();
    await transport.close();
    await transport.close();
    expect(transport.closed).toBe(true);
    expect(() => transport.send(createRequest('OPTIONS', 'sip:x'), { host: '127.0.0.1', port: 9 })).toThrow(/closed/);
  });
});
