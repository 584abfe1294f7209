/**
 * SIP over TLS through Conclave (issue 14 §3, RFC 5630), with certificates from a throwaway CA
 * made by openssl: a phone calls a number at Conclave's `sips:` URI over TLS, the number's TwiML
 * dials another phone's `sips:` URI (Conclave connects over TLS and checks its certificate
 * against CONCLAVE_SIP_TLS_CA), and the two hear each other (RTP is unchanged); a `sips:`
 * name is found by its `_sips._tcp` SRV records (RFC 3263, a dnsmasq started here) and its
 * certificate checked for that name; a `sips:` target is refused when Conclave has no TLS.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../helpers/dnsmasq.js';
import { freeTcpPort } from '../helpers/free-port.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certificates.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';

const NUMBER = '+15005550161';

describe('SIP over TLS', () => {
  let certs: TestCertificates;
  let t: TestApp | undefined;
  let web: Receiver;
  let twiml = '<Response><Hangup/></Response>';
  const phones: SipPhone[] = [];

  beforeAll(() => {
    certs = makeTestCertificates(['127.0.0.1', 'localhost', 'desk.test']);
  });
  afterAll(() => certs.remove());
  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
    await t?.close();
    t = undefined;
    await web.close();
  });

  async function start(tls: boolean, dnsServer?: string): Promise<{ tlsPort: number }> {
    const tlsPort = await freeTcpPort();
    t = await startTestApp('sqlite', {
      sip: true,
      ...(tls ? { sipTls: { port: tlsPort, certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile } } : {}),
      ...(dnsServer ? { sipDnsServers: [dnsServer] } : {}),
    });
    web = await startReceiver((request, response) => answer(response, 200, 'text/xml', request.path.startsWith('/after') ? '<Response><Hangup/></Response>' : twiml));
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` } });
    return { tlsPort };
  }

  async function phone(name: string, hz: number, options: { answer?: boolean } = {}): Promise<SipPhone> {
    const opened = await SipPhone.open(name, hz, { ...options, tls: { cert: certs.cert, key: certs.key, ca: certs.ca } });
    phones.push(opened);
    return opened;
  }

  async function actionRequest(): Promise<ReceivedRequest> {
    for (;;) {
      const found = web.requests.find((r) => r.path.startsWith('/after'));
      if (found) return found;
      await web.received(web.requests.length + 1);
    }
  }

  it('takes a call to sips: over TLS and dials a sips: phone over TLS, and the two hear each other', async () => {
    const { tlsPort } = await start(true);
    const caller = await phone('caller', 600);
    const desk = await phone('desk', 400, { answer: true });
    twiml = `<Response><Dial action="${web.baseUrl}/after"><Sip>${desk.sipsUri}</Sip></Dial></Response>`;

    await caller.dial(`sips:${NUMBER}@127.0.0.1:${tlsPort}`);
    const incoming = await desk.invited;
    // Conclave reached the desk over TLS, and named its TLS listener for the dialog's requests.
    expect(incoming.source.transport).toBe('tls');
    expect(incoming.request.headers.get('Via')).toMatch(new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${tlsPort};`));
    expect(incoming.request.headers.get('Contact')).toContain(`:${tlsPort};transport=tls`);
    expect(web.requests[0]!.params).toMatchObject({ To: NUMBER, CallStatus: 'ringing' });

    expect(await desk.hearsTone(600, 3000)).toBeGreaterThan(3000);
    expect(await caller.hearsTone(400, 3000)).toBeGreaterThan(3000);

    // The desk's BYE goes to the Contact Conclave gave it (its TLS listener); the Dial ends completed.
    desk.call!.hangup();
    expect((await actionRequest()).params).toMatchObject({ DialCallStatus: 'completed' });
    // The action's <Hangup/> ends the caller's call over its TLS connection.
    await caller.ended();
  });

  it('dials sips:desk@desk.test at the target of its _sips._tcp SRV record, its certificate checked for desk.test', async () => {
    const desk = await phone('desk', 400, { answer: true });
    const deskTls = Number(/:(\d+)$/.exec(desk.sipsUri)?.[1]);
    const dns = await startDnsServer({ srv: [{ name: '_sips._tcp.desk.test', target: 'host.desk.test', port: deskTls, priority: 10, weight: 0 }], a: { 'host.desk.test': ['127.0.0.1'] } });
    try {
      await start(true, dns.address);
      await placeCall(t!, 'sim:caller;tone=600', `<Response><Dial action="${web.baseUrl}/after"><Sip>sips:desk@desk.test</Sip></Dial></Response>`);
      const incoming = await desk.invited;
      expect(incoming.source.transport).toBe('tls');
      expect(incoming.request.uri).toBe('sips:desk@desk.test');
      expect(await desk.hearsTone(600, 3000)).toBeGreaterThan(3000);
      desk.call!.hangup();
      expect((await actionRequest()).params).toMatchObject({ DialCallStatus: 'completed' });
    } finally {
      await dns.close();
    }
  });

  it('fails a sips: dial at once when Conclave has no TLS', async () => {
    await start(false);
    const desk = await phone('desk', 400, { answer: true });
    twiml = '<Response><Hangup/></Response>';
    await placeCall(t!, 'sim:caller', `<Response><Dial action="${web.baseUrl}/after"><Sip>${desk.sipsUri}</Sip></Dial></Response>`);
    expect((await actionRequest()).params).toMatchObject({ DialCallStatus: 'failed' });
  });
});
