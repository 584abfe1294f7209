/**
 * Calls end to end, with a real webhook receiver: a call to a simulated endpoint fetches its
 * TwiML (signed so the official library's validateRequest accepts it), joins a conference with
 * `<Dial><Conference>`, reports its progress in order, is kicked and goes on to the Dial's
 * action, and is hung up through the API. Bad TwiML and failing webhooks end the call cleanly.
 */
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';
import { schemaErrors } from '../helpers/twilio-schema.js';
import { until } from '../helpers/until.js';

type Json = Record<string, unknown>;
const xml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;

describe.each(STORE_KINDS)('calls on %s', (kind) => {
  let t: TestApp;
  let web: Receiver;
  let routes: Record<string, (r: ReceivedRequest) => [number, string]>;

  beforeEach(async () => {
    t = await startTestApp(kind);
    routes = {};
    web = await startReceiver((request, response) => {
      const route = routes[request.path.split('?')[0] ?? ''];
      const [status, body] = route ? route(request) : [200, ''];
      answer(response, status, 'text/xml', body);
    });
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const calls = (): string => `/2010-04-01/Accounts/${t.accountSid}/Calls`;
  const signedOk = (r: ReceivedRequest): boolean =>
    twilio.validateRequest(t.authToken, String(r.headers['x-twilio-signature']), r.fullUrl, r.method === 'POST' ? (r.params as Record<string, string>) : {});

  /** Polls the call (a user would) until it has `status`; the test's timeout bounds it. */
  function waitForCall(sid: string, status: string): Promise<Json> {
    return until(async () => {
      const call = (await t.request('GET', `${calls()}/${sid}.json`)).json();
      return call.status === status && call;
    }, 10_000, () => `call ${sid} to be ${status}`);
  }

  it('fetches signed TwiML, joins the conference, reports progress in order, hangs up via the API', async () => {
    routes['/voice'] = () => [200, xml('<Dial><Conference participantLabel="alice" startConferenceOnEnter="true">standup</Conference></Dial>')];
    const joined = t.app.bus.next((e) => e.type === 'join');
    const created = await t.request('POST', `${calls()}.json`, {
      form: {
        To: 'sim:alice',
        From: '+15005550006',
        Url: `${web.baseUrl}/voice`,
        StatusCallback: `${web.baseUrl}/status`,
        StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      },
    });
    expect(created.status).toBe(201);
    const call = created.json();
    expect(call).toMatchObject({ status: 'queued', direction: 'outbound-api', to: 'sim:alice', from: '+15005550006' });
    expect(schemaErrors('api.v2010.account.call', call)).toEqual([]);
    const join = await joined;
    expect('participant' in join && join.participant).toMatchObject({ callSid: call.sid, label: 'alice', status: 'connected' });

    const voice = web.requests.find((r) => r.path === '/voice')!;
    expect(signedOk(voice)).toBe(true);
    expect(voice.params).toMatchObject({ CallSid: call.sid, AccountSid: t.accountSid, From: '+15005550006', To: 'sim:alice', CallStatus: 'in-progress', Direction: 'outbound-api', ApiVersion: '2010-04-01' });

    const cf = join.conference.sid;
    const participant = (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}/Participants/alice.json`)).json();
    expect(participant.call_sid).toBe(call.sid);

    const hung = await t.request('POST', `${calls()}/${call.sid as string}.json`, { form: { Status: 'completed' } });
    expect(hung.json()).toMatchObject({ status: 'completed' });
    expect((await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}.json`)).json()).toMatchObject({
      status: 'completed',
      reason_conference_ended: 'last-participant-left',
    });
    await t.app.callbacks.idle();
    const progress = web.requests.filter((r) => r.path === '/status');
    expect(progress.map((r) => r.params.CallStatus)).toEqual(['queued', 'ringing', 'in-progress', 'completed']);
    expect(progress.map((r) => r.params.SequenceNumber)).toEqual(['0', '1', '2', '3']);
    expect(progress.every(signedOk)).toBe(true);
    expect(progress[3]!.params).toMatchObject({ CallbackSource: 'call-progress-events', CallDuration: expect.any(String) });
  });

  it('a kicked participant goes on to the Dial action with DialCallStatus, then hangs up', async () => {
    routes['/voice'] = () => [200, xml('<Dial action="/after"><Conference>room</Conference></Dial><Say>never reached</Say>')];
    routes['/after'] = () => [200, xml('<Hangup/>')];
    const joined = t.app.bus.next((e) => e.type === 'join');
    const call = (await t.request('POST', `${calls()}.json`, { form: { To: 'sim:bob', From: 'sim:app', Url: `${web.baseUrl}/voice` } })).json();
    const join = await joined;
    const kick = await t.request('DELETE', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${join.conference.sid}/Participants/${call.sid as string}`);
    expect(kick.status).toBe(204);
    const done = await waitForCall(call.sid as string, 'completed');
    expect(done.duration).toEqual(expect.any(String));
    const after = web.requests.find((r) => r.path === '/after')!;
    expect(after.params).toMatchObject({ DialCallStatus: 'completed', CallSid: call.sid });
    expect(signedOk(after)).toBe(true);
  });

  it('inline Twiml works without a webhook; the end of the document ends the call', async () => {
    const call = (await t.request('POST', `${calls()}.json`, { form: { To: 'sim:carol', From: 'sim:app', Twiml: xml('<Pause length="0"/>') } })).json();
    await waitForCall(call.sid as string, 'completed');
  });

  it('a webhook that never answers times out and ends the call', async () => {
    const hanging = await startReceiver(() => undefined);
    try {
      const call = (await t.request('POST', `${calls()}.json`, { form: { To: 'sim:x', From: 'sim:app', Url: `${hanging.baseUrl}/slow` } })).json();
      await waitForCall(call.sid as string, 'completed');
      expect(hanging.requests).toHaveLength(1);
    } finally {
      await hanging.close();
    }
  });

  it('bad TwiML, a 500 without fallback and an unreachable webhook end the call; a fallback is used', async () => {
    routes['/bad'] = () => [200, '<Response><Dial><Conference></Conference></Dial></Response>'];
    routes['/error'] = () => [500, 'oops'];
    routes['/fallback'] = () => [200, xml('<Hangup/>')];
    const make = async (form: Record<string, string>): Promise<string> =>
      ((await t.request('POST', `${calls()}.json`, { form: { To: 'sim:x', From: 'sim:app', ...form } })).json().sid as string);
    const bad = await make({ Url: `${web.baseUrl}/bad` });
    const failing = await make({ Url: `${web.baseUrl}/error` });
    const unreachable = await make({ Url: 'http://127.0.0.1:9/nothing' });
    const fallback = await make({ Url: `${web.baseUrl}/error`, FallbackUrl: `${web.baseUrl}/fallback` });
    for (const sid of [bad, failing, unreachable, fallback]) await waitForCall(sid, 'completed');
    const fb = web.requests.find((r) => r.path === '/fallback')!;
    expect(fb.params).toMatchObject({ ErrorCode: '11200', ErrorUrl: `${web.baseUrl}/error` });
  });

  it('busy, no-answer and failing endpoints end unanswered, with the completed callback', async () => {
    const make = async (to: string): Promise<string> =>
      ((
        await t.request('POST', `${calls()}.json`, {
          form: { To: to, From: 'sim:app', Twiml: xml('<Hangup/>'), Timeout: '5', StatusCallback: `${web.baseUrl}/status` },
        })
      ).json().sid as string);
    const busy = await make('sim:b;busy');
    const failed = await make('sim:f;fail');
    await waitForCall(busy, 'busy');
    await waitForCall(failed, 'failed');
    const ringing = await make('sim:r;ring=30');
    await waitForCall(ringing, 'ringing');
    const canceled = await t.request('POST', `${calls()}/${ringing}.json`, { form: { Status: 'canceled' } });
    expect(canceled.json().status).toBe('canceled');
    await t.app.callbacks.idle();
    expect(web.requests.filter((r) => r.path === '/status').map((r) => r.params.CallStatus).sort()).toEqual(['busy', 'canceled', 'failed']);
  });

  it('refuses what it cannot dial, with Twilio-shaped errors', async () => {
    const refuse = async (form: Record<string, string>, code: number): Promise<void> => {
      const res = await t.request('POST', `${calls()}.json`, { form });
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(res.json().code, JSON.stringify(form)).toBe(code);
    };
    await refuse({ From: 'sim:a', Twiml: xml('') }, 20001);
    await refuse({ To: '+15551234567', From: 'sim:a', Twiml: xml('') }, 21211);
    await refuse({ To: 'sip:bob@exa_mple..com', From: 'sim:a', Twiml: xml('') }, 21211);
    await refuse({ To: 'sip:bob@127.0.0.1', From: 'sim:a', Twiml: xml(''), SipAuthUsername: 'bob' }, 20001);
    await refuse({ To: 'sim:a', From: 'nobody', Twiml: xml('') }, 21212);
    await refuse({ To: 'sim:a', From: 'sim:b' }, 20001);
    await refuse({ To: 'sim:a', From: 'sim:b', Url: 'ftp://x' }, 20001);
  });

  it('the official library drives calls.create and calls(sid).update', async () => {
    const client = twilio(t.accountSid, t.authToken);
    client.api.baseUrl = t.baseUrl;
    const joined = t.app.bus.next((e) => e.type === 'join');
    const call = await client.calls.create({ to: 'sim:dave', from: '+15005550006', twiml: xml('<Dial><Conference>lib</Conference></Dial>') });
    expect(call.status).toBe('queued');
    await joined;
    const ended = await client.calls(call.sid).update({ status: 'completed' });
    expect(ended.status).toBe('completed');
    const listed = await client.calls.list({ to: 'sim:dave' });
    expect(listed.map((c) => c.sid)).toEqual([call.sid]);
  });

  it('a simulated inbound call to a number runs its VoiceUrl; <Reject> leaves it unanswered', async () => {
    const numbers = `/2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers.json`;
    routes['/inbound'] = (r) => [200, r.params.From === 'sim:blocked' ? xml('<Reject reason="busy"/>') : r.params.From === 'sim:nobody' ? xml('<Reject/>') : xml('<Dial><Conference>lobby</Conference></Dial>')];
    const made = await t.request('POST', numbers, { form: { PhoneNumber: '+15005550006', VoiceUrl: `${web.baseUrl}/inbound`, StatusCallback: `${web.baseUrl}/status` } });
    expect(made.status).toBe(201);
    const joined = t.app.bus.next((e) => e.type === 'join');
    const inbound = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls.json`, { form: { From: 'sim:caller', To: '+15005550006' } });
    expect(inbound.status).toBe(201);
    const call = inbound.json();
    expect(call).toMatchObject({ direction: 'inbound', to: '+15005550006', from: 'sim:caller', phone_number_sid: made.json().sid });
    const join = await joined;
    expect(join.conference.friendlyName).toBe('lobby');
    const request = web.requests.find((r) => r.path === '/inbound')!;
    expect(request.params).toMatchObject({ Direction: 'inbound', CallStatus: 'ringing', To: '+15005550006', From: 'sim:caller' });
    expect(signedOk(request)).toBe(true);
    await t.request('POST', `${calls()}/${call.sid as string}.json`, { form: { Status: 'completed' } });

    const busy = (await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls.json`, { form: { From: 'sim:blocked', To: '+15005550006' } })).json();
    const unanswered = (await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls.json`, { form: { From: 'sim:nobody', To: '+15005550006' } })).json();
    expect((await waitForCall(busy.sid as string, 'busy')).start_time).toBeNull();
    await waitForCall(unanswered.sid as string, 'no-answer');
    await t.app.callbacks.idle();
    expect(web.requests.filter((r) => r.path === '/status').map((r) => r.params.CallStatus).sort()).toEqual(['busy', 'completed', 'no-answer']);

    const unknown = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls.json`, { form: { From: 'sim:x', To: '+15005550999' } });
    expect(unknown.status).toBe(404);
    const notSim = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls.json`, { form: { From: '+15551112222', To: '+15005550006' } });
    expect(notSim.status).toBe(400);
  });
});
