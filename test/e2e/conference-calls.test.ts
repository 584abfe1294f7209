/**
 * A conference of simulated participants, end to end over HTTP with a real webhook receiver:
 * participants dialled in with Create Participant (queued → ringing → connected), taken
 * through mute, hold, kick, end-on-exit and `Status=completed`, with every conference status
 * callback asserted in order and signed; the official library drives participants.create and
 * conferences(...).update.
 */
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/until.js';

type Json = Record<string, unknown>;
const ALL_EVENTS = ['start', 'end', 'join', 'leave', 'mute', 'hold', 'modify', 'announcement'];

describe.each(STORE_KINDS)('conference calls on %s', (kind) => {
  let t: TestApp;
  let web: Receiver;

  beforeEach(async () => {
    t = await startTestApp(kind);
    web = await startReceiver((_request, response) => answer(response, 204, 'text/plain', ''));
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const participants = (cf: string): string => `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}/Participants`;
  const signedOk = (r: ReceivedRequest): boolean =>
    twilio.validateRequest(t.authToken, String(r.headers['x-twilio-signature']), r.fullUrl, r.method === 'POST' ? (r.params as Record<string, string>) : {});
  /** Waits for the receiver to get a request to `path`. */
  async function requested(path: string): Promise<ReceivedRequest> {
    for (;;) {
      const found = web.requests.find((r) => r.path.split('?')[0] === path);
      if (found) return found;
      await web.received(web.requests.length + 1);
    }
  }
  const conferenceEvents = (): ReceivedRequest[] => web.requests.filter((r) => r.path === '/conference');
  const described = (): string[] =>
    conferenceEvents().map((r) => `${r.params.StatusCallbackEvent as string}${r.params.ParticipantLabel ? `:${r.params.ParticipantLabel as string}` : ''}`);

  async function dialIn(conference: string, label: string, extra: Record<string, string | string[]> = {}): Promise<Json> {
    const joined = t.app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.label === label);
    const res = await t.request('POST', `${participants(conference)}.json`, {
      form: {
        From: '+15005550006',
        To: `sim:${label}`,
        Label: label,
        ConferenceStatusCallback: `${web.baseUrl}/conference`,
        ConferenceStatusCallbackEvent: ALL_EVENTS,
        ...extra,
      },
    });
    expect(res.status, res.body).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ status: 'queued', label, queue_time: '0' });
    await joined;
    return created;
  }

  it('three participants through mute, hold, kick and end-on-exit, every callback in order', async () => {
    const alice = await dialIn('standup', 'alice', { EndConferenceOnExit: 'true', StartConferenceOnEnter: 'false' });
    const cf = alice.conference_sid as string;
    const waiting = (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}.json`)).json();
    expect(waiting.status).toBe('init');
    await dialIn(cf, 'bob');
    await dialIn('standup', 'carol');
    expect((await t.request('GET', `${participants(cf)}/alice.json`)).json().status).toBe('connected');

    await t.request('POST', `${participants(cf)}/bob.json`, { form: { Muted: 'true' } });
    await t.request('POST', `${participants(cf)}/bob.json`, { form: { Muted: 'false' } });
    await t.request('POST', `${participants(cf)}/carol.json`, { form: { Hold: 'true' } });
    await t.request('POST', `${participants(cf)}/carol.json`, { form: { Hold: 'false' } });
    await t.request('POST', `${participants(cf)}/carol.json`, { form: { CallSidToCoach: alice.call_sid as string } });
    expect((await t.request('DELETE', `${participants(cf)}/bob.json`)).status).toBe(204);
    // The kick hangs Bob's call up: its resource says so a moment after the 204 (the call's
    // session ends on the leave event), as a user polling it would see.
    const bobStatus = async (): Promise<unknown> => ((await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls.json?To=sim:bob`)).json().calls as Json[])[0]?.status;
    await until(async () => (await bobStatus()) === 'completed', 5000, "Bob's call to be completed");
    // Alice has endConferenceOnExit: hanging her call up ends the conference for carol too.
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${alice.call_sid as string}.json`, { form: { Status: 'completed' } });
    await t.app.services.calls.idle();
    await t.app.callbacks.idle();

    expect(described()).toEqual([
      'participant-join:alice',
      'participant-join:bob',
      'conference-start',
      'participant-join:carol',
      'participant-mute:bob',
      'participant-unmute:bob',
      'participant-hold:carol',
      'participant-unhold:carol',
      'participant-modify:carol',
      'participant-leave:bob',
      'participant-leave:alice',
      'participant-leave:carol',
      'conference-end',
    ]);
    const events = conferenceEvents();
    expect(events.map((r) => r.params.SequenceNumber)).toEqual(events.map((_, i) => String(i + 1)));
    expect(events.every(signedOk)).toBe(true);
    expect(events.every((r) => r.params.ConferenceSid === cf && r.params.FriendlyName === 'standup')).toBe(true);
    const mute = events.find((r) => r.params.StatusCallbackEvent === 'participant-mute')!;
    expect(mute.params).toMatchObject({ Muted: 'true', Hold: 'false', CallSid: expect.stringMatching(/^CA/) });
    const end = events.at(-1)!;
    expect(end.params).toMatchObject({
      ReasonConferenceEnded: 'participant-with-end-conference-on-exit-left',
      CallSidEndingConference: alice.call_sid,
      ParticipantLabelEndingConference: 'alice',
      Reason: `Participant ${alice.call_sid as string} with endConferenceOnExit left the conference`,
    });
    const leave = (label: string): Record<string, unknown> => events.find((r) => r.params.StatusCallbackEvent === 'participant-leave' && r.params.ParticipantLabel === label)!.params;
    // Kicked: removed through the API; a Create Participant call has no TwiML to go on with.
    expect(leave('bob')).toMatchObject({ ReasonParticipantLeft: 'participant_updated_via_api', ParticipantCallStatus: 'completed' });
    // Alice's call was hung up through the Calls API; Carol leaves because the moderator did.
    expect(leave('alice')).toMatchObject({ ReasonParticipantLeft: 'participant_updated_via_api', ParticipantCallStatus: 'completed' });
    expect(leave('carol')).toMatchObject({ ReasonParticipantLeft: 'moderator_ended_conference', ParticipantCallStatus: 'completed' });
  });

  it('a dialled participant that does not answer is removed; one that rings is listed as ringing', async () => {
    await dialIn('room', 'host');
    const cf = ((await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Conferences.json?FriendlyName=room`)).json().conferences as Json[])[0]!.sid as string;
    const busy = await t.request('POST', `${participants(cf)}.json`, { form: { From: 'sim:app', To: 'sim:x;busy', Label: 'busy' } });
    expect(busy.status).toBe(201);
    const ringing = await t.request('POST', `${participants(cf)}.json`, { form: { From: 'sim:app', To: 'sim:slow;ring=30', Label: 'slow' } });
    const list = await until(async () => {
      const labels = ((await t.request('GET', `${participants(cf)}.json`)).json().participants as Json[]).map((p) => `${p.label as string}:${p.status as string}`);
      return !labels.includes('busy:queued') && !labels.includes('busy:ringing') && labels.includes('slow:ringing') && labels;
    });
    expect(list).toEqual(['host:connected', 'slow:ringing']);
    const canceled = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${ringing.json().call_sid as string}.json`, { form: { Status: 'canceled' } });
    expect(canceled.json().status).toBe('canceled');
    const left = ((await t.request('GET', `${participants(cf)}.json`)).json().participants as Json[]).map((p) => p.label);
    expect(left).toEqual(['host']);
    // Removing one that still rings cancels its call.
    const later = await t.request('POST', `${participants(cf)}.json`, { form: { From: 'sim:app', To: 'sim:later;ring=30', Label: 'later' } });
    expect((await t.request('DELETE', `${participants(cf)}/later.json`)).status).toBe(204);
    expect((await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${later.json().call_sid as string}.json`)).json().status).toBe('canceled');
    expect(((await t.request('GET', `${participants(cf)}.json`)).json().participants as Json[]).map((p) => p.label)).toEqual(['host']);
  });

  it('Status=completed on the conference ends it and hangs up every call; the library drives it', async () => {
    const client = twilio(t.accountSid, t.authToken);
    client.api.baseUrl = t.baseUrl;
    const first = t.app.bus.next((e) => e.type === 'start');
    const callback = { conferenceStatusCallback: `${web.baseUrl}/conference`, conferenceStatusCallbackEvent: ['start', 'end', 'join', 'leave'] };
    const a = await client.conferences('lib-room').participants.create({ from: '+15005550006', to: 'sim:a', label: 'a', ...callback });
    const b = await client.conferences('lib-room').participants.create({ from: '+15005550006', to: 'sim:b', label: 'b' });
    expect(a.status).toBe('queued');
    const started = await first;
    const ended = await client.conferences(started.conference.sid).update({ status: 'completed' });
    expect(ended.status).toBe('completed');
    expect(ended.reasonConferenceEnded).toBe('conference-ended-via-api');
    await t.app.services.calls.idle();
    for (const sid of [a.callSid, b.callSid]) expect((await client.calls(sid).fetch()).status).toBe('completed');
    await t.app.callbacks.idle();
    // The two simulated phones answer at the same moment: their joins may come in either order.
    expect(described().slice(0, 2).sort()).toEqual(['participant-join:a', 'participant-join:b']);
    expect(described().slice(2)).toEqual(['conference-start', 'participant-leave:a', 'participant-leave:b', 'conference-end']);
    expect(conferenceEvents().at(-1)!.params).toMatchObject({ ReasonConferenceEnded: 'conference-ended-via-api' });
    expect(conferenceEvents().at(-1)!.params).toMatchObject({ Reason: 'Conference ended via API' });
    expect(conferenceEvents().at(-1)!.params).not.toHaveProperty('CallSidEndingConference');
    expect(conferenceEvents().at(-2)!.params).toMatchObject({ ReasonParticipantLeft: 'conference_ended_via_api', ParticipantCallStatus: 'completed' });
  });

  it('refuses what it cannot do yet, plainly', async () => {
    const refuse = async (form: Record<string, string>, field: string): Promise<void> => {
      const res = await t.request('POST', `${participants('room')}.json`, { form: { From: 'sim:app', To: 'sim:a', ...form } });
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(String(res.json().message)).toContain(field);
    };
    await refuse({ WaitUrl: 'ftp://127.0.0.1/wait' }, 'WaitUrl');
    await refuse({ ConferenceRecord: 'sometimes' }, 'ConferenceRecord');
    await refuse({ Record: 'true', RecordingChannels: 'quad' }, 'RecordingChannels');
    await refuse({ To: 'sip:@' }, 'SIP URI');
    await refuse({ ConferenceStatusCallback: `${web.baseUrl}/c`, ConferenceStatusCallbackEvent: 'nonsense' }, 'ConferenceStatusCallbackEvent');
  });

  it('resolves HoldUrl, WaitUrl and AnnounceUrl, and tells announcements to the conference callback', async () => {
    await web.close();
    web = await startReceiver((request, response) => {
      const path = request.path.split('?')[0];
      if (path === '/hold') return answer(response, 200, 'text/xml', '<Response><Say>Please hold</Say><Redirect method="GET">/music</Redirect></Response>');
      if (path === '/music') return answer(response, 200, 'audio/wav', 'RIFF');
      if (path === '/wait') return answer(response, 200, 'text/xml', '<Response><Play>http://127.0.0.1:9/wait.wav</Play></Response>');
      if (path === '/announce') return answer(response, 200, 'text/xml', '<Response><Say>Ten minutes left</Say></Response>');
      if (path === '/broken') return answer(response, 200, 'text/xml', '<Response><Dial>+15551234567</Dial></Response>');
      return answer(response, 204, 'text/plain', '');
    });
    const host = await dialIn('audio-room', 'host', { WaitUrl: `${web.baseUrl}/wait`, WaitMethod: 'GET', StartConferenceOnEnter: 'false' });
    expect(await requested('/wait')).toMatchObject({ method: 'GET' });
    const cf = host.conference_sid as string;
    await dialIn(cf, 'guest');

    const held = await t.request('POST', `${participants(cf)}/guest.json`, { form: { Hold: 'true', HoldUrl: `${web.baseUrl}/hold` } });
    expect(held.json().hold).toBe(true);
    const announced = t.app.bus.next((e) => e.type === 'announcement');
    await t.request('POST', `${participants(cf)}/host.json`, { form: { AnnounceUrl: `${web.baseUrl}/announce` } });
    expect(await announced).toMatchObject({ outcome: 'end', callSid: host.call_sid });
    const failed = t.app.bus.next((e) => e.type === 'announcement');
    const conference = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}.json`, { form: { AnnounceUrl: `${web.baseUrl}/broken` } });
    expect(conference.status).toBe(200);
    expect(await failed).toMatchObject({ outcome: 'fail' });

    const hold = await requested('/hold');
    expect(hold.method).toBe('GET'); // HoldMethod defaults to GET
    expect(hold.params).toMatchObject({ ConferenceSid: cf, CallSid: expect.stringMatching(/^CA/) });
    expect(signedOk(hold)).toBe(true);
    expect((await requested('/music')).method).toBe('GET'); // the Redirect was followed
    await t.app.callbacks.idle();
    const announcements = conferenceEvents().filter((r) => String(r.params.StatusCallbackEvent).startsWith('announcement'));
    expect(announcements.map((r) => r.params.StatusCallbackEvent)).toEqual(['announcement-end', 'announcement-fail']);
    expect(announcements[1]!.params).toMatchObject({ AnnounceUrl: `${web.baseUrl}/broken`, ReasonAnnouncementFailed: expect.stringContaining('Dial') });
  });
});
