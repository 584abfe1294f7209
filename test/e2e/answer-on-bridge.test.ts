/**
 * `<Dial answerOnBridge="true">` for a SIP phone calling in: the phone gets a 183 Session
 * Progress with SDP and hears ringback (440 + 480 Hz) as early media while the dialled line
 * rings; the call stays `ringing` until that line answers, then the 200 (same SDP) and the
 * bridge. When no line answers, the phone is refused with the Dial's outcome and the call
 * ends unanswered; with an action that goes on, the call is answered then.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemoteAudio } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import { goertzel, meanAmplitude as amplitude } from '../media/goertzel.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { ownNumber, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/until.js';

const NUMBER = '+15005550100';
const HEARD = 1200;
const QUIET = 250;

describe('<Dial answerOnBridge> for a SIP caller', () => {
  let t: TestApp;
  let web: Receiver;
  const docs = new Map<string, string>();
  const phones: SipPhone[] = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    docs.clear();
    web = await startReceiver((request, response) => answer(response, 200, 'text/xml', docs.get(request.path.split('?')[0]!) ?? '<Response/>'));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
  });
  afterEach(async () => {
    for (const p of phones.splice(0)) await p.close();
    await t.close();
    await web.close();
  });

  const conclave = (): string => `sip:${NUMBER}@127.0.0.1:${t.app.sipAddress()!.port}`;
  const callsPath = (): string => `/2010-04-01/Accounts/${t.accountSid}/Calls`;

  async function phone(name: string, hz: number | null): Promise<SipPhone> {
    const p = await SipPhone.open(name, hz);
    phones.push(p);
    return p;
  }

  /** Dials Conclave; resolves the dial's outcome and the first 183 with SDP (early media). */
  function dialIn(p: SipPhone): { answered: Promise<unknown>; early: Promise<RemoteAudio> } {
    const answered = p.dial(conclave());
    answered.catch(() => undefined);
    const early = new Promise<RemoteAudio>((resolve) =>
      p.call!.on('provisional', (e) => {
        if (e.status === 183 && e.remoteAudio) resolve(rtpAudio(e.remoteAudio));
      }),
    );
    return { answered, early };
  }

  /** The caller's call, as the REST API shows it. */
  async function inboundCall(): Promise<{ sid: string; status: string }> {
    const list = (await t.request('GET', `${callsPath()}.json?To=${encodeURIComponent(NUMBER)}`)).json<{ calls: Array<{ sid: string; status: string }> }>();
    expect(list.calls).toHaveLength(1);
    return list.calls[0]!;
  }

  /** Waits until the REST API shows the caller's call in `status`. */
  async function callStatus(status: string): Promise<void> {
    await until(async () => (await inboundCall()).status === status, 5000, () => `the call to be ${status}`);
  }

  it('rings the caller with early media until the line answers, then answers with the same SDP and bridges', async () => {
    docs.set('/voice', '<Response><Dial answerOnBridge="true"><Number>sim:callee;tone=800;ring=1.5</Number></Dial></Response>');
    const caller = await phone('caller', 400);
    const { answered, early } = dialIn(caller);
    const earlyAudio = await early;
    const earlyAt = performance.now();
    expect((await inboundCall()).status).toBe('ringing');

    await answered; // the 200, once the callee answered
    expect(caller.remote).toEqual(earlyAudio); // the 183's SDP answer, repeated (RFC 3264 §5)
    await callStatus('in-progress');
    // Before the answer: ringback (440 + 480 Hz, the first 2 s of its cycle), nothing else.
    const before = caller.heard.filter((f) => f.at >= earlyAt && goertzel(f.pcm, 800) < QUIET);
    expect(before.length).toBeGreaterThan(10);
    const ringback = Int16Array.from(before.flatMap((f) => Array.from(f.pcm)));
    expect(amplitude(ringback, 440)).toBeGreaterThan(HEARD);
    expect(amplitude(ringback, 480)).toBeGreaterThan(HEARD);
    // Then the callee, and from its first frame on, no ringback any more.
    let frames: typeof caller.heard = [];
    for (const deadline = Date.now() + 3000; Date.now() < deadline; ) {
      const since = performance.now();
      await caller.waitHeard(since, 25);
      frames = caller.heard.filter((f) => f.at >= since);
      if (frames.filter((f) => goertzel(f.pcm, 800) > HEARD).length >= 20) break;
    }
    const first = frames.findIndex((f) => goertzel(f.pcm, 800) > HEARD);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(frames.slice(first).filter((f) => goertzel(f.pcm, 480) > QUIET * 2)).toHaveLength(0);
  });

  it('refuses the caller with the Dial outcome when no line answers, and the call ends unanswered', async () => {
    docs.set('/voice', '<Response><Dial answerOnBridge="true"><Number>sim:line;busy</Number></Dial></Response>');
    const busyCaller = await phone('busy', 400);
    const busy = dialIn(busyCaller);
    await busy.early;
    await expect(busy.answered).rejects.toMatchObject({ status: 486 });
    await callStatus('busy');
  });

  it('with an action that goes on, answers the caller after the unanswered Dial', async () => {
    docs.set('/voice', `<Response><Dial answerOnBridge="true" timeout="1" action="${web.baseUrl}/after"><Number>sim:line;no-answer</Number></Dial></Response>`);
    docs.set('/after', '<Response><Pause length="30"/></Response>');
    const caller = await phone('caller', 400);
    const { answered, early } = dialIn(caller);
    await early;
    await answered;
    await callStatus('in-progress');
    const after = web.requests.find((r) => r.path.startsWith('/after'));
    // The action is asked while the caller still rings: it is answered by the action's first verb.
    expect(after?.params).toMatchObject({ DialCallStatus: 'no-answer', CallStatus: 'ringing' });
  });
});
