/**
 * Calls into a SIP Domain (issue 14 §2): an INVITE to `sip:alice@<domain>` is let in by the
 * domain's call mappings — an IP access control list holding the source, or digest credentials
 * of a credential list (407 until they come) — refused 403 with no mapping, and once in runs the
 * domain's VoiceUrl with Twilio's SIP parameters (SipDomain, SipDomainSid, SipCallId,
 * SipSourceIp, SipHeader_X-…).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipPhone } from '../helpers/sip-phone.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver, type TwimlRoutes } from '../helpers/webhook-receiver.js';

const DOMAIN = 'acme.example';
const PASSWORD = 'Correct-Horse-42';

describe('calls into a SIP Domain', () => {
  let t: TestApp;
  let web: Receiver;
  let app: TwimlRoutes;
  let domainSid: string;
  const phones: SipPhone[] = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    ({ web, routes: app } = await startTwimlApp());
    app.set('/voice', () => '<Response><Pause length="5"/></Response>');
    const domain = await post('/SIP/Domains.json', { DomainName: DOMAIN, VoiceUrl: `${web.baseUrl}/voice` });
    domainSid = domain.sid;
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await t.close();
    await web.close();
  });

  async function post(path: string, form: Record<string, string>): Promise<{ sid: string }> {
    const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}${path}`, { form });
    expect(res.status, res.body).toBe(201);
    return res.json<{ sid: string }>();
  }
  async function phone(name: string): Promise<SipPhone> {
    const opened = await SipPhone.open(name, 500);
    phones.push(opened);
    return opened;
  }
  const via = (): { host: string; port: number } => ({ host: '127.0.0.1', port: t.app.sipAddress()!.port });
  const failure = (call: Promise<unknown>): Promise<number> => call.then(() => 200, (error: { status?: number }) => error.status ?? -1);

  it('refuses a call to a domain with no call mapping (403), and never fetches its VoiceUrl', async () => {
    const desk = await phone('desk');
    expect(await failure(desk.dial(`sip:alice@${DOMAIN}`, { via: via() }))).toBe(403);
    expect(web.requests).toEqual([]);
  });

  it('lets in digest credentials of a mapped credential list, after a 407; wrong ones are refused (403)', async () => {
    const list = await post('/SIP/CredentialLists.json', { FriendlyName: 'staff' });
    await post(`/SIP/CredentialLists/${list.sid}/Credentials.json`, { Username: 'bob', Password: PASSWORD });
    await post(`/SIP/Domains/${domainSid}/Auth/Calls/CredentialListMappings.json`, { CredentialListSid: list.sid });

    const intruder = await phone('intruder');
    expect(await failure(intruder.dial(`sip:alice@${DOMAIN}`, { via: via() }))).toBe(407);
    expect(await failure(intruder.dial(`sip:alice@${DOMAIN}`, { via: via(), auth: { username: 'bob', password: 'Wrong-Horse-42' } }))).toBe(403);
    expect(web.requests).toEqual([]);

    const bob = await phone('bob');
    await bob.dial(`sip:alice@${DOMAIN}`, { via: via(), auth: { username: 'bob', password: PASSWORD }, headers: [['X-Tenant', 'acme-7']] });
    const voice = await until(() => web.requests.find((r) => r.path === '/voice'), 10_000, 'the domain VoiceUrl');
    expect(voice.params).toMatchObject({
      To: `sip:alice@${DOMAIN}`,
      Direction: 'inbound',
      SipDomain: DOMAIN,
      SipDomainSid: domainSid,
      SipSourceIp: '127.0.0.1',
      'SipHeader_X-Tenant': 'acme-7',
    });
    expect(String(voice.params.SipCallId)).not.toBe('');
  });

  it('refuses a source that keeps failing at once, while another source still gets in', async () => {
    const list = await post('/SIP/CredentialLists.json', { FriendlyName: 'staff' });
    await post(`/SIP/CredentialLists/${list.sid}/Credentials.json`, { Username: 'bob', Password: PASSWORD });
    await post(`/SIP/Domains/${domainSid}/Auth/Calls/CredentialListMappings.json`, { CredentialListSid: list.sid });
    const scanner = await phone('scanner');
    for (let i = 0; i < 10; i++) {
      expect(await failure(scanner.dial(`sip:alice@${DOMAIN}`, { via: via(), auth: { username: 'bob', password: `Guess-${i}-Horse-42` } }))).toBe(403);
    }
    // Out of budget: refused at once, right password or not.
    expect(await failure(scanner.dial(`sip:alice@${DOMAIN}`, { via: via(), auth: { username: 'bob', password: PASSWORD } }))).toBe(403);
    const bob = await SipPhone.open('bob', 500, { host: '127.0.0.2' });
    phones.push(bob);
    await bob.dial(`sip:alice@${DOMAIN}`, { via: via(), auth: { username: 'bob', password: PASSWORD } });
    await until(() => web.requests.find((r) => r.path === '/voice'), 10_000, 'the domain VoiceUrl');
  });

  it('lets in a source address in a mapped IP access control list without credentials', async () => {
    const acl = await post('/SIP/IpAccessControlLists.json', { FriendlyName: 'office' });
    await post(`/SIP/IpAccessControlLists/${acl.sid}/IpAddresses.json`, { FriendlyName: 'loopback', IpAddress: '127.0.0.0', CidrPrefixLength: '8' });
    await post(`/SIP/Domains/${domainSid}/Auth/Calls/IpAccessControlListMappings.json`, { IpAccessControlListSid: acl.sid });
    const office = await phone('office');
    await office.dial(`sip:carol@${DOMAIN}`, { via: via() });
    const voice = await until(() => web.requests.find((r) => r.path === '/voice'), 10_000, 'the domain VoiceUrl');
    expect(voice.params).toMatchObject({ To: `sip:carol@${DOMAIN}`, SipDomainSid: domainSid });
  });
});

describe('SRTP calls (issue 14 §3)', () => {
  let t: TestApp;
  let web: Receiver;
  let app: TwimlRoutes;
  const phones: SipPhone[] = [];
  const NUMBER = '+15551239999';

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    ({ web, routes: app } = await startTwimlApp());
    app.set('/voice', () => '<Response><Dial><Conference beep="false">secret</Conference></Dial></Response>');
    const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` } });
    expect(res.status).toBe(201);
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await t.close();
    await web.close();
  });

  it('answers an SRTP offer with SRTP, and two SRTP phones hear each other', async () => {
    const uri = `sip:${NUMBER}@127.0.0.1:${t.app.sipAddress()!.port}`;
    const alice = await SipPhone.open('alice', 400, { srtp: true });
    const bob = await SipPhone.open('bob', 600, { srtp: true });
    phones.push(alice, bob);
    await alice.dial(uri);
    await bob.dial(uri);
    expect(await alice.hearsTone(600, 2000)).toBeGreaterThan(2000);
    expect(await bob.hearsTone(400, 2000)).toBeGreaterThan(2000);
    expect(alice.srtpRefused + bob.srtpRefused).toBe(0);
  });

  // Over TLS, a Secure domain takes SRTP and refuses plain RTP (488): sip-secure-media.test.ts.
  it('a Secure domain refuses calls that are not over TLS with 403, SRTP or not', async () => {
    const domain = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/Domains.json`, { form: { DomainName: 'vault.example', VoiceUrl: `${web.baseUrl}/voice`, Secure: 'true' } });
    expect(domain.status, domain.body).toBe(201);
    const acl = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/IpAccessControlLists.json`, { form: { FriendlyName: 'lo' } });
    const aclSid = acl.json<{ sid: string }>().sid;
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/IpAccessControlLists/${aclSid}/IpAddresses.json`, { form: { FriendlyName: 'lo', IpAddress: '127.0.0.1' } });
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/Domains/${domain.json<{ sid: string }>().sid}/Auth/Calls/IpAccessControlListMappings.json`, { form: { IpAccessControlListSid: aclSid } });
    const via = { host: '127.0.0.1', port: t.app.sipAddress()!.port };
    const plain = await SipPhone.open('plain', 400);
    const secure = await SipPhone.open('secure', 400, { srtp: true });
    phones.push(plain, secure);
    const refused = (phone: SipPhone): Promise<number | undefined> => phone.dial('sip:dave@vault.example', { via }).then(() => 200, (error: { status?: number }) => error.status);
    expect(await refused(plain)).toBe(403);
    expect(await refused(secure)).toBe(403);
    expect(web.requests.some((r) => r.params.SipDomain === 'vault.example')).toBe(false);
  });

  it('<Sip>…;secure=true offers SRTP and requires it: an SRTP phone is bridged and heard, a plain one is dropped', async () => {
    const vault = await SipPhone.open('vault', 700, { answer: true, srtp: true });
    const plain = await SipPhone.open('plainjane', 700, { answer: true });
    phones.push(vault, plain);
    const dial = (uri: string, path: string): Promise<unknown> =>
      t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
        form: { To: 'sim:caller;tone=500', From: '+15005550006', Twiml: `<Response><Dial action="${web.baseUrl}${path}"><Sip>${uri};secure=true</Sip></Dial></Response>` },
      });
    await dial(vault.uri, '/vault');
    await vault.invited;
    expect(await vault.hearsTone(500, 2000)).toBeGreaterThan(2000);
    expect(vault.srtpRefused).toBe(0);
    vault.call!.hangup();
    expect((await until(() => web.requests.find((r) => r.path === '/vault'), 10_000, 'the first Dial action')).params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true' });
    await dial(plain.uri, '/plain');
    await plain.invited;
    expect((await until(() => web.requests.find((r) => r.path === '/plain'), 10_000, 'the second Dial action')).params).toMatchObject({ DialCallStatus: 'failed' });
  });
});
