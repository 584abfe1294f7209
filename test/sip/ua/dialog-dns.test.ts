/**
 * Requests inside a dialog go to a next hop found by DNS (RFC 3263 §4 applies to every request;
 * RFC 3261 §12.2.1.1: the first Route, else the remote target), between real user agents on
 * 127.0.0.1 with a real DNS server (dnsmasq) behind their `resolveTarget`:
 *  - a callee whose 200 OK Contact is `sip:bob@gw1.carrier.test` (no port: SRV says where) gets
 *    the ACK, a re-INVITE and the BYE — also a BYE sent as the user agent closes;
 *  - a caller whose INVITE is Record-Routed through `edge.carrier.test` (NAPTR → SRV → A) gets
 *    the callee's BYE there, with the Route header;
 *  - a Contact DNS does not know: the BYE is reported as not sent and the call still ends here.
 * Nothing listens on the default port 5060 the names would mean without DNS.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sipDestinations } from '../../../src/sip/dns/sip-destinations.js';
import { SipResolver } from '../../../src/sip/dns/sip-resolver.js';
import type { SipRequest } from '../../../src/sip/message.js';
import { writeAnswer, writeOffer } from '../../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../../src/sip/sdp/session-audio.js';
import { SipCombinedTransport } from '../../../src/sip/transport/combined-transport.js';
import type { SipDestination } from '../../../src/sip/transaction/transport.js';
import type { CallEvents, SipCall } from '../../../src/sip/ua/call.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import { startDnsServer, type DnsServer } from '../../helpers/dnsmasq.js';
import { until } from '../../helpers/until.js';

const media = { address: '127.0.0.1', port: 40000, sessionId: '1', sessionVersion: 1 };
const closers: Array<() => Promise<void> | void> = [];
let dns: DnsServer | undefined;
let resolver: SipResolver;

interface Agent {
  ua: SipUserAgent;
  address: SipDestination;
  /** Every request it received, in order. */
  requests: SipRequest[];
  errors: unknown[];
  calls: SipCall[];
}

/** A user agent on `transport` (whose port DNS names) with its in-dialog requests routed through DNS. */
async function agent(transport: SipCombinedTransport, options: Partial<SipUserAgentOptions> = {}): Promise<Agent> {
  const requests: SipRequest[] = [];
  const errors: unknown[] = [];
  const calls: SipCall[] = [];
  const ua = new SipUserAgent({
    transport,
    address: transport.address,
    resolveTarget: (uri) => sipDestinations(resolver, uri),
    onInvite: (incoming) => void calls.push(incoming.accept(writeAnswer(media, rtpAudio(incoming.offer)))),
    onReinvite: (_call, offer) => writeAnswer(media, rtpAudio(offer)),
    onError: (error) => errors.push(error),
    ...options,
  });
  // Tap what arrives, then hand it on to the user agent.
  transport.setMessageHandler((message, source) => {
    if (message.kind === 'request') requests.push(message);
    ua.receive(message, source);
  });
  closers.push(() => ua.close());
  return { ua, address: transport.address, requests, errors, calls };
}

const open = (): Promise<SipCombinedTransport> => SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });

function ended(call: SipCall): Promise<CallEvents['ended']> {
  return new Promise((resolve) => call.once('ended', resolve));
}

function answered(call: SipCall): Promise<void> {
  return new Promise((resolve, reject) => {
    call.once('answered', () => resolve());
    call.once('failed', ({ status }) => reject(new Error(`the call failed: ${status}`)));
  });
}

let bobTransport: SipCombinedTransport;
let aliceTransport: SipCombinedTransport;

beforeAll(async () => {
  bobTransport = await open();
  aliceTransport = await open();
  dns = await startDnsServer({
    naptr: [{ name: 'edge.carrier.test', order: 10, preference: 10, service: 'SIP+D2U', replacement: '_sip._udp.edge.carrier.test' }],
    srv: [
      { name: '_sip._udp.gw1.carrier.test', target: 'gw1-a.carrier.test', port: bobTransport.address.port, priority: 10, weight: 0 },
      { name: '_sip._udp.edge.carrier.test', target: 'edge-a.carrier.test', port: aliceTransport.address.port, priority: 10, weight: 0 },
    ],
    a: { 'gw1-a.carrier.test': ['127.0.0.1'], 'edge-a.carrier.test': ['127.0.0.1'] },
  });
  resolver = new SipResolver({ servers: [dns.address] });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  resolver?.close();
  await dns?.close();
  await bobTransport?.close();
  await aliceTransport?.close();
});

describe('in-dialog requests to host names (RFC 3263 §4)', () => {
  it('the ACK, a re-INVITE and the BYE reach a callee whose Contact is a name SRV resolves', async () => {
    const bob = await agent(bobTransport, { contact: '<sip:bob@gw1.carrier.test>' });
    const alice = await agent(aliceTransport);
    const call = alice.ua.invite({ to: `sip:bob@127.0.0.1:${bob.address.port}`, from: 'sip:alice@127.0.0.1', sdpOffer: writeOffer(media) });
    await answered(call);
    const bobCall = await until(() => bob.calls[0], 5_000, 'the INVITE at bob');
    await until(() => bobCall.state === 'active', 5_000, 'the ACK at bob');

    const reinvite = await call.reinvite(writeOffer({ ...media, sessionVersion: 2 }));
    expect(reinvite.status).toBe(200);

    const bye = ended(bobCall);
    call.hangup();
    expect(await bye).toMatchObject({ by: 'remote' });
    const inDialog = bob.requests.filter((r) => r.method !== 'INVITE' || r.headers.get('To')?.includes('tag='));
    expect(inDialog.map((r) => `${r.method} ${r.uri}`)).toEqual(['ACK sip:bob@gw1.carrier.test', 'INVITE sip:bob@gw1.carrier.test', 'ACK sip:bob@gw1.carrier.test', 'BYE sip:bob@gw1.carrier.test']);
    expect(alice.errors).toEqual([]);
  });

  it('a BYE to a name already resolved leaves at once: hung up and closed in one go (a shutdown), it still arrives', async () => {
    const bob = await agent(bobTransport, { contact: '<sip:bob@gw1.carrier.test>' });
    const alice = await agent(aliceTransport);
    const call = alice.ua.invite({ to: `sip:bob@127.0.0.1:${bob.address.port}`, from: 'sip:alice@127.0.0.1', sdpOffer: writeOffer(media) });
    await answered(call);
    const bobCall = await until(() => bob.calls[0], 5_000, 'the INVITE at bob');
    await until(() => bobCall.state === 'active', 5_000, 'the ACK at bob');
    const bye = ended(bobCall);
    call.hangup();
    alice.ua.close();
    expect(await bye).toMatchObject({ by: 'remote' });
  });

  it("the callee's BYE goes to the caller's Record-Route name, found by NAPTR → SRV → A", async () => {
    const bob = await agent(bobTransport);
    // alice stands behind the edge: her own requests (the ACK) reach bob through it.
    const alice = await agent(aliceTransport, { resolveTarget: () => Promise.resolve([bob.address]) });
    const call = alice.ua.invite({
      to: `sip:bob@127.0.0.1:${bob.address.port}`,
      from: 'sip:alice@127.0.0.1',
      sdpOffer: writeOffer(media),
      headers: [['Record-Route', '<sip:edge.carrier.test;lr>']],
    });
    await answered(call);
    const bobCall = await until(() => bob.calls[0], 5_000, 'the INVITE at bob');
    await until(() => bobCall.state === 'active', 5_000, 'the ACK at bob');
    const bye = ended(call);
    bobCall.hangup();
    expect(await bye).toMatchObject({ by: 'remote' });
    const received = alice.requests.find((r) => r.method === 'BYE');
    expect(received?.headers.getAll('Route')).toEqual(['<sip:edge.carrier.test;lr>']);
    expect(bob.errors).toEqual([]);
  });

  it('a Contact DNS does not know: the BYE is reported as not sent, and the call ends here', async () => {
    const bob = await agent(bobTransport, { contact: '<sip:bob@nowhere.carrier.test>' });
    const alice = await agent(aliceTransport);
    const call = alice.ua.invite({ to: `sip:bob@127.0.0.1:${bob.address.port}`, from: 'sip:alice@127.0.0.1', sdpOffer: writeOffer(media) });
    await answered(call);
    const over = ended(call);
    call.hangup();
    expect(await over).toMatchObject({ by: 'local' });
    const reported = await until(() => alice.errors.find((e) => e instanceof Error && e.message.startsWith('BYE not sent')), 10_000, 'the BYE reported as not sent');
    expect(String(reported)).toMatch(/nowhere\.carrier\.test/);
    expect(bob.requests.some((r) => r.method === 'BYE')).toBe(false);
  });
});
