/**
 * Conclave sends the requests inside a call's dialog to host names found by DNS (RFC 3263 §4 for
 * every request, RFC 3261 §12.2.1.1 for the next hop), with CONCLAVE_SIP_DNS_SERVERS naming a
 * real DNS server (dnsmasq):
 *  - a carrier whose 200 OK says `Contact: <sip:gw1.carrier.test>` (its SRV names the port)
 *    gets Conclave's ACK and, when the call is ended over REST, its BYE;
 *  - a carrier whose INVITE is Record-Routed through `edge.carrier.test` (NAPTR → SRV → A) gets
 *    Conclave's BYE there when the TwiML ends the call.
 * Nothing listens on port 5060, where the names would lead without DNS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAnswer, writeOffer } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import type { SipRequest } from '../../src/sip/message.js';
import { SipCombinedTransport } from '../../src/sip/transport/combined-transport.js';
import type { CallEvents, SipCall } from '../../src/sip/ua/call.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../src/sip/ua/user-agent.js';
import { startDnsServer, type DnsServer } from '../helpers/dnsmasq.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type TwimlRoutes } from '../helpers/webhook-receiver.js';
import type { Receiver } from '../helpers/webhook-receiver.js';

const NUMBER = '+15551230042';
const media = { address: '127.0.0.1', port: 40000, sessionId: '1', sessionVersion: 1 };

/** A carrier's SIP user agent on its own UDP port of 127.0.0.1, answering every INVITE. */
class Carrier {
  readonly requests: SipRequest[] = [];
  readonly calls: SipCall[] = [];
  ua: SipUserAgent | undefined;
  private constructor(readonly transport: SipCombinedTransport) {}

  static async open(): Promise<Carrier> {
    return new Carrier(await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 }));
  }

  get port(): number {
    return this.transport.address.port;
  }

  start(options: Partial<SipUserAgentOptions>): SipUserAgent {
    const ua = new SipUserAgent({
      transport: this.transport,
      address: this.transport.address,
      onInvite: (incoming) => void this.calls.push(incoming.accept(writeAnswer(media, rtpAudio(incoming.offer)))),
      ...options,
    });
    this.transport.setMessageHandler((message, source) => {
      if (message.kind === 'request') this.requests.push(message);
      ua.receive(message, source);
    });
    this.ua = ua;
    return ua;
  }

  async close(): Promise<void> {
    this.ua?.close();
    await this.transport.close();
  }
}

function ended(call: SipCall): Promise<CallEvents['ended']> {
  return new Promise((resolve) => call.once('ended', resolve));
}

describe('in-dialog requests to carrier host names (RFC 3263)', () => {
  let dns: DnsServer;
  let gateway: Carrier;
  let edge: Carrier;
  let t: TestApp;
  let web: Receiver;
  let routes: TwimlRoutes;

  beforeAll(async () => {
    gateway = await Carrier.open();
    edge = await Carrier.open();
    dns = await startDnsServer({
      naptr: [{ name: 'edge.carrier.test', order: 10, preference: 10, service: 'SIP+D2U', replacement: '_sip._udp.edge.carrier.test' }],
      srv: [
        { name: '_sip._udp.gw1.carrier.test', target: 'gw1-a.carrier.test', port: gateway.port, priority: 10, weight: 0 },
        { name: '_sip._udp.edge.carrier.test', target: 'edge-a.carrier.test', port: edge.port, priority: 10, weight: 0 },
      ],
      a: { 'gw1-a.carrier.test': ['127.0.0.1'], 'edge-a.carrier.test': ['127.0.0.1'] },
    });
    t = await startTestApp('sqlite', { sip: true, sipDnsServers: [dns.address] });
    ({ web, routes } = await startTwimlApp());
    const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` } });
    expect(res.status, res.body).toBe(201);
  });

  afterAll(async () => {
    await t?.close();
    await web?.close();
    await gateway?.close();
    await edge?.close();
    await dns?.close();
  });

  it("Conclave's ACK and BYE reach a carrier whose 200 OK Contact is a name SRV resolves", async () => {
    gateway.start({ contact: '<sip:carrier@gw1.carrier.test>' });
    const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
      form: { To: `sip:+15559870000@127.0.0.1:${gateway.port}`, From: '+15005550006', Twiml: '<Response><Pause length="30"/></Response>' },
    });
    expect(created.status, created.body).toBe(201);
    const call = await until(() => gateway.calls[0], 10_000, 'the INVITE at the carrier');
    await until(() => call.state === 'active', 10_000, "Conclave's ACK at the carrier");
    const bye = ended(call);
    const completed = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${created.json<{ sid: string }>().sid}.json`, { form: { Status: 'completed' } });
    expect(completed.status, completed.body).toBe(200);
    expect(await bye).toMatchObject({ by: 'remote' });
    expect(gateway.requests.filter((r) => r.method !== 'INVITE').map((r) => `${r.method} ${r.uri}`)).toEqual(['ACK sip:carrier@gw1.carrier.test', 'BYE sip:carrier@gw1.carrier.test']);
  });

  it("Conclave's BYE goes to the Record-Route name of a carrier's call, found by NAPTR → SRV → A", async () => {
    routes.set('/voice', () => '<Response><Pause length="1"/></Response>');
    const sipPort = t.app.sipAddress()!.port;
    // The carrier's own requests (its ACK) go through its edge to Conclave.
    const ua = edge.start({ resolveTarget: () => Promise.resolve([{ host: '127.0.0.1', port: sipPort }]) });
    const call = ua.invite({
      to: `sip:${NUMBER}@127.0.0.1:${sipPort}`,
      from: 'sip:+15559870001@carrier.test',
      contact: `<sip:carrier@127.0.0.1:${edge.port}>`,
      sdpOffer: writeOffer(media),
      headers: [['Record-Route', '<sip:edge.carrier.test;lr>']],
    });
    const bye = ended(call);
    expect(await bye).toMatchObject({ by: 'remote' });
    const received = edge.requests.find((r) => r.method === 'BYE');
    expect(received?.uri).toBe(`sip:carrier@127.0.0.1:${edge.port}`);
    expect(received?.headers.getAll('Route')).toEqual(['<sip:edge.carrier.test;lr>']);
  });
});
