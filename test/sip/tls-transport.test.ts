/**
 * SIP over TLS (RFC 3261 §26.2, RFC 5630) between real user agents on 127.0.0.1, with
 * certificates from a throwaway CA made by openssl: a `sips:` call goes over TLS with our Via
 * saying TLS and our Contact naming the TLS port, the BYE reuses the INVITE's connection
 * (RFC 5923-style), a certificate that does not chain to the CA or is for another name is
 * refused before anything is sent — and the call fails at once (a transport error, RFC 3261
 * §17.1.4), moving on to the next server when there is one — and the per-source connection cap
 * holds on TLS too.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uriDestination } from '../../src/sip/dialog/dialog.js';
import { parseNameAddr } from '../../src/sip/header-values.js';
import { topVia, type SipRequest } from '../../src/sip/message.js';
import { writeAnswer, writeOffer } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import { SipCombinedTransport, nextHopTransport, type CombinedTransportOptions } from '../../src/sip/transport/combined-transport.js';
import { createRequest } from '../../src/sip/message.js';
import type { SipDestination } from '../../src/sip/transaction/transport.js';
import type { SipCall } from '../../src/sip/ua/call.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../src/sip/ua/user-agent.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certificates.js';
import { freeTcpPort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

const media = { address: '127.0.0.1', port: 40000, sessionId: '1', sessionVersion: 1 };
const closers: Array<() => Promise<void> | void> = [];
let certs: TestCertificates;

beforeAll(() => {
  certs = makeTestCertificates(['localhost', '127.0.0.1']);
});
afterAll(() => certs.remove());
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Agent {
  ua: SipUserAgent;
  transport: SipCombinedTransport;
  tls: SipDestination;
  invites: Array<{ request: SipRequest; source: SipDestination }>;
  errors: Error[];
}

async function agent(options: Partial<SipUserAgentOptions> = {}, transportOptions: Partial<CombinedTransportOptions> = {}, ca = certs.ca): Promise<Agent> {
  const errors: Error[] = [];
  const transport = await SipCombinedTransport.open({
    host: '127.0.0.1',
    port: 0,
    tls: { port: 0, cert: certs.cert, key: certs.key, ca },
    onError: (error) => errors.push(error),
    ...transportOptions,
  });
  const invites: Agent['invites'] = [];
  const ua = new SipUserAgent({
    transport,
    address: transport.address,
    ...options,
    onInvite: (incoming) => {
      invites.push({ request: incoming.request, source: incoming.source });
      return options.onInvite?.(incoming);
    },
  });
  closers.push(async () => {
    ua.close();
    await transport.close();
  });
  return { ua, transport, tls: transport.tlsAddress!, invites, errors };
}

const answering = (): Partial<SipUserAgentOptions> => ({ onInvite: (incoming) => void incoming.accept(writeAnswer(media, rtpAudio(incoming.offer))) });

function answered(call: SipCall): Promise<boolean> {
  return new Promise((resolve) => {
    call.on('answered', () => resolve(true));
    call.on('failed', () => resolve(false));
  });
}

describe('SIP over TLS', () => {
  it('calls a sips: URI over TLS, with a TLS Via and Contact, and the BYE reuses the connection', async () => {
    const bob = await agent(answering());
    const alice = await agent();
    const call = alice.ua.invite({ to: `sips:bob@127.0.0.1:${bob.tls.port}`, from: 'sips:alice@127.0.0.1', sdpOffer: writeOffer(media) });
    expect(await answered(call)).toBe(true);

    const { request, source } = bob.invites[0]!;
    expect(source.transport).toBe('tls');
    const via = topVia(request)!;
    expect([via.transport, via.port]).toEqual(['TLS', alice.tls.port]);
    // Alice's Contact sends Bob's requests in the dialog to her TLS listener.
    const contact = parseNameAddr(request.headers.get('Contact')!)!.sipUri!;
    expect([contact.port, contact.params.get('transport')]).toEqual([alice.tls.port, 'tls']);
    // Nothing went over plain TCP, and one TLS connection carries the INVITE, the ACK and the BYE.
    expect(alice.transport.tcp.connectionCount).toBe(0);
    let ended = false;
    bob.ua.activeCalls[0]!.on('ended', () => (ended = true));
    call.hangup();
    await until(() => ended, 5_000, 'the BYE over TLS');
    expect(alice.transport.tls!.connectionCount).toBe(1);
    expect(bob.transport.tls!.connectionCount).toBe(1);
    expect([alice.errors, bob.errors]).toEqual([[], []]);
  });

  it('reaches a name that DNS turned into an address: the certificate is checked for the name', async () => {
    const bob = await agent(answering());
    const alice = await agent();
    const call = alice.ua.invite({ to: 'sips:bob@localhost', from: 'sips:alice@127.0.0.1', sdpOffer: writeOffer(media), targets: [{ ...bob.tls, transport: 'tls', serverName: 'localhost' }] });
    expect(await answered(call)).toBe(true);
    call.hangup();
  });

  it('refuses a certificate that does not chain to the CA it trusts, and sends nothing', async () => {
    const bob = await agent(answering());
    const alice = await agent({}, {}, certs.otherCa);
    const call = alice.ua.invite({ to: `sips:bob@127.0.0.1:${bob.tls.port}`, from: 'sips:alice@127.0.0.1', sdpOffer: writeOffer(media) });
    const failed = new Promise<{ status: number }>((resolve) => call.on('failed', resolve));
    const started = Date.now();
    // 503 at once (the default Timer B would take 32 s), with the certificate error reported.
    expect((await failed).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((alice.errors[0] as NodeJS.ErrnoException).code).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    expect(bob.invites).toHaveLength(0);
    expect(alice.transport.tls!.connectionCount).toBe(0);
  });

  it('refuses a certificate for another name, and fails over to the next server', async () => {
    const bob = await agent(answering());
    const carrier = await agent(answering());
    const alice = await agent();
    // The first server's certificate is not for carrier.example: the INVITE moves on to the next (RFC 3263 §4.3).
    const call = alice.ua.invite({
      to: 'sips:bob@carrier.example',
      from: 'sips:alice@127.0.0.1',
      sdpOffer: writeOffer(media),
      targets: [{ ...bob.tls, transport: 'tls' }, { ...carrier.tls, transport: 'tls', serverName: 'localhost' }],
      failoverAfterMs: 30_000,
    });
    expect(await answered(call)).toBe(true);
    expect((alice.errors[0] as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect([bob.invites.length, carrier.invites.length]).toEqual([0, 1]);
    call.hangup();
  });

  it('fails an INVITE at once when its TCP connection is refused (no listener), as TLS does', async () => {
    const closed = await freeTcpPort();
    const alice = await agent();
    const call = alice.ua.invite({ to: `sip:bob@127.0.0.1:${closed};transport=tcp`, from: 'sip:alice@127.0.0.1', sdpOffer: writeOffer(media) });
    const failed = await new Promise<{ status: number }>((resolve) => call.on('failed', resolve));
    expect(failed.status).toBe(503);
    expect((alice.errors[0] as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('tells plain SIP sent to the TLS port as malformed input, not as an error, and closes it', async () => {
    const malformed: Array<{ error: string; closed: boolean }> = [];
    const bob = await agent(answering(), { onMalformed: (error, _source, _answered, closed) => malformed.push({ error, closed }) });
    const socket = connect(bob.tls.port, '127.0.0.1');
    socket.on('error', () => undefined);
    closers.push(() => void socket.destroy());
    socket.write('OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    await until(() => malformed.length === 1, 5_000, 'the failed handshake');
    expect(malformed[0]).toMatchObject({ error: expect.stringMatching(/^TLS handshake failed/), closed: true });
    expect(bob.errors).toEqual([]);
    await until(() => bob.transport.tls!.connectionCount === 0, 5_000, 'the connection to be closed');
  });

  it('caps inbound TLS connections per source before any handshake', async () => {
    const refused: string[] = [];
    const bob = await agent(answering(), { tcp: { maxConnectionsPerSource: 1, onRefused: (_, limit) => refused.push(limit) } });
    const sockets = [connect(bob.tls.port, '127.0.0.1'), connect(bob.tls.port, '127.0.0.1')];
    for (const socket of sockets) socket.on('error', () => undefined); // the refused one is reset
    closers.push(() => sockets.forEach((s) => s.destroy()));
    await until(() => refused.length === 1, 5_000, 'the second connection to be refused');
    expect(refused).toEqual(['source']);
    await until(() => bob.transport.tls!.connectionCount === 1, 5_000, 'one connection kept');
  });

  it('without TLS configured, a sips: target is a transport error', async () => {
    const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });
    closers.push(() => transport.close());
    expect(() => transport.send(createRequest('OPTIONS', 'sips:bob@127.0.0.1'), { host: '127.0.0.1', port: 5061 })).toThrow(/TLS is not configured/);
  });

  it('defaults to port 5061 for sips: and ;transport=tls URIs (RFC 3263 §4.2)', () => {
    expect(uriDestination('sip:b@10.0.0.1;transport=tls')).toEqual({ host: '10.0.0.1', port: 5061 });
    expect(uriDestination('sips:b@10.0.0.1')).toEqual({ host: '10.0.0.1', port: 5061 });
    expect(uriDestination('sip:b@10.0.0.1;transport=tcp')).toEqual({ host: '10.0.0.1', port: 5060 });
  });

  it('takes sips: and ;transport=tls next hops as TLS', () => {
    expect(nextHopTransport(createRequest('BYE', 'sips:b@10.0.0.1'))).toBe('tls');
    expect(nextHopTransport(createRequest('BYE', 'sips:b@10.0.0.1;transport=tcp'))).toBe('tls');
    expect(nextHopTransport(createRequest('BYE', 'sip:b@10.0.0.1;transport=TLS'))).toBe('tls');
  });
});
