/**
 * Twilio's Secure Media on SIP Domains (issue 14 §3): a domain with `Secure=true` takes calls
 * over TLS with SRTP only — two such phones meet in its conference and hear each other; plain
 * RTP over TLS is refused 488, SRTP over UDP 403 (TLS required). A domain without it takes plain
 * RTP and refuses SRTP with 488, as Twilio does. Phones are the SIP test phone over real TLS,
 * with certificates from a throwaway CA that name the domain.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../helpers/free-port.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certificates.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver } from '../helpers/webhook-receiver.js';

const SECURE = 'vault.test';
const PLAIN = 'open.test';

describe('Secure Media on SIP Domains', () => {
  let certs: TestCertificates;
  let t: TestApp;
  let web: Receiver;
  let tlsPort: number;
  const phones: SipPhone[] = [];

  beforeAll(async () => {
    certs = makeTestCertificates(['127.0.0.1', SECURE, PLAIN]);
    tlsPort = await freeTcpPort();
    t = await startTestApp('sqlite', { sip: true, sipTls: { port: tlsPort, certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile } });
    const twiml = await startTwimlApp();
    web = twiml.web;
    twiml.routes.set('/voice', () => '<Response><Dial><Conference beep="false">vault</Conference></Dial></Response>');
    const post = async (path: string, form: Record<string, string>): Promise<string> => {
      const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}${path}`, { form });
      expect(res.status, res.body).toBe(201);
      return res.json<{ sid: string }>().sid;
    };
    const acl = await post('/SIP/IpAccessControlLists.json', { FriendlyName: 'lo' });
    await post(`/SIP/IpAccessControlLists/${acl}/IpAddresses.json`, { FriendlyName: 'lo', IpAddress: '127.0.0.1' });
    for (const [name, secure] of [[SECURE, 'true'], [PLAIN, 'false']] as const) {
      const domain = await post('/SIP/Domains.json', { DomainName: name, VoiceUrl: `${web.baseUrl}/voice`, Secure: secure });
      await post(`/SIP/Domains/${domain}/Auth/Calls/IpAccessControlListMappings.json`, { IpAccessControlListSid: acl });
    }
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await t?.close();
    await web?.close();
    certs?.remove();
  });

  async function phone(name: string, hz: number, srtp: boolean): Promise<SipPhone> {
    const opened = await SipPhone.open(name, hz, { srtp, tls: { cert: certs.cert, key: certs.key, ca: certs.ca } });
    phones.push(opened);
    return opened;
  }

  /** The status the call ends with: 200 when answered, else the refusal. */
  const status = (call: Promise<unknown>): Promise<number | undefined> => call.then(() => 200, (error: { status?: number }) => error.status);
  const sipPort = (): number => t.app.sipAddress()!.port;
  /** Over TLS: a sips: Request-URI (the certificate names the domain), sent to Conclave's TLS port. */
  const overTls = (p: SipPhone, user: string, domain: string): Promise<unknown> => p.dial(`sips:${user}@${domain}`, { via: { host: '127.0.0.1', port: tlsPort } });
  const overUdp = (p: SipPhone, user: string, domain: string): Promise<unknown> => p.dial(`sip:${user}@${domain}`, { via: { host: '127.0.0.1', port: sipPort() } });

  it('a Secure domain takes SRTP over TLS: two phones meet in its conference and hear each other', async () => {
    const alice = await phone('alice', 400, true);
    const bob = await phone('bob', 600, true);
    await overTls(alice, 'alice', SECURE);
    await overTls(bob, 'bob', SECURE);
    expect(await alice.hearsTone(600, 2000)).toBeGreaterThan(2000);
    expect(await bob.hearsTone(400, 2000)).toBeGreaterThan(2000);
    expect(alice.srtpRefused + bob.srtpRefused).toBe(0);
  });

  it('a Secure domain refuses plain RTP over TLS with 488, and SRTP over UDP with 403 before asking its webhook', async () => {
    const before = web.requests.length;
    expect(await status(overTls(await phone('plain', 400, false), 'plain', SECURE))).toBe(488);
    expect(await status(overUdp(await phone('udp', 400, true), 'udp', SECURE))).toBe(403);
    expect(web.requests.length).toBe(before);
  });

  it('a domain without Secure takes plain RTP and refuses SRTP with 488', async () => {
    expect(await status(overUdp(await phone('srtp', 400, true), 'srtp', PLAIN))).toBe(488);
    await overUdp(await phone('plain', 400, false), 'plain', PLAIN);
    await until(() => web.requests.find((r) => r.params.SipDomain === PLAIN), 10_000, 'the plain domain VoiceUrl');
  });
});
