/**
 * The keypad, end to end through a real webhook app: `<Gather>` (the PIN flow, `#`, the
 * timeout path, barge-in), `hangupOnStar` in a conference and on a bridge, whispers with
 * "press 1 to accept", and keys sent out (`<Number sendDigits>`). Keys come from simulated
 * endpoints (`sim:…;dtmf=`), which press them as a phone sending RFC 4733 would; what a
 * recording endpoint heard is read back from its SimulatedAudio.wav.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav, sine } from '../audio/wav-helpers.js';
import { keysInAudio } from '../helpers/dtmf.js';
import { meanAmplitude } from '../media/goertzel.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver, type ReceivedRequest, type TwimlRoutes } from '../helpers/webhook-receiver.js';

/** A tone the prompts play, long enough that only barge-in stops it early. */
const PROMPT_HZ = 1000;
const PROMPT_SECONDS = 10;

describe('the keypad', () => {
  let t: TestApp;
  let web: Receiver;
  /** TwiML per path; a path not here answers `<Response/>`. */
  let app: TwimlRoutes;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    const prompt = Buffer.from(encodeWav({ rate: 8000, encoding: 's16', channels: [sine(PROMPT_HZ, 8000, PROMPT_SECONDS, 0.3)] }));
    ({ web, routes: app } = await startTwimlApp({ '/prompt.wav': { contentType: 'audio/wav', body: prompt } }));
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const url = (path: string): string => `${web.baseUrl}${path}`;
  const calls = (): string => `/2010-04-01/Accounts/${t.accountSid}/Calls`;
  async function placeWithUrl(to: string, path: string, extra: Record<string, string> = {}): Promise<string> {
    const res = await t.request('POST', `${calls()}.json`, { form: { To: to, From: '+15005550006', Url: url(path), ...extra } });
    if (res.status !== 201) throw new Error(`Calls.create answered ${res.status}: ${res.body}`);
    return res.json<{ sid: string }>().sid;
  }
  function requestsTo(path: string): ReceivedRequest[] {
    return web.requests.filter((r) => r.path.split('?')[0] === path);
  }
  async function requestTo(path: string, timeoutMs = 15_000): Promise<ReceivedRequest> {
    return until(() => requestsTo(path)[0], timeoutMs, () => `a request to ${path}; got ${web.requests.map((r) => r.path).join(', ')}`);
  }
  async function heard(callSid: string): Promise<Int16Array> {
    const res = await fetch(`${t.baseUrl}${calls()}/${callSid}/SimulatedAudio.wav`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const data = bytes.slice(44);
    return new Int16Array(data.buffer, 0, Math.floor(data.length / 2));
  }
  async function callStatus(callSid: string): Promise<string> {
    return (await t.request('GET', `${calls()}/${callSid}.json`)).json<{ status: string }>().status;
  }

  it('the PIN flow: <Gather numDigits="4"> around a <Say>, then <Dial><Conference> from the action', async () => {
    app.set('/voice', () => `<Response><Gather numDigits="4" action="/pin"><Say>Please enter your PIN</Say></Gather><Redirect/></Response>`);
    app.set('/pin', (r) => (r.params.Digits === '2468' ? '<Response><Dial><Conference>pin-room</Conference></Dial></Response>' : '<Response><Hangup/></Response>'));
    const sid = await placeWithUrl('sim:alice;dtmf=2468;dtmfAt=0.5', '/voice');
    const pin = await requestTo('/pin');
    expect(pin.method).toBe('POST');
    expect(pin.params).toMatchObject({ CallSid: sid, Digits: '2468', FinishedOnKey: '', msg: 'Gather End', CallStatus: 'in-progress' });
    // Signed like every Twilio request.
    expect(pin.headers['x-twilio-signature']).toBeTruthy();
    await until(
      async () => {
        const list = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Conferences.json?FriendlyName=pin-room`);
        const room = list.json<{ conferences: { sid: string }[] }>().conferences[0];
        if (!room) return false;
        const participants = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${room.sid}/Participants.json`);
        return participants.json<{ participants: { call_sid: string }[] }>().participants.some((p) => p.call_sid === sid);
      },
      10_000,
      'the caller in conference pin-room',
    );
    // Only one document fetch: the Gather got its keys, the Redirect after it never ran.
    expect(requestsTo('/voice')).toHaveLength(1);
  });

  it('"#" ends the input: Digits without it, FinishedOnKey="#"; the default action is the document itself', async () => {
    app.set('/voice', (r) =>
      r.params.Digits === undefined ? '<Response><Gather timeout="10"><Say>Your account number, then pound</Say></Gather></Response>' : '<Response><Hangup/></Response>',
    );
    await placeWithUrl('sim:bob;dtmf=1234%23', '/voice');
    await until(() => requestsTo('/voice').length >= 2, 15_000, 'the Gather posting back to /voice');
    expect(requestsTo('/voice')[1]!.params).toMatchObject({ Digits: '1234', FinishedOnKey: '#' });
  });

  it('with no keys the Gather times out and the next verb runs; actionOnEmptyResult asks the action anyway', async () => {
    app.set('/voice', () => `<Response><Gather timeout="1" action="/never"><Say>Press something</Say></Gather><Redirect>/empty</Redirect></Response>`);
    app.set('/empty', () => `<Response><Gather timeout="1" actionOnEmptyResult="true" action="/asked"/></Response>`);
    const sid = await placeWithUrl('sim:quiet', '/voice');
    await requestTo('/empty');
    const asked = await requestTo('/asked');
    expect(asked.params).toMatchObject({ CallSid: sid, Digits: '', FinishedOnKey: '' });
    expect(requestsTo('/never')).toHaveLength(0);
    // The finish key alone is no input either: the next verb runs.
    app.set('/hash', () => `<Response><Gather action="/never"/><Redirect>/after-hash</Redirect></Response>`);
    await placeWithUrl('sim:hash;dtmf=%23', '/hash');
    await requestTo('/after-hash');
    expect(requestsTo('/never')).toHaveLength(0);
  });

  it('the first key cuts the prompt short (barge-in), and the caller stops hearing it', async () => {
    app.set('/voice', () => `<Response><Gather numDigits="1" action="/chosen"><Play>/prompt.wav</Play><Say>More options</Say></Gather></Response>`);
    app.set('/chosen', () => '<Response><Pause length="2"/></Response>');
    const started = Date.now();
    const sid = await placeWithUrl('sim:menu;record;dtmf=7;dtmfAt=1.5', '/voice');
    const chosen = await requestTo('/chosen');
    expect(chosen.params.Digits).toBe('7');
    // The prompt lasts 10 s; the key came 1.5 s after the answer.
    expect(Date.now() - started).toBeLessThan(PROMPT_SECONDS * 1000 - 3000);
    await until(async () => (await callStatus(sid)) === 'completed', 10_000, 'the call to end after the Pause');
    const pcm = await heard(sid);
    // It heard the prompt until the key, then nothing of it: at most ~3 s of the 10 s tone.
    const toneFrames = Array.from({ length: Math.floor(pcm.length / 160) }, (_, i) => meanAmplitude(pcm.subarray(i * 160, i * 160 + 160), PROMPT_HZ)).filter(
      (a) => a > 1000,
    ).length;
    expect(toneFrames).toBeGreaterThan(25);
    expect(toneFrames).toBeLessThan(150);
  });

  it('the first key cuts a <Say> short: what the caller hears after it is silence, not the rest of the words', async () => {
    const words = 'Welcome to the conference line. '.repeat(8);
    app.set('/voice', () => `<Response><Gather numDigits="1" action="/chosen"><Say>${words}</Say></Gather></Response>`);
    app.set('/chosen', () => '<Response><Pause length="3"/></Response>');
    const sid = await placeWithUrl('sim:listener;record;dtmf=3;dtmfAt=1.5', '/voice');
    expect((await requestTo('/chosen')).params.Digits).toBe('3');
    await until(async () => (await callStatus(sid)) === 'completed', 15_000, 'the call to end after the Pause');
    const pcm = await heard(sid);
    const loud = (from: number, to: number): number => {
      let frames = 0;
      for (let at = from; at + 160 <= to; at += 160) {
        let energy = 0;
        for (let i = at; i < at + 160; i++) energy += pcm[i]! * pcm[i]!;
        if (Math.sqrt(energy / 160) > 300) frames++;
      }
      return frames;
    };
    // It heard the words before the key, and the 3 s Pause after it, silent to the end.
    expect(loud(0, 8000 * 1.5)).toBeGreaterThan(10);
    expect(loud(pcm.length - 8000 * 2, pcm.length)).toBe(0);
  });

  it('hangupOnStar: "*" leaves the conference, the Dial ends completed and its action runs', async () => {
    app.set('/voice', () => `<Response><Dial hangupOnStar="true" action="/after"><Conference>star-room</Conference></Dial></Response>`);
    app.set('/after', () => '<Response><Say>Goodbye</Say></Response>');
    // The conference's callback is set by the participant who starts it.
    await placeCall(t, 'sim:host', `<Response><Dial><Conference statusCallback="${url('/conf')}" statusCallbackEvent="join leave">star-room</Conference></Dial></Response>`);
    await requestTo('/conf'); // the host's join: the conference is the host's
    const sid = await placeWithUrl('sim:leaver;dtmf=*;dtmfAt=1.5', '/voice');
    const after = await requestTo('/after');
    expect(after.params).toMatchObject({ CallSid: sid, DialCallStatus: 'completed', CallStatus: 'in-progress' });
    const leave = await until(
      () => requestsTo('/conf').find((r) => r.params.StatusCallbackEvent === 'participant-leave'),
      10_000,
      () => `participant-leave; got ${requestsTo('/conf').map((r) => r.params.StatusCallbackEvent).join(', ')}`,
    );
    expect(leave.params).toMatchObject({ StatusCallbackEvent: 'participant-leave', CallSid: sid, ReasonParticipantLeft: 'participant_hung_up', ParticipantCallStatus: 'in-progress' });
  });

  it('hangupOnStar on a bridge: "*" ends it, the callee is hung up, the caller goes on', async () => {
    app.set('/voice', () => `<Response><Dial hangupOnStar="true" action="/after"><Number>sim:callee;tone=700</Number></Dial></Response>`);
    const sid = await placeWithUrl('sim:caller;dtmf=w*;dtmfAt=1', '/voice');
    const after = await requestTo('/after');
    expect(after.params).toMatchObject({ CallSid: sid, DialCallStatus: 'completed', DialBridged: 'true' });
    expect(await callStatus(String(after.params.DialCallSid))).toBe('completed');
  });

  it('a whisper with "press 1 to accept": the callee accepts and is bridged; the caller heard ringback meanwhile', async () => {
    app.set('/voice', () => `<Response><Dial action="/after"><Number url="/whisper">sim:agent;tone=700;dtmf=1;dtmfAt=1.5;hangup=5</Number></Dial></Response>`);
    app.set('/whisper', () => `<Response><Gather numDigits="1" action="/accept" timeout="5"><Say>A caller is waiting. Press 1 to accept.</Say></Gather><Hangup/></Response>`);
    app.set('/accept', (r) => (r.params.Digits === '1' ? '<Response/>' : '<Response><Hangup/></Response>'));
    const sid = await placeWithUrl('sim:customer;record', '/voice');
    const accept = await requestTo('/accept');
    const whisper = requestsTo('/whisper')[0]!;
    // The whisper runs on the called party's call.
    expect(whisper.params).toMatchObject({ ParentCallSid: sid, Direction: 'outbound-dial' });
    expect(accept.params).toMatchObject({ Digits: '1', CallSid: whisper.params.CallSid });
    // Bridged: the caller hears the agent.
    await until(async () => {
      const pcm = await heard(sid);
      return pcm.length > 4000 && meanAmplitude(pcm.subarray(pcm.length - 4000), 700) > 2000;
    }, 10_000, 'the caller to hear the agent');
    const pcm = await heard(sid);
    // Before the bridge it heard ringback (440 + 480 Hz), not the whisper.
    expect(meanAmplitude(pcm.subarray(0, 8000), 440)).toBeGreaterThan(1000);
    // The agent hangs up: the Dial ends and its action is told how.
    const after = await requestTo('/after');
    expect(after.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true', DialCallSid: whisper.params.CallSid });
  });

  it('a whisper that hangs up declines the call: the callee is never bridged (DialBridged=false)', async () => {
    app.set('/voice', () => `<Response><Dial action="/after"><Number url="/whisper">sim:busyagent;tone=700</Number></Dial></Response>`);
    app.set('/whisper', () => `<Response><Gather numDigits="1" action="/accept" timeout="1"><Say>Press 1 to accept.</Say></Gather><Hangup/></Response>`);
    const sid = await placeWithUrl('sim:customer2;record', '/voice');
    const after = await requestTo('/after');
    expect(after.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'false' });
    expect(await callStatus(String(after.params.DialCallSid))).toBe('completed');
    expect(requestsTo('/accept')).toHaveLength(0);
    const pcm = await heard(sid);
    const agentFrames = Array.from({ length: Math.floor(pcm.length / 160) }, (_, i) => meanAmplitude(pcm.subarray(i * 160, i * 160 + 160), 700)).filter((a) => a > 1000);
    expect(agentFrames).toEqual([]);
  });

  it('<Number sendDigits> reaches the answering line before the bridge; a recording line hears the keys', async () => {
    const sid = await placeCall(t, 'sim:caller3', `<Response><Dial action="${url('/after')}"><Number sendDigits="w12#">sim:ivr;record;hangup=4</Number></Dial></Response>`);
    const after = await requestTo('/after');
    expect(after.params.DialCallStatus).toBe('completed');
    const ivr = await heard(String(after.params.DialCallSid));
    expect(keysInAudio(ivr)).toBe('12#');
    expect(sid).toMatch(/^CA/);
  });

  it('Calls.create refuses SendDigits that are not keys, and over 32 of them', async () => {
    for (const digits of ['12x', '1'.repeat(33)]) {
      const res = await t.request('POST', `${calls()}.json`, { form: { To: 'sim:x', From: '+15005550006', Twiml: '<Response/>', SendDigits: digits } });
      expect(res.status).toBe(400);
      expect(res.json<{ code: number; message: string }>().message).toContain('SendDigits');
    }
  });

  it('refuses <Gather input="speech"> as not supported: the call fails as an application error', async () => {
    const sid = await placeCall(t, 'sim:talker', '<Response><Gather input="speech" action="/never"/><Say>unreachable</Say></Response>');
    await until(async () => (await callStatus(sid)) === 'completed', 10_000, 'the call to end');
    expect(requestsTo('/never')).toHaveLength(0);
  });
});
