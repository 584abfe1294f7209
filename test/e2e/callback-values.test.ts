/**
 * The values Twilio apps branch on, end to end through HTTP with a real webhook receiver: each
 * `ReasonParticipantLeft` from a real flow with its `ParticipantCallStatus`, `conference-end`'s
 * `Reason`, an announcement to one participant carrying that participant, a WaitUrl change told
 * as `participant-modify`, the `<Dial action>` parameters after a conference and after a dialled
 * number, and the requests Twilio accepts: DELETE of a finished call (the official library's
 * `calls(sid).remove()`), `Url` winning over `Twiml`, `Twiml` over 4,000 characters, recording
 * callbacks with recording off, enums in any case.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STORE_KINDS } from '../helpers/stores.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';

type Json = Record<string, unknown>;
const EVENTS = ['start', 'end', 'join', 'leave', 'mute', 'hold', 'modify', 'announcement'].join(' ');

describe.each(STORE_KINDS)('callback values on %s', (kind) => {
  let t: TestApp;
  let web: Receiver;

  beforeEach(async () => {
    t = await startTestApp(kind);
    web = await startReceiver((request, response) => {
      const path = request.path.split('?')[0];
      if (path === '/after') return answer(response, 200, 'text/xml', '<Response><Pause length="30"/></Response>');
      if (path === '/voice') return answer(response, 200, 'text/xml', '<Response><Say>from the url</Say><Pause length="30"/></Response>');
      if (path === '/announce') return answer(response, 200, 'text/xml', '<Response><Pause length="1"/></Response>');
      if (path === '/wait') return answer(response, 200, 'text/xml', '<Response><Pause length="5"/></Response>');
      return answer(response, 204, 'text/plain', '');
    });
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const api = (): string => `/2010-04-01/Accounts/${t.accountSid}`;
  const conferenceEvents = (): ReceivedRequest[] => web.requests.filter((r) => r.path === '/conference');
  const leaveOf = (callSid: string): Json | undefined =>
    conferenceEvents().find((r) => r.params.StatusCallbackEvent === 'participant-leave' && r.params.CallSid === callSid)?.params;
  /** Waits until the conference callback told `callSid`'s leave. */
  const leaveTold = (callSid: string): Promise<Json> =>
    vi.waitFor(
      () => {
        const params = leaveOf(callSid);
        expect(params).toBeDefined();
        return params!;
      },
      { timeout: 10_000, interval: 20 },
    );
  /** `<Dial><Conference>` with the conference callback on everything, then `after` (TwiML) if given. */
  const room = (name: string, attributes = '', after = ''): string =>
    `<Response><Dial><Conference statusCallback="${web.baseUrl}/conference" statusCallbackEvent="${EVENTS}" ${attributes}>${name}</Conference></Dial>${after}</Response>`;
  async function joined(to: string, twiml: string): Promise<{ callSid: string; conferenceSid: string }> {
    const join = t.app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.label === to);
    const callSid = await placeCall(t, `sim:${to}`, twiml);
    return { callSid, conferenceSid: (await join).conference.sid };
  }

  it('a participant whose phone hangs up: participant_hung_up, completed', async () => {
    await joined('host', room('hangups', 'participantLabel="host"'));
    // The simulated phone hangs up by itself after answering: `;hangup=1`.
    const quitter = t.app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.label === 'quitter');
    const quitterSid = await placeCall(t, 'sim:quitter;hangup=1', room('hangups', 'participantLabel="quitter"'));
    await quitter;
    expect(await leaveTold(quitterSid)).toMatchObject({ ReasonParticipantLeft: 'participant_hung_up', ParticipantCallStatus: 'completed', ParticipantLabel: 'quitter' });
  });

  it('removed through the API: participant_updated_via_api, in-progress when its TwiML goes on', async () => {
    await joined('stays', room('kicks', 'participantLabel="stays"'));
    const goesOn = await joined('goes-on', room('kicks', 'participantLabel="goes-on"', '<Pause length="30"/>'));
    const ends = await joined('ends', room('kicks', 'participantLabel="ends"'));
    const withAction = await joined('action', room('kicks', 'participantLabel="action"').replace('<Dial>', `<Dial action="${web.baseUrl}/after">`));
    const participants = `${api()}/Conferences/${goesOn.conferenceSid}/Participants`;
    for (const label of ['goes-on', 'ends', 'action']) expect((await t.request('DELETE', `${participants}/${label}.json`)).status).toBe(204);
    expect(await leaveTold(goesOn.callSid)).toMatchObject({ ReasonParticipantLeft: 'participant_updated_via_api', ParticipantCallStatus: 'in-progress' });
    // The Dial is the document's last word and has no action: the call ends with the conference.
    expect(await leaveTold(ends.callSid)).toMatchObject({ ReasonParticipantLeft: 'participant_updated_via_api', ParticipantCallStatus: 'completed' });
    expect(await leaveTold(withAction.callSid)).toMatchObject({ ReasonParticipantLeft: 'participant_updated_via_api', ParticipantCallStatus: 'in-progress' });
    // After <Conference> the action is told DialCallStatus only: no DialCallSid, no DialCallDuration.
    const action = await vi.waitFor(() => {
      const found = web.requests.find((r) => r.path === '/after');
      expect(found).toBeDefined();
      return found!;
    }, { timeout: 10_000 });
    expect(action.params).toMatchObject({ DialCallStatus: 'completed', CallSid: withAction.callSid });
    expect(action.params).not.toHaveProperty('DialCallSid');
    expect(action.params).not.toHaveProperty('DialCallDuration');
    expect(action.params).not.toHaveProperty('DialBridged');
  });

  it('redirected or hung up through the Calls API: participant_updated_via_api, in-progress or completed', async () => {
    await joined('anchor', room('moves', 'participantLabel="anchor"'));
    const moved = await joined('moved', room('moves', 'participantLabel="moved"'));
    const hung = await joined('hung', room('moves', 'participantLabel="hung"'));
    const redirect = await t.request('POST', `${api()}/Calls/${moved.callSid}.json`, { form: { Twiml: '<Response><Pause length="30"/></Response>' } });
    expect(redirect.status).toBe(200);
    expect(await leaveTold(moved.callSid)).toMatchObject({ ReasonParticipantLeft: 'participant_updated_via_api', ParticipantCallStatus: 'in-progress' });
    await t.request('POST', `${api()}/Calls/${hung.callSid}.json`, { form: { Status: 'completed' } });
    expect(await leaveTold(hung.callSid)).toMatchObject({ ReasonParticipantLeft: 'participant_updated_via_api', ParticipantCallStatus: 'completed' });
  });

  it('a dialled participant that never answers: participant_add_failed with its call status', async () => {
    const host = await joined('host', room('adds', 'participantLabel="host"'));
    const participants = `${api()}/Conferences/${host.conferenceSid}/Participants.json`;
    const busy = (await t.request('POST', participants, { form: { From: '+15005550006', To: 'sim:busy;busy', Label: 'busy' } })).json();
    const failed = (await t.request('POST', participants, { form: { From: '+15005550006', To: 'sim:broken;fail', Label: 'broken' } })).json();
    expect(await leaveTold(busy.call_sid as string)).toMatchObject({ ReasonParticipantLeft: 'participant_add_failed', ParticipantCallStatus: 'busy', ParticipantLabel: 'busy' });
    expect(await leaveTold(failed.call_sid as string)).toMatchObject({ ReasonParticipantLeft: 'participant_add_failed', ParticipantCallStatus: 'failed' });
    // They never joined: no participant-join was told for them, and the conference goes on.
    expect(conferenceEvents().filter((r) => r.params.StatusCallbackEvent === 'participant-join').map((r) => r.params.ParticipantLabel)).toEqual(['host']);
    expect((await t.request('GET', `${api()}/Conferences/${host.conferenceSid}.json`)).json().status).toBe('init');
  });

  it('ended through the API or by a moderator: conference_ended_via_api, moderator_ended_conference, and the end says why', async () => {
    const a = await joined('a', room('api-end', 'participantLabel="a"', '<Pause length="30"/>'));
    await joined('b', room('api-end', 'participantLabel="b"'));
    await t.request('POST', `${api()}/Conferences/${a.conferenceSid}.json`, { form: { Status: 'completed' } });
    expect(await leaveTold(a.callSid)).toMatchObject({ ReasonParticipantLeft: 'conference_ended_via_api', ParticipantCallStatus: 'in-progress' });

    const boss = await joined('boss', room('moderated', 'participantLabel="boss" endConferenceOnExit="true"'));
    const guest = await joined('guest', room('moderated', 'participantLabel="guest"', '<Pause length="30"/>'));
    await t.request('POST', `${api()}/Calls/${boss.callSid}.json`, { form: { Status: 'completed' } });
    expect(await leaveTold(guest.callSid)).toMatchObject({ ReasonParticipantLeft: 'moderator_ended_conference', ParticipantCallStatus: 'in-progress' });
    const end = await vi.waitFor(() => {
      const found = conferenceEvents().find((r) => r.params.StatusCallbackEvent === 'conference-end' && r.params.ConferenceSid === boss.conferenceSid);
      expect(found).toBeDefined();
      return found!.params;
    }, { timeout: 10_000 });
    expect(end).toMatchObject({
      ReasonConferenceEnded: 'participant-with-end-conference-on-exit-left',
      CallSidEndingConference: boss.callSid,
      ParticipantLabelEndingConference: 'boss',
      Reason: `Participant ${boss.callSid} with endConferenceOnExit left the conference`,
    });
  });

  it("an announcement to one participant carries that participant's parameters; a WaitUrl change is participant-modify", async () => {
    const host = await joined('host', room('waiting', 'participantLabel="host" startConferenceOnEnter="false"'));
    const participant = `${api()}/Conferences/${host.conferenceSid}/Participants/host.json`;
    await t.request('POST', participant, { form: { Muted: 'true' } });
    await t.request('POST', participant, { form: { AnnounceUrl: `${web.baseUrl}/announce` } });
    const announced = await vi.waitFor(
      () => {
        const found = conferenceEvents().find((r) => r.params.StatusCallbackEvent === 'announcement-end');
        expect(found).toBeDefined();
        return found!.params;
      },
      { timeout: 10_000 },
    );
    expect(announced).toMatchObject({ CallSid: host.callSid, ParticipantLabel: 'host', Muted: 'true', Hold: 'false', AnnounceUrl: `${web.baseUrl}/announce` });

    const modified = await t.request('POST', participant, { form: { WaitUrl: `${web.baseUrl}/wait` } });
    expect(modified.status).toBe(200);
    const modify = await vi.waitFor(() => {
      const found = conferenceEvents().find((r) => r.params.StatusCallbackEvent === 'participant-modify');
      expect(found).toBeDefined();
      return found!.params;
    }, { timeout: 10_000 });
    expect(modify).toMatchObject({ CallSid: host.callSid, ParticipantLabel: 'host' });
  });

  it('after <Number>, the Dial action gets DialCallSid, DialCallDuration and DialBridged', async () => {
    const caller = await placeCall(t, 'sim:caller', `<Response><Dial action="${web.baseUrl}/after"><Number>sim:callee;hangup=2</Number></Dial></Response>`);
    const action = await vi.waitFor(
      () => {
        const found = web.requests.find((r) => r.path === '/after');
        expect(found).toBeDefined();
        return found!.params;
      },
      { timeout: 10_000 },
    );
    const child = ((await t.request('GET', `${api()}/Calls.json?ParentCallSid=${caller}`)).json().calls as Json[])[0]!;
    expect(action).toMatchObject({ CallSid: caller, DialCallStatus: 'completed', DialCallSid: child.sid, DialBridged: 'true' });
    // The dialled call's own duration, as its Call resource shows it.
    expect(Number(action.DialCallDuration)).toBeGreaterThanOrEqual(1);
    expect(action.DialCallDuration).toBe(child.duration);
  });

  it('deletes a finished call (the official library’s remove), refuses a live one', async () => {
    const client = twilio(t.accountSid, t.authToken);
    client.api.baseUrl = t.baseUrl;
    const live = await placeCall(t, 'sim:live', '<Response><Pause length="30"/></Response>');
    await expect(client.calls(live).remove()).rejects.toMatchObject({ status: 400, code: 21220 });
    await client.calls(live).update({ status: 'completed' });
    expect(await client.calls(live).remove()).toBe(true);
    await expect(client.calls(live).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    expect((await t.request('DELETE', `${api()}/Calls/${live}.json`)).status).toBe(404);
    expect((await client.calls.list()).map((c) => c.sid)).not.toContain(live);
  });

  it('Url wins over Twiml; Twiml over 4,000 characters is refused with 32018', async () => {
    const both = await t.request('POST', `${api()}/Calls.json`, {
      form: { To: 'sim:both', From: '+15005550006', Url: `${web.baseUrl}/voice`, Twiml: '<Response><Hangup/></Response>' },
    });
    expect(both.status).toBe(201);
    await vi.waitFor(() => expect(web.requests.some((r) => r.path === '/voice' && r.params.CallSid === both.json().sid)).toBe(true), { timeout: 10_000 });
    expect((await t.request('GET', `${api()}/Calls/${both.json().sid as string}.json`)).json().status).toBe('in-progress');

    const long = `<Response><Say>${'a'.repeat(4000)}</Say></Response>`;
    const refused = await t.request('POST', `${api()}/Calls.json`, { form: { To: 'sim:long', From: '+15005550006', Twiml: long } });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ code: 32018, message: expect.stringContaining('4000') });
    // The same on a live call's update.
    const redirect = await t.request('POST', `${api()}/Calls/${both.json().sid as string}.json`, { form: { Twiml: long } });
    expect(redirect.json()).toMatchObject({ status: 400, code: 32018 });
  });

  it('accepts recording parameters with recording off, and enums in any case', async () => {
    const host = await joined('host', room('recorded', 'participantLabel="host"'));
    const created = await t.request('POST', `${api()}/Conferences/${host.conferenceSid}/Participants.json`, {
      form: {
        From: '+15005550006',
        To: 'sim:rec',
        Label: 'rec',
        Record: 'false',
        ConferenceRecord: 'Do-Not-Record',
        RecordingStatusCallback: `${web.baseUrl}/recording`,
        RecordingStatusCallbackEvent: ['In-Progress', 'completed'],
        RecordingChannels: 'DUAL',
        ConferenceRecordingStatusCallback: `${web.baseUrl}/conference-recording`,
        ConferenceRecordingStatusCallbackMethod: 'get',
        ConferenceTrim: 'Do-Not-Trim',
        StatusCallbackEvent: ['Initiated', 'ANSWERED'],
        ConferenceStatusCallbackEvent: 'Join',
        Beep: 'onenter',
      },
    });
    expect(created.status, created.body).toBe(201);
    const call = await t.request('POST', `${api()}/Calls.json`, {
      form: { To: 'sim:c', From: '+15005550006', Twiml: '<Response><Pause/></Response>', RecordingStatusCallback: `${web.baseUrl}/r`, Trim: 'TRIM-SILENCE', RecordingTrack: 'Both' },
    });
    expect(call.status, call.body).toBe(201);
    // A wrong value is still a 400 naming the parameter, with Record=true or without.
    const typos: Record<string, string>[] = [{ RecordingChannels: 'stereo' }, { Record: 'true', RecordingTrack: 'sideways' }, { Record: 'true', RecordingStatusCallbackEvent: 'done' }];
    for (const form of typos) {
      const typo = await t.request('POST', `${api()}/Calls.json`, { form: { To: 'sim:c', From: '+15005550006', Twiml: '<Response/>', ...form } });
      expect(typo.json()).toMatchObject({ status: 400, message: expect.stringContaining(Object.keys(form).at(-1)!) });
    }
  });
});

describe('what is accepted but not acted on is logged', () => {
  it('names each ignored TwiML attribute of a document, once per document run', async () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    const t = await startTestApp('sqlite', { logger: pino({ level: 'info' }, sink) });
    try {
      const create = (): Promise<unknown> =>
        t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
          form: { To: 'sim:a', From: '+15005550006', Twiml: '<Response><Dial ringTone="uk"><Number>sim:b</Number></Dial></Response>' },
        });
      await create();
      await create();
      await vi.waitFor(() => expect(lines.filter((l) => l.msg.includes('ringTone="uk"'))).toHaveLength(2), { timeout: 10_000 }); // one per document run
      expect(lines.filter((l) => l.msg.includes('ringTone="uk"')).every((l) => l.level === 40)).toBe(true);
    } finally {
      await t.close();
    }
  });
});
