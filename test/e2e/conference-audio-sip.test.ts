/**
 * What callers hear, end to end: SIP phones (in process, real UDP on 127.0.0.1) call a number
 * whose TwiML puts them in a conference, or are dialled by Create Participant; each speaks its
 * own tone, and a Goertzel filter on what each phone received checks the mix — N-1, mute within
 * two frames of the REST 200, hold music, coaching, wait music before the start, the beep, and
 * a kick that ends the call with a BYE.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { goertzel, meanAmplitude as amplitude } from '../media/goertzel.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { ownNumber, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/until.js';

const NUMBER = '+15005550100';
const HEARD = 1200;
const QUIET = 250;

describe('conference audio over SIP', () => {
  let t: TestApp;
  let web: Receiver;
  let twiml = '';
  const phones: SipPhone[] = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true, rtpTimeoutMs: 1500 });
    twiml = '<Response><Dial><Conference beep="false">room</Conference></Dial></Response>';
    web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', twiml));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
  });
  afterEach(async () => {
    for (const p of phones.splice(0)) await p.close();
    await t.close();
    await web.close();
  });

  const conclave = (user = NUMBER): string => `sip:${user}@127.0.0.1:${t.app.sipAddress()!.port}`;
  const participantsPath = (cf: string): string => `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}/Participants`;

  async function phone(name: string, hz: number | null, options: { answer?: boolean } = {}): Promise<SipPhone> {
    const p = await SipPhone.open(name, hz, options);
    phones.push(p);
    return p;
  }

  /** Dials in and resolves once the phone is a connected participant: its CallSid and ConferenceSid. */
  async function dialIn(p: SipPhone): Promise<{ callSid: string; conferenceSid: string }> {
    const joined = t.app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.status === 'connected');
    await p.dial(conclave());
    const event = await joined;
    if (!('participant' in event)) throw new Error('not a participant event');
    return { callSid: event.participant.callSid, conferenceSid: event.conference.sid };
  }

  /** What `p` heard during the next `ms` (from now). */
  async function listen(p: SipPhone, ms = 400): Promise<Int16Array> {
    const since = performance.now();
    await p.waitHeard(since, Math.round(ms / 20));
    return p.heardSince(since, Math.round(ms / 20));
  }

  /** How loud `hz` is in what `p` hears, once it is heard at all (see SipPhone.hearsTone). */
  const hears = (p: SipPhone, hz: number): Promise<number> => p.hearsTone(hz, HEARD);

  it('answers INVITEs to an owned number, mixes N-1, and a REST mute silences within two frames', async () => {
    const [a, b, c] = [await phone('a', 400), await phone('b', 600), await phone('c', 800)];
    await dialIn(a);
    const bLeg = await dialIn(b);
    await dialIn(c);

    expect(await hears(a, 800)).toBeGreaterThan(HEARD); // c, the last to join, is mixed in
    const heardA = await listen(a, 600);
    const heardB = await listen(b, 600);
    expect(amplitude(heardA, 600)).toBeGreaterThan(HEARD);
    expect(amplitude(heardA, 800)).toBeGreaterThan(HEARD);
    expect(amplitude(heardA, 400)).toBeLessThan(QUIET); // never themselves
    expect(amplitude(heardB, 400)).toBeGreaterThan(HEARD);
    expect(amplitude(heardB, 600)).toBeLessThan(QUIET);

    const res = await t.request('POST', `${participantsPath(bLeg.conferenceSid)}/${bLeg.callSid}.json`, { form: { Muted: 'true' } });
    const ok = performance.now();
    expect(res.status).toBe(200);
    await a.waitHeard(ok, 20);
    // Dated by when Conclave sent them: at most two frames after the 200 may still carry B.
    const after = a.framesSentAfter(ok).map((f) => goertzel(f.pcm, 600));
    expect(after.length).toBeGreaterThan(10);
    expect(after.slice(2).every((amp) => amp < QUIET), after.map(Math.round).join(' ')).toBe(true);
    expect(amplitude(a.heardSince(ok, 20), 800)).toBeGreaterThan(HEARD);

    await t.request('POST', `${participantsPath(bLeg.conferenceSid)}/${bLeg.callSid}.json`, { form: { Muted: 'false' } });
    expect(await hears(a, 600)).toBeGreaterThan(HEARD);
  });

  it('holds a participant: it hears music, nobody hears it; a coach is heard only by the coached', async () => {
    const [a, b, c] = [await phone('a', 400), await phone('b', 600), await phone('c', 800)];
    const aLeg = await dialIn(a);
    await dialIn(b);
    const cLeg = await dialIn(c);
    const path = participantsPath(aLeg.conferenceSid);

    expect((await t.request('POST', `${path}/${aLeg.callSid}.json`, { form: { Hold: 'true' } })).status).toBe(200);
    const held = await listen(a, 800);
    expect(amplitude(held, 600)).toBeLessThan(QUIET);
    expect(amplitude(held, 800)).toBeLessThan(QUIET);
    expect(rms(held)).toBeGreaterThan(300); // the default hold music
    expect(amplitude(await listen(b), 400)).toBeLessThan(QUIET);
    await t.request('POST', `${path}/${aLeg.callSid}.json`, { form: { Hold: 'false' } });
    expect(await hears(b, 400)).toBeGreaterThan(HEARD);

    const coached = await t.request('POST', `${path}/${cLeg.callSid}.json`, { form: { Coaching: 'true', CallSidToCoach: aLeg.callSid } });
    expect(coached.status, coached.body).toBe(200);
    expect(await hears(a, 800)).toBeGreaterThan(HEARD);
    expect(amplitude(await listen(b), 800)).toBeLessThan(QUIET);
  });

  it('plays wait music before the conference starts, then the beep when someone enters', async () => {
    twiml = '<Response><Dial><Conference startConferenceOnEnter="false" beep="true">room</Conference></Dial></Response>';
    const a = await phone('a', 400);
    await dialIn(a);
    // The music starts once the leg is in the room, a moment after the answer on a busy machine.
    const waiting = await until(async () => {
      const heard = await listen(a, 800);
      return rms(heard) > 300 && heard;
    }, 5000, 'wait music at a');
    expect(amplitude(waiting, 700)).toBeLessThan(QUIET);

    twiml = '<Response><Dial><Conference startConferenceOnEnter="true" beep="true">room</Conference></Dial></Response>';
    const b = await phone('b', null);
    const since = performance.now();
    await dialIn(b);
    await a.waitHeard(since, 40);
    const beep = a.toneByFrame(since, 700);
    expect(Math.max(...beep)).toBeGreaterThan(HEARD);

    // b leaves: the exit beep (500 Hz, then 400 Hz — a's own tone is 400, so look for 500).
    const gone = t.app.bus.next((e) => e.type === 'leave');
    b.call!.hangup();
    await gone;
    const left = performance.now() - 20;
    await a.waitHeard(left, 40);
    expect(Math.max(...a.toneByFrame(left, 500))).toBeGreaterThan(HEARD);
  });

  it('dials a SIP phone for Create Participant, and a kick hangs it up with a BYE', async () => {
    const a = await phone('a', 400);
    const { conferenceSid } = await dialIn(a);
    const d = await phone('d', 1000, { answer: true });
    const joined = t.app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.label === 'dee' && e.participant.status === 'connected');
    const res = await t.request('POST', `${participantsPath(conferenceSid)}.json`, { form: { From: '+15005550006', To: d.uri, Label: 'dee' } });
    expect(res.status, res.body).toBe(201);
    await joined;
    expect(await hears(a, 1000)).toBeGreaterThan(HEARD);
    expect(await hears(d, 400)).toBeGreaterThan(HEARD);

    const ended = d.ended();
    expect((await t.request('DELETE', `${participantsPath(conferenceSid)}/dee.json`)).status).toBe(204);
    expect(await ended).toMatchObject({ by: 'remote' });
  });

  it('dials over TCP when the URI says transport=tcp, and cancels a ringing phone with CANCEL', async () => {
    const a = await phone('a', 400);
    const { conferenceSid } = await dialIn(a);
    const tcp = await phone('tcp', 800, { answer: true });
    const joined = t.app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.label === 'tcp' && e.participant.status === 'connected');
    const res = await t.request('POST', `${participantsPath(conferenceSid)}.json`, { form: { From: '+15005550006', To: `${tcp.uri};transport=tcp`, Label: 'tcp' } });
    expect(res.status, res.body).toBe(201);
    expect((await tcp.invited).request.headers.get('Via')).toMatch(/^SIP\/2\.0\/TCP /);
    await joined;
    expect(await hears(a, 800)).toBeGreaterThan(HEARD);

    const silent = await phone('ringing', null); // never answers
    const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
      form: { From: '+15005550006', To: silent.uri, Twiml: '<Response><Hangup/></Response>' },
    });
    const sid = created.json<{ sid: string }>().sid;
    const incoming = await silent.invited;
    incoming.ringing(); // 180: the call is ringing
    const cancelled = new Promise<void>((resolve) => incoming.on('cancel', () => resolve()));
    await until(async () => (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`)).json().status === 'ringing');
    const update = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`, { form: { Status: 'canceled' } });
    expect(update.status, update.body).toBe(200);
    await cancelled;
    await until(async () => (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`)).json().status === 'canceled');
  });

  it('hangs up (BYE) a phone whose RTP stops, and the participant leaves', async () => {
    const [a, b] = [await phone('a', 400), await phone('b', 600)];
    await dialIn(a);
    const bLeg = await dialIn(b);
    const left = t.app.bus.next((e) => e.type === 'leave' && 'participant' in e && e.participant.callSid === bLeg.callSid);
    const ended = b.ended();
    b.setSending(false);
    expect(await ended).toMatchObject({ by: 'remote' });
    await left;
    const call = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${bLeg.callSid}.json`);
    expect(call.json()).toMatchObject({ status: 'completed' });
  });

  it('a phone that holds the call is not heard; an unknown number gets 404', async () => {
    const [a, b] = [await phone('a', 400), await phone('b', 600)];
    await dialIn(a);
    await dialIn(b);
    await b.hold(true);
    expect(amplitude(await listen(a), 600)).toBeLessThan(QUIET);
    // A held phone that sends nothing is not hung up for it (the RTP timeout here is 1.5 s).
    b.setSending(false);
    await listen(a, 2000);
    expect(b.call!.ended).toBe(false);
    b.setSending(true);
    await b.hold(false);
    expect(await hears(a, 600)).toBeGreaterThan(HEARD);

    const stranger = await phone('x', 300);
    await expect(stranger.dial(conclave('+15005550199'))).rejects.toMatchObject({ status: 404 });
  });
});


function rms(pcm: Int16Array): number {
  let s = 0;
  for (let i = 0; i < pcm.length; i++) s += pcm[i]! * pcm[i]!;
  return pcm.length === 0 ? 0 : Math.sqrt(s / pcm.length);
}
