/**
 * Issue 15 §1, the live event stream (`GET /Accounts/{AccountSid}/Events`), read as a client
 * reads it — a real HTTP request streaming Server-Sent Events — from a real Conclave with
 * simulated callers: a conference's events arrive in order with the very parameters its status
 * callbacks carried (a real webhook receiver's), call progress, gathers and recordings as they
 * happen; the CallSid and ConferenceSid filters; Last-Event-ID resumption that loses and
 * repeats nothing, or says `reset`; Basic auth as the rest of the API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventStream, type EventStreamClient, type StreamEvent } from '../helpers/event-stream.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

type Json = Record<string, unknown>;
const ALL_EVENTS = ['start', 'end', 'join', 'leave', 'mute', 'hold', 'modify'];

describe.each(STORE_KINDS)('the live event stream on %s', (kind) => {
  let t: TestApp;
  let web: Receiver;
  const streams: EventStreamClient[] = [];

  beforeEach(async () => {
    t = await startTestApp(kind);
    web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', '<Response><Pause length="30"/></Response>'));
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await t.close();
    await web.close();
  });

  const api = (): string => `/2010-04-01/Accounts/${t.accountSid}`;
  async function open(options: { query?: string; lastEventId?: string; auth?: string; account?: string } = {}): Promise<EventStreamClient> {
    const stream = await openEventStream(t.baseUrl, options.account ?? t.accountSid, { auth: options.auth ?? `${t.accountSid}:${t.authToken}`, ...options });
    streams.push(stream);
    return stream;
  }
  const conferenceEvents = (stream: EventStreamClient): StreamEvent[] => stream.events.filter((e) => e.event === 'conference');
  const described = (events: StreamEvent[]): string[] => events.map((e) => `${e.data.StatusCallbackEvent}${e.data.ParticipantLabel ? `:${e.data.ParticipantLabel}` : ''}`);

  async function dialIn(conference: string, label: string): Promise<Json> {
    const joined = t.app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.label === label);
    const res = await t.request('POST', `${api()}/Conferences/${conference}/Participants.json`, {
      form: { From: '+15005550006', To: `sim:${label}`, Label: label, ConferenceStatusCallback: `${web.baseUrl}/conference`, ConferenceStatusCallbackEvent: ALL_EVENTS },
    });
    expect(res.status, res.body).toBe(201);
    await joined;
    return res.json();
  }

  /** Two callers join, one is muted through the REST API, one leaves, the conference ends. */
  async function conferenceOfTwo(): Promise<{ cf: string; alice: string; bob: string }> {
    const alice = await dialIn('standup', 'alice');
    const cf = alice.conference_sid as string;
    const bob = await dialIn(cf, 'bob');
    expect((await t.request('POST', `${api()}/Conferences/${cf}/Participants/bob.json`, { form: { Muted: 'true' } })).status).toBe(200);
    expect((await t.request('DELETE', `${api()}/Conferences/${cf}/Participants/bob.json`)).status).toBe(204);
    expect((await t.request('POST', `${api()}/Conferences/${cf}.json`, { form: { Status: 'completed' } })).status).toBe(200);
    await t.app.services.calls.idle();
    await t.app.callbacks.idle();
    return { cf, alice: alice.call_sid as string, bob: bob.call_sid as string };
  }

  it('streams a conference of two callers in order, with the parameters of its status callbacks, and every call status move', async () => {
    const stream = await open();
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const { cf, alice, bob } = await conferenceOfTwo();
    await stream.next((e) => e.data.StatusCallbackEvent === 'conference-end', 'conference-end on the stream');
    await stream.next((e) => e.event === 'call' && e.data.CallSid === alice && e.data.CallStatus === 'completed', "Alice's call completed on the stream");

    expect(described(conferenceEvents(stream))).toEqual([
      'participant-join:alice',
      'participant-join:bob',
      'conference-start',
      'participant-mute:bob',
      'participant-leave:bob',
      'participant-leave:alice',
      'conference-end',
    ]);
    // The same parameters as the callbacks, key for key.
    const callbacks = web.requests.filter((r) => r.path === '/conference').map((r) => r.params);
    expect(conferenceEvents(stream).map((e) => e.data)).toEqual(callbacks);
    expect(conferenceEvents(stream).every((e) => e.data.ConferenceSid === cf)).toBe(true);

    // Every status move of each call, in order, as its status callbacks would say them.
    for (const callSid of [alice, bob]) {
      const moves = stream.events.filter((e) => e.event === 'call' && e.data.CallSid === callSid);
      expect(moves.map((e) => e.data.CallStatus)).toEqual(['queued', 'ringing', 'in-progress', 'completed']);
      expect(moves[3]!.data).toMatchObject({ AccountSid: t.accountSid, Direction: 'outbound-api', To: expect.stringMatching(/^sim:/), CallDuration: expect.any(String) });
    }
    // Ids only grow, and are unique.
    const seqs = stream.events.map((e) => Number(e.id!.split('-')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('filters by call and by conference, and resumes with Last-Event-ID losing nothing and repeating nothing', async () => {
    const whole = await open();
    const firstPart = await open();
    const { cf, bob } = await conferenceOfTwo();
    await whole.next((e) => e.data.StatusCallbackEvent === 'conference-end', 'conference-end');

    // A client that dropped after the third event and reconnects with its Last-Event-ID.
    await firstPart.next(() => firstPart.events.length >= 3, 'three events');
    firstPart.close();
    const kept = firstPart.events.slice(0, 3);
    const resumed = await open({ lastEventId: kept[2]!.id! });
    await resumed.next((e) => e.data.StatusCallbackEvent === 'conference-end', 'conference-end after resuming');
    await until(() => resumed.events.length >= whole.events.length - 3, 5000, 'the rest of the events after resuming');
    expect([...kept, ...resumed.events].map((e) => e.id)).toEqual(whole.events.map((e) => e.id));
    expect([...kept, ...resumed.events].map((e) => e.data)).toEqual(whole.events.map((e) => e.data));

    // `?lastEventId=` for clients that cannot set headers, with the filters: only Bob's events.
    const ofBob = await open({ query: `?CallSid=${bob}&lastEventId=${encodeURIComponent(whole.events[0]!.id!)}` });
    const expectedOfBob = whole.events.slice(1).filter((e) => e.data.CallSid === bob);
    await until(() => ofBob.events.length >= expectedOfBob.length, 5000, "Bob's events");
    expect(ofBob.events).toEqual(expectedOfBob);
    expect(described(ofBob.events.filter((e) => e.event === 'conference'))).toEqual(['participant-join:bob', 'participant-mute:bob', 'participant-leave:bob']);

    // A conference filter, live: another conference's events do not come.
    const ofNext = await open({ query: `?ConferenceSid=${cf}` });
    const other = await dialIn('another', 'carol');
    expect((await t.request('POST', `${api()}/Conferences/${other.conference_sid as string}.json`, { form: { Status: 'completed' } })).status).toBe(200);
    await whole.next((e) => e.data.StatusCallbackEvent === 'conference-end' && e.data.ConferenceSid === other.conference_sid, 'the other conference ending');
    expect(ofNext.events).toEqual([]);
  });

  it('says reset when it cannot resume: an id of another run, or a malformed one', async () => {
    for (const lastEventId of ['0123456789ab-5', 'garbage']) {
      const stream = await open({ lastEventId });
      const reset = await stream.next((e) => e.event === 'reset', 'a reset');
      expect(reset.data.Reason).toMatch(/Last-Event-ID/);
      // Its id is where a reconnect goes on from.
      expect(reset.id).toMatch(/^[0-9a-f]{12}-\d+$/);
    }
    const stream = await open();
    const callSid = await placeCall(t, 'sim:x;hangup=0.2', '<Response><Pause length="1"/></Response>');
    await stream.next((e) => e.data.CallSid === callSid && e.data.CallStatus === 'completed', 'the call completed');
    expect(stream.events.some((e) => e.event === 'reset')).toBe(false);
  });

  it('streams gathered digits and recording status moves', async () => {
    const stream = await open();
    const gathering = await placeCall(t, 'sim:keys;dtmf=42;dtmfAt=0.2', `<Response><Gather numDigits="2" action="${web.baseUrl}/gathered"/></Response>`);
    const gathered = await stream.next((e) => e.event === 'gather' && e.data.CallSid === gathering, 'the gather');
    expect(gathered.data).toMatchObject({ Digits: '42', FinishedOnKey: '', AccountSid: t.accountSid, CallStatus: 'in-progress' });

    const res = await t.request('POST', `${api()}/Calls.json`, { form: { To: 'sim:rec;tone=600', From: '+15005550006', Record: 'true', Twiml: '<Response><Pause length="30"/></Response>' } });
    expect(res.status, res.body).toBe(201);
    const recorded = res.json<{ sid: string }>().sid;
    const started = await stream.next((e) => e.event === 'recording' && e.data.CallSid === recorded, 'the recording starting');
    expect(started.data).toMatchObject({ RecordingStatus: 'in-progress', RecordingSid: expect.stringMatching(/^RE/) });
    expect((await t.request('POST', `${api()}/Calls/${recorded}/Recordings/Twilio.CURRENT.json`, { form: { Status: 'paused' } })).status).toBe(200);
    expect((await t.request('POST', `${api()}/Calls/${recorded}.json`, { form: { Status: 'completed' } })).status).toBe(200);
    // Paused at once, it holds no audio: it ends absent, as its status callback would say.
    await stream.next((e) => e.event === 'recording' && ['completed', 'absent'].includes(e.data.RecordingStatus!), 'the recording ended');
    const moves = stream.events.filter((e) => e.event === 'recording').map((e) => e.data.RecordingStatus);
    expect(moves.slice(0, 4)).toEqual(['in-progress', 'paused', 'stopped', 'processing']);
    expect(moves).toHaveLength(5);
  });

  it('asks for credentials as the rest of the API, and a subaccount sees its own', async () => {
    const anonymous = await fetch(`${t.baseUrl}${api()}/Events`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await anonymous.text()).toContain('<Code>20003</Code>');
    const badFilter = await fetch(`${t.baseUrl}${api()}/Events?CallSid=nope`, { headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` } });
    expect(badFilter.status).toBe(400);
    expect(await badFilter.text()).toMatch(/<Code>20001<\/Code>.*Invalid CallSid/s);

    const created = await t.request('POST', '/2010-04-01/Accounts.json', { form: { FriendlyName: 'team' } });
    expect(created.status, created.body).toBe(201);
    const sub = created.json<{ sid: string; auth_token: string }>();
    const refused = await fetch(`${t.baseUrl}${api()}/Events`, { headers: { authorization: `Basic ${Buffer.from(`${sub.sid}:${sub.auth_token}`).toString('base64')}` } });
    expect(refused.status).toBe(401);
    const own = await open({ account: sub.sid, auth: `${sub.sid}:${sub.auth_token}` });
    const ofParent = await open({ account: sub.sid });
    const ownerWide = await open();
    const res = await t.request('POST', `/2010-04-01/Accounts/${sub.sid}/Calls.json`, { form: { To: 'sim:x;hangup=0.2', From: '+15005550006', Twiml: '<Response><Pause length="1"/></Response>' }, auth: `${sub.sid}:${sub.auth_token}` });
    expect(res.status, res.body).toBe(201);
    const callSid = res.json<{ sid: string }>().sid;
    await own.next((e) => e.data.CallSid === callSid && e.data.CallStatus === 'completed', "the subaccount's call on its stream");
    await ofParent.next((e) => e.data.CallSid === callSid && e.data.CallStatus === 'completed', "the subaccount's call on the parent's view of it");
    // The parent's own stream is the parent's account only.
    const mine = await placeCall(t, 'sim:y;hangup=0.2', '<Response><Pause length="1"/></Response>');
    await ownerWide.next((e) => e.data.CallSid === mine && e.data.CallStatus === 'completed', "the owner's call");
    expect(ownerWide.events.some((e) => e.data.CallSid === callSid)).toBe(false);
    expect(own.events.some((e) => e.data.CallSid === mine)).toBe(false);
  });
});
