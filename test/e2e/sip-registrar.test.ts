/**
 * Conclave as the registrar of a SIP Domain with `SipRegistration=true` (issue 14 §2, RFC 3261
 * §10.3), with a real phone on UDP: 401 until the digest credentials of a list mapped for
 * registrations come, 403 for someone else's address of record or a domain that is not a
 * registrar, 423 below a minute, bindings listed with their expiry, removed one by one or all
 * with `*`; then a call to `sip:bob@<domain>` (Calls.create, Create Participant) rings bob's
 * registered phone (at the address its REGISTER came from, whatever its Contact says), and one
 * to a user with no binding fails at once with no-answer instead of a DNS lookup or a ring
 * timeout. With several phones registered, a call rings them all at once (sip-fork.ts): the
 * first to answer is bridged (it hears the caller) and the others get CANCEL and answer 487;
 * two that answer at the same moment: one is bridged, the other is ACKed and then BYE'd
 * (RFC 3261 §13.2.2.4); all busy gives DialCallStatus=busy. A phone registered through a proxy
 * (RFC 3327 Path): the 200 echoes the Path to a phone that supports it, and the call goes to the
 * proxy with the Path as its Route set and the phone's Contact, as written, as its Request-URI.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAnswer } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import type { PhoneRegistration } from '../helpers/phone-registration.js';
import { createRegistrarDomain, createResource, registrationOf } from '../helpers/registrar-domain.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver, type TwimlRoutes } from '../helpers/webhook-receiver.js';

const DOMAIN = 'phones.acme.example';
const PASSWORD = 'Correct-Horse-42';
const BOB = { username: 'bob', password: PASSWORD };

describe('Conclave as the registrar of a SIP Domain', () => {
  let t: TestApp;
  let web: Receiver;
  let app: TwimlRoutes;
  const phones: SipPhone[] = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    ({ web, routes: app } = await startTwimlApp());
    await createRegistrarDomain(t, DOMAIN, `${web.baseUrl}/voice`, [BOB, { username: 'alice', password: PASSWORD }]);
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await t.close();
    await web.close();
  });

  const post = (path: string, form: Record<string, string>): Promise<{ sid: string }> => createResource(t, path, form);
  async function phone(name: string, answer = false): Promise<SipPhone> {
    const opened = await SipPhone.open(name, 500, { answer });
    phones.push(opened);
    return opened;
  }
  const registration = (p: SipPhone, aor = `sip:bob@${DOMAIN}`): PhoneRegistration => registrationOf(t, p, aor);
  async function callStatus(sid: string): Promise<string> {
    const res = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`);
    return res.json<{ status: string }>().status;
  }

  it('challenges with 401, refuses wrong credentials and another user, and binds with the right ones', async () => {
    const desk = await phone('bob');
    const reg = registration(desk);
    const bare = await reg.register();
    expect(bare.status).toBe(401);
    // MD5 alone (sip-domain-guard.ts says why), with qop=auth and a signed nonce.
    expect(bare.response.headers.getAll('WWW-Authenticate')).toEqual([expect.stringMatching(/^Digest realm="conclave", nonce="[^"]+", algorithm=MD5, qop="auth"$/)]);
    expect(bare.response.headers.get('Proxy-Authenticate')).toBeUndefined();
    expect((await reg.register({ auth: { username: 'bob', password: 'Wrong-Horse-42' } })).status).toBe(403);
    // Alice's good credentials do not register bob.
    expect((await reg.register({ auth: { username: 'alice', password: PASSWORD } })).status).toBe(403);

    const ok = await reg.register({ auth: BOB, expires: 600 });
    expect(ok.status).toBe(200);
    expect(ok.bindings).toEqual([{ uri: desk.uri, expires: 600 }]);
  });

  it('keeps several contacts with their expiries: 423 below a minute, long ones cut to an hour, removed one by one or all with *', async () => {
    const desk = await phone('bob');
    const reg = registration(desk);
    const brief = await reg.register({ auth: BOB, expires: 30 });
    expect(brief.status).toBe(423);
    expect(brief.response.headers.get('Min-Expires')).toBe('60');

    const soft = 'sip:bob@192.168.77.5:5062';
    const both = await reg.register({ auth: BOB, contacts: [`<${desk.uri}>`, `<${soft}>;expires=120`], expires: 86_400 });
    expect(both.status).toBe(200);
    expect(both.bindings.sort((a, b) => a.expires - b.expires)).toEqual([
      { uri: soft, expires: 120 },
      { uri: desk.uri, expires: 3600 },
    ]);

    const one = await reg.register({ auth: BOB, contacts: [`<${soft}>;expires=0`] });
    expect(one.bindings).toEqual([{ uri: desk.uri, expires: 3600 }]);
    // An empty REGISTER asks what is bound (§10.2.3).
    expect((await reg.register({ auth: BOB, contacts: [] })).bindings).toEqual([{ uri: desk.uri, expires: 3600 }]);
    const none = await reg.unregisterAll(BOB);
    expect(none.status).toBe(200);
    expect(none.bindings).toEqual([]);
  });

  it('refuses REGISTER to a domain that is not a registrar (403) and to any other address (405)', async () => {
    await post('/SIP/Domains.json', { DomainName: 'calls-only.acme.example', VoiceUrl: `${web.baseUrl}/voice` });
    const desk = await phone('bob');
    expect((await registration(desk, 'sip:bob@calls-only.acme.example').register({ auth: BOB })).status).toBe(403);
    expect((await registration(desk, 'sip:bob@nowhere.example').register({ auth: BOB })).status).toBe(405);
  });

  it('rings the registered phone for a call to sip:bob@<domain>, at the address its REGISTER came from', async () => {
    const desk = await phone('bob', true);
    // The phone names an address behind a NAT, which Conclave cannot reach: the call must go to
    // the address and port the REGISTER came from.
    const ok = await registration(desk).register({ auth: BOB, contacts: ['<sip:bob@192.168.77.5:5060>'] });
    expect(ok.status).toBe(200);
    const sid = await placeCall(t, `sip:bob@${DOMAIN}`, '<Response><Pause length="10"/></Response>');
    const incoming = await desk.invited;
    expect(incoming.request.uri).toMatch(/^sip:bob@127\.0\.0\.1:\d+$/);
    await until(async () => (await callStatus(sid)) === 'in-progress', 10_000, 'the call to be answered');
    expect(desk.call?.state).toBe('active');
  });

  it('adds the registered phone to a conference with Create Participant To=sip:bob@<domain>', async () => {
    const desk = await phone('bob', true);
    expect((await registration(desk).register({ auth: BOB })).status).toBe(200);
    await placeCall(t, 'sim:host', '<Response><Dial><Conference beep="false">standup</Conference></Dial></Response>');
    const api = `/2010-04-01/Accounts/${t.accountSid}`;
    const conference = await until(async () => {
      const list = (await t.request('GET', `${api}/Conferences.json?FriendlyName=standup`)).json<{ conferences: Array<{ sid: string }> }>();
      return list.conferences[0];
    }, 10_000, 'the conference');
    const added = await t.request('POST', `${api}/Conferences/${conference.sid}/Participants.json`, { form: { From: '+15005550006', To: `sip:bob@${DOMAIN}`, Label: 'bob' } });
    expect(added.status, added.body).toBe(201);
    await desk.invited;
    await until(async () => {
      const res = await t.request('GET', `${api}/Conferences/${conference.sid}/Participants.json`);
      return res.json<{ participants: Array<{ label: string | null; status: string }> }>().participants.some((p) => p.label === 'bob' && p.status === 'connected');
    }, 10_000, 'bob to be a connected participant');
  });

  it('fails a call to a user with no registration at once: Calls.create no-answer, <Dial><Sip> DialCallStatus=no-answer', async () => {
    const started = Date.now();
    const sid = await placeCall(t, `sip:carol@${DOMAIN}`, '<Response><Pause length="10"/></Response>');
    await until(async () => (await callStatus(sid)) === 'no-answer', 5_000, 'the call to fail with no-answer');

    app.set('/after', () => '<Response><Hangup/></Response>');
    await placeCall(t, 'sim:caller', `<Response><Dial timeout="30" action="${web.baseUrl}/after"><Sip>sip:carol@${DOMAIN}</Sip></Dial></Response>`);
    const after = await until(() => web.requests.find((r) => r.path === '/after'), 5_000, 'the Dial action');
    expect(after.params).toMatchObject({ DialCallStatus: 'no-answer' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
  it('throttles a flood of bad REGISTERs from one source while a good phone elsewhere still registers', async () => {
    const scanner = registration(await phone('bob'));
    for (let i = 0; i < 10; i++) expect((await scanner.register({ auth: { username: 'bob', password: `Guess-${i}-Horse-42` } })).status).toBe(403);
    // A quiet second later the REGISTER rate limit (20 a second a source) has room again, but the
    // failure budget (one every 6 s) has not: refused at once, even with the right password.
    const since = Date.now();
    await until(() => Date.now() - since > 1500, 3000, 'a quiet second and a half', 100);
    expect((await scanner.register({ auth: BOB })).status).toBe(403);
    const elsewhere = await SipPhone.open('bob', 500, { host: '127.0.0.2' });
    phones.push(elsewhere);
    expect((await registration(elsewhere).register({ auth: BOB })).status).toBe(200);
  });

  describe('with several phones, or one behind a proxy (Path)', () => {
    beforeEach(() => app.set('/after', () => '<Response><Hangup/></Response>'));

    /** A phone of bob's, registered with Conclave. */
    async function registeredPhone(): Promise<SipPhone> {
      const opened = await phone('bob');
      expect((await registration(opened).register({ auth: BOB })).status).toBe(200);
      return opened;
    }
    const dialBob = (): Promise<string> =>
      placeCall(t, 'sim:caller;tone=600', `<Response><Dial timeout="20" action="${web.baseUrl}/after"><Sip>sip:bob@${DOMAIN}</Sip></Dial></Response>`);
    const dialAction = () => until(() => web.requests.find((r) => r.path === '/after'), 10_000, 'the Dial action');
    const cancelled = (incoming: IncomingCall): Promise<void> =>
      new Promise((resolve) => (incoming.state === 'cancelled' ? resolve() : incoming.on('cancel', () => resolve())));

    it('<Dial><Sip> rings both phones; the first to answer hears the caller, the other gets CANCEL and answers 487', async () => {
      const desk = await registeredPhone();
      const soft = await registeredPhone();
      await dialBob();
      const [atDesk, atSoft] = await Promise.all([desk.invited, soft.invited]);
      atDesk.ringing();
      atSoft.ringing();
      const softCancelled = cancelled(atSoft);
      desk.accept(atDesk);
      await softCancelled;
      expect(atSoft.state).toBe('cancelled');
      expect(soft.call).toBeUndefined();
      expect(await desk.hearsTone(600, 3000)).toBeGreaterThan(3000);

      desk.call!.hangup();
      expect((await dialAction()).params).toMatchObject({ DialCallStatus: 'completed' });
    });

    it('Calls.create To=sip:bob@<domain> forks too: the second phone answers, the first is cancelled', async () => {
      const desk = await registeredPhone();
      const soft = await registeredPhone();
      const sid = await placeCall(t, `sip:bob@${DOMAIN}`, '<Response><Pause length="20"/></Response>');
      const [atDesk, atSoft] = await Promise.all([desk.invited, soft.invited]);
      // Both INVITEs carry the one offer of the call's one RTP leg.
      expect(rtpAudio(atDesk.offer).port).toBe(rtpAudio(atSoft.offer).port);
      atDesk.ringing();
      const deskCancelled = cancelled(atDesk);
      soft.accept(atSoft);
      await deskCancelled;
      await until(async () => (await callStatus(sid)) === 'in-progress', 10_000, 'the call to be answered');
      await until(() => soft.call?.state === 'active', 5_000, 'the phone that answered to be ACKed');
    });

    it('two phones answering at once: one is bridged, the other is ACKed and then BYE’d', async () => {
      const desk = await registeredPhone();
      const soft = await registeredPhone();
      await dialBob();
      const [atDesk, atSoft] = await Promise.all([desk.invited, soft.invited]);
      const deskCall = desk.accept(atDesk);
      const softCall = soft.accept(atSoft);
      const acked = new Set<SipPhone>();
      deskCall.on('confirmed', () => acked.add(desk));
      softCall.on('confirmed', () => acked.add(soft));
      // The one that lost: its 200 is ACKed (end to end, §13.2.2.4) and then it is hung up with BYE.
      const loser = await Promise.race([deskCall.next('ended').then((e) => ({ phone: desk, e })), softCall.next('ended').then((e) => ({ phone: soft, e }))]);
      const winner = loser.phone === desk ? soft : desk;
      expect(loser.e.by).toBe('remote');
      expect(acked).toContain(loser.phone);
      expect(winner.call?.state).toBe('active');
      expect(await winner.hearsTone(600, 3000)).toBeGreaterThan(3000);
    });

    it('the Dial timeout cancels every phone (DialCallStatus=no-answer), and so does the REST API cancelling a forked call', async () => {
      const desk = await registeredPhone();
      const soft = await registeredPhone();
      await placeCall(t, 'sim:caller', `<Response><Dial timeout="5" action="${web.baseUrl}/after"><Sip>sip:bob@${DOMAIN}</Sip></Dial></Response>`);
      const [atDesk, atSoft] = await Promise.all([desk.invited, soft.invited]);
      atDesk.ringing();
      atSoft.ringing();
      await Promise.all([cancelled(atDesk), cancelled(atSoft)]);
      expect((await dialAction()).params).toMatchObject({ DialCallStatus: 'no-answer' });

      const deskAgain = await registeredPhone();
      const softAgain = await registeredPhone();
      const sid = await placeCall(t, `sip:bob@${DOMAIN}`, '<Response><Pause length="5"/></Response>');
      // Four bindings now (the first two are still registered and ring too, unanswered).
      const ringing = await Promise.all([deskAgain.invited, softAgain.invited]);
      for (const incoming of ringing) incoming.ringing();
      const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`, { form: { Status: 'canceled' } });
      expect(res.status, res.body).toBe(200);
      await Promise.all(ringing.map(cancelled));
      await until(async () => (await callStatus(sid)) === 'canceled', 5_000, 'the call to be canceled');
    });

    it('<Sip>sip:bob@<domain>;secure=true requires SRTP of every phone: a plain one that answers is hung up, the SRTP one rings on and is bridged', async () => {
      const plain = await registeredPhone();
      const secure = await SipPhone.open('bob', 500, { srtp: true });
      phones.push(secure);
      expect((await registration(secure).register({ auth: BOB })).status).toBe(200);
      await placeCall(t, 'sim:caller;tone=600', `<Response><Dial timeout="20" action="${web.baseUrl}/after"><Sip>sip:bob@${DOMAIN};secure=true</Sip></Dial></Response>`);
      const [atPlain, atSecure] = await Promise.all([plain.invited, secure.invited]);
      expect(rtpAudio(atPlain.offer).crypto).toBeDefined();
      atSecure.ringing();
      // A phone that cannot do SRTP answers the SRTP offer with plain RTP.
      const plainCall = atPlain.accept(writeAnswer({ address: '127.0.0.1', port: 40_000, sessionId: '1', sessionVersion: 1 }, { ...rtpAudio(atPlain.offer), crypto: undefined }));
      expect((await plainCall.next('ended')).by).toBe('remote');
      expect(atSecure.state).toBe('pending');
      secure.accept(atSecure);
      expect(await secure.hearsTone(600, 3000)).toBeGreaterThan(3000);
      expect(secure.srtpRefused).toBe(0);
    });

    it('all phones busy: DialCallStatus=busy', async () => {
      const desk = await registeredPhone();
      const soft = await registeredPhone();
      await dialBob();
      const [atDesk, atSoft] = await Promise.all([desk.invited, soft.invited]);
      atDesk.reject(486);
      atSoft.reject(486);
      expect((await dialAction()).params).toMatchObject({ DialCallStatus: 'busy' });
    });

    it('a phone registered through a proxy (Path): the 200 echoes the Path, and the call goes to the proxy with Route set to it', async () => {
      const edge = await phone('edge');
      const hop = `<${edge.uri.replace(/^sip:edge@/, 'sip:')};lr>`;
      const bob = registration(await phone('bob'));
      // The Contact names a private address; behind a Path that is what the INVITE asks for (the proxy reaches it).
      const contact = 'sip:bob@192.168.77.5:5060';
      const ok = await bob.register({ auth: BOB, contacts: [`<${contact}>`], headers: [['Path', hop], ['Supported', 'path']] });
      expect(ok.status).toBe(200);
      expect(ok.response.headers.getAll('Path')).toEqual([hop]);
      // A phone that does not say it supports Path is not shown it (RFC 3327 §5.3), and `Require: path` is understood.
      const quiet = await bob.register({ auth: BOB, contacts: [`<${contact}>`], headers: [['Path', hop], ['Require', 'path']] });
      expect(quiet.status).toBe(200);
      expect(quiet.response.headers.getAll('Path')).toEqual([]);

      const sid = await placeCall(t, `sip:bob@${DOMAIN}`, '<Response><Pause length="10"/></Response>');
      const atEdge = await edge.invited;
      expect(atEdge.request.uri).toBe(contact);
      expect(atEdge.request.headers.getAll('Route')).toEqual([hop]);
      atEdge.reject(486);
      await until(async () => (await callStatus(sid)) === 'busy', 10_000, 'the call to end busy');
    });

    it('refuses a Path whose first hop is not where the REGISTER came from (403)', async () => {
      const elsewhere = await SipPhone.open('bob', null, { host: '127.0.0.2' });
      phones.push(elsewhere);
      const answer = await registration(elsewhere).register({ auth: BOB, headers: [['Path', '<sip:127.0.0.1:5999;lr>']] });
      expect(answer.status).toBe(403);
    });

    it('refuses a REGISTER that requires an extension other than path (420)', async () => {
      const answer = await registration(await phone('bob')).register({ auth: BOB, headers: [['Require', 'path, gruu']] });
      expect(answer.status).toBe(420);
      expect(answer.response.headers.get('Unsupported')).toBe('gruu');
    });
  });
});
