/**
 * Calls to phone numbers through the carrier trunk (issue 14 §4), end to end: the test's SIP
 * phone is the carrier at CONCLAVE_SIP_TRUNK. It answers each first INVITE 407 with a digest
 * challenge and accepts the retry only when its Proxy-Authorization verifies — checked here
 * with node:crypto (RFC 2617 §3.2.2), not with Conclave's digest code. Calls.create, Create
 * Participant and `<Dial><Number>` to an E.164 number ring it with the number in the
 * Request-URI and the caller ID (From, CallerId, `<Dial callerId>`) in From and
 * P-Asserted-Identity (RFC 3325); the carrier hears the call's audio; `TimeLimit` hangs a call
 * up and its status callback says completed with its duration. Without a trunk numbers fail.
 * The trunk reached by name (DNS SRV) is in sip-trunk-dns.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { ownNumber, startTestApp, type TestApp } from '../helpers/test-app.js';
import { startTrunkApp, type TrunkApp } from '../helpers/trunk-app.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const twiml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

const REALM = 'carrier.test';
const TRUNK_USER = 'conclave-trunk';
const TRUNK_PASSWORD = 'trunk-s3cret';

/** What the carrier saw of one call: the challenged INVITE and the one it accepted. */
interface CarrierCall {
  challenged: IncomingCall;
  accepted: IncomingCall;
}

/** The Digest parameters of an Authorization or Proxy-Authorization value. */
function digestParams(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of value.replace(/^Digest\s+/i, '').matchAll(/([a-z0-9-]+)=(?:"([^"]*)"|([^\s,]+))/gi)) params[m[1]!.toLowerCase()] = m[2] ?? m[3]!;
  return params;
}

/** Whether a Proxy-Authorization answers `nonce` with the trunk's password (RFC 2617 §3.2.2, qop=auth). */
function verifies(authorization: string, nonce: string, method: string): boolean {
  const p = digestParams(authorization);
  if (p.username !== TRUNK_USER || p.realm !== REALM || p.nonce !== nonce || p.qop !== 'auth' || !p.uri || !p.cnonce || !p.nc) return false;
  const ha1 = md5(`${TRUNK_USER}:${REALM}:${TRUNK_PASSWORD}`);
  const ha2 = md5(`${method}:${p.uri}`);
  return p.response === md5(`${ha1}:${nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
}

describe('calls to numbers through the carrier trunk', () => {
  let carrier: SipPhone;
  const nonces = new Set<string>();
  /** Every call the carrier accepted, in order, and those it refused for bad credentials. */
  const accepted: CarrierCall[] = [];
  const forbidden: IncomingCall[] = [];
  const challenges = new Map<string, IncomingCall>();
  let t: TrunkApp;
  let request: TestApp['request'];
  let accountSid: string;
  let web: Receiver;
  let calls: string;

  beforeAll(async () => {
    carrier = await SipPhone.open('carrier', 700, {
      onInvite: (incoming, phone) => {
        const authorization = incoming.request.headers.get('Proxy-Authorization');
        if (authorization === undefined) {
          const nonce = randomBytes(12).toString('hex');
          nonces.add(nonce);
          challenges.set(incoming.callId, incoming);
          incoming.reject(407, { headers: [['Proxy-Authenticate', `Digest realm="${REALM}", nonce="${nonce}", algorithm=MD5, qop="auth"`]] });
          return;
        }
        const nonce = digestParams(authorization).nonce ?? '';
        const challenged = challenges.get(incoming.callId);
        if (!challenged || !nonces.has(nonce) || !verifies(authorization, nonce, 'INVITE')) {
          forbidden.push(incoming);
          incoming.reject(403);
          return;
        }
        phone.accept(incoming);
        accepted.push({ challenged, accepted: incoming });
      },
    });
    web = await startReceiver((_request, response) => answer(response, 204, 'text/plain', ''));
    t = await startTrunkApp({ uri: `sip:127.0.0.1:${port(carrier)}`, auth: { username: TRUNK_USER, password: TRUNK_PASSWORD } });
    ({ request, accountSid, calls } = t);
  });
  afterAll(async () => {
    await t?.close();
    await carrier?.close();
    await web?.close();
  });

  function port(phone: SipPhone): number {
    return Number(/:(\d+)$/.exec(phone.uri)?.[1]);
  }

  const status = async (sid: string): Promise<string> => (await request('GET', `${calls}/${sid}.json`)).json<{ status: string }>().status;
  const hangup = (sid: string): Promise<unknown> => request('POST', `${calls}/${sid}.json`, { form: { Status: 'completed' } });

  /** The next call the carrier accepts after `before` were. */
  const nextAccepted = (before: number): Promise<CarrierCall> => until(() => accepted[before], 10_000, 'the carrier to accept a call');

  /** The INVITE's caller ID, as From and P-Asserted-Identity say it. */
  const callerIdOf = (invite: IncomingCall): { from: string | undefined; asserted: string | undefined } => ({
    from: invite.from?.uri,
    asserted: invite.request.headers.get('P-Asserted-Identity'),
  });

  it('Calls.create To=+E.164 rings the carrier with the number, the caller ID and a digest that verifies, and the carrier hears the call', async () => {
    const before = accepted.length;
    const created = await request('POST', `${calls}.json`, {
      form: { To: '+15557654321', From: '+15551230000', Twiml: twiml('<Dial><Number>sim:music;tone=500</Number></Dial>') },
    });
    expect(created.status).toBe(201);
    const sid = created.json<{ sid: string }>().sid;
    const { challenged, accepted: invite } = await nextAccepted(before);
    const requestUri = `sip:+15557654321@127.0.0.1:${port(carrier)};user=phone`;
    expect(challenged.request.uri).toBe(requestUri);
    expect(invite.request.uri).toBe(requestUri);
    expect(invite.to?.uri).toBe(requestUri);
    expect(callerIdOf(invite)).toEqual({ from: 'sip:+15551230000@127.0.0.1;user=phone', asserted: '<sip:+15551230000@127.0.0.1;user=phone>' });
    expect(callerIdOf(challenged)).toEqual(callerIdOf(invite));
    expect(digestParams(invite.request.headers.get('Proxy-Authorization') ?? '')).toMatchObject({ username: TRUNK_USER, uri: requestUri });
    expect(forbidden).toEqual([]);
    await until(async () => (await status(sid)) === 'in-progress', 5_000, 'the call to be answered');
    expect(await carrier.hearsTone(500, 2000)).toBeGreaterThan(2000);
    // Listened for before the hang-up, which may be over by the time the REST call answers.
    const ended = carrier.ended();
    await hangup(sid);
    expect((await ended).by).toBe('remote');
    expect(await status(sid)).toBe('completed');
  });

  it('<Dial callerId><Number> goes out through the trunk with that caller ID', async () => {
    const before = accepted.length;
    const created = await request('POST', `${calls}.json`, {
      form: { To: 'sim:caller;tone=600', From: '+15551230000', Twiml: twiml('<Dial callerId="+15550001111"><Number>+15559998888</Number></Dial>') },
    });
    const { accepted: invite } = await nextAccepted(before);
    expect(invite.request.uri).toBe(`sip:+15559998888@127.0.0.1:${port(carrier)};user=phone`);
    expect(callerIdOf(invite)).toEqual({ from: 'sip:+15550001111@127.0.0.1;user=phone', asserted: '<sip:+15550001111@127.0.0.1;user=phone>' });
    // The carrier hears the caller: the Dial bridged them.
    expect(await carrier.hearsTone(600, 2000)).toBeGreaterThan(2000);
    const sid = created.json<{ sid: string }>().sid;
    const children = await request('GET', `${calls}.json?ParentCallSid=${sid}`);
    expect(children.json<{ calls: Array<{ to: string; from: string; status: string }> }>().calls).toMatchObject([{ to: '+15559998888', from: '+15550001111', status: 'in-progress' }]);
    const ended = carrier.ended();
    await hangup(sid);
    expect((await ended).by).toBe('remote');
  });

  it('Create Participant shows CallerId rather than From, and its TimeLimit hangs the call up: completed, with its duration', async () => {
    const before = accepted.length;
    const created = await request('POST', `/2010-04-01/Accounts/${accountSid}/Conferences/trunk-room/Participants.json`, {
      form: { To: '+15554443333', From: '+15551230000', CallerId: '+15552220000', TimeLimit: '2', StatusCallback: `${web.baseUrl}/status`, StatusCallbackEvent: 'answered completed' },
    });
    expect(created.status).toBe(201);
    const { accepted: invite } = await nextAccepted(before);
    expect(callerIdOf(invite)).toEqual({ from: 'sip:+15552220000@127.0.0.1;user=phone', asserted: '<sip:+15552220000@127.0.0.1;user=phone>' });
    // Conclave hangs up (BYE) when the two seconds are over.
    expect((await carrier.ended()).by).toBe('remote');
    const completed = await until(() => web.requests.find((r) => r.params.CallStatus === 'completed'), 5_000, 'the completed callback');
    const answeredAt = web.requests.find((r) => r.params.CallStatus === 'in-progress');
    expect(answeredAt).toBeDefined();
    expect(completed.params).toMatchObject({ CallSid: created.json<{ call_sid: string }>().call_sid, From: '+15551230000', To: '+15554443333' });
    expect(Number(completed.params.CallDuration)).toBeGreaterThanOrEqual(2);
    expect(Number(completed.params.CallDuration)).toBeLessThanOrEqual(4);
  });

  it('refuses a TimeLimit that is no whole number of seconds from 1 to 86400, and a CallerId that is no endpoint', async () => {
    for (const limit of ['0', '-5', '1.5', 'soon', '86401']) {
      const refused = await request('POST', `${calls}.json`, { form: { To: '+15557654321', From: '+15551230000', TimeLimit: limit, Twiml: twiml('<Hangup/>') } });
      expect(refused.status, limit).toBe(400);
      expect(refused.json<{ message: string }>().message, limit).toMatch(/^Invalid TimeLimit: must be a whole number of seconds from 1 to 86400/);
    }
    const badCallerId = await request('POST', `${calls}.json`, { form: { To: '+15557654321', From: '+15551230000', CallerId: 'not a number', Twiml: twiml('<Hangup/>') } });
    expect(badCallerId.status).toBe(400);
    expect(badCallerId.json()).toMatchObject({ code: 21212 });
    expect(badCallerId.json<{ message: string }>().message).toMatch(/^Invalid 'CallerId': /);
  });
});

describe('numbers without a carrier trunk', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { sip: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('Calls.create to a number is refused with 400 naming the setting, and <Dial><Number> fails its line', async () => {
    const calls = `/2010-04-01/Accounts/${t.accountSid}/Calls`;
    const refused = await t.request('POST', `${calls}.json`, { form: { To: '+15557654321', From: '+15551230000', Twiml: twiml('<Hangup/>') } });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ code: 21211 });
    expect(refused.json<{ message: string }>().message).toMatch(/no carrier trunk .*CONCLAVE_SIP_TRUNK/);

    const created = await t.request('POST', `${calls}.json`, { form: { To: 'sim:caller', From: '+15551230000', Twiml: twiml('<Dial><Number>+15559998888</Number></Dial>') } });
    const sid = created.json<{ sid: string }>().sid;
    const child = await until(async () => {
      const listed = (await t.request('GET', `${calls}.json?ParentCallSid=${sid}`)).json<{ calls: Array<{ status: string }> }>().calls;
      return listed[0]?.status === 'failed' ? listed[0] : undefined;
    }, 5_000, 'the dialled number to fail');
    expect(child).toMatchObject({ to: '+15559998888', status: 'failed' });
  });

  it("a number of the account itself is refused too, pointing to SimulatedCalls to run its VoiceUrl", async () => {
    await ownNumber(t, '+15005550177', 'http://127.0.0.1:9/voice');
    const refused = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, { form: { To: '+15005550177', From: '+15551230000', Twiml: twiml('<Hangup/>') } });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ code: 21211 });
    expect(refused.json<{ message: string }>().message).toMatch(/it is a number of this account: .*SimulatedCalls with From=sim:<name> and To=\+15005550177$/);
  });
});
