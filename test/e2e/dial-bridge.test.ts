/**
 * `<Dial>` to phones: child calls ring together, the first to answer is bridged with the caller
 * (audio both ways, checked by Goertzel), the others are cancelled; the Dial's `action` is told
 * DialCallStatus, DialCallSid, DialCallDuration and DialBridged; child calls are listed with their
 * ParentCallSid, and their final status callback carries the deciding SIP response (SipResponseCode).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { framesWithTone } from '../media/goertzel.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';

describe('<Dial> to phones', () => {
  let t: TestApp;
  let web: Receiver;

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', '<Response><Hangup/></Response>'));
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const calls = (): string => `/2010-04-01/Accounts/${t.accountSid}/Calls`;
  const place = (to: string, twiml: string): Promise<string> => placeCall(t, to, twiml);
  async function actionRequest(): Promise<ReceivedRequest> {
    for (;;) {
      const found = web.requests.find((r) => r.path.startsWith('/after'));
      if (found) return found;
      await web.received(web.requests.length + 1);
    }
  }

  it('bridges the caller with a SIP phone that answers; the first answer wins, the other line is cancelled', async () => {
    const phone = await SipPhone.open('desk', 400, { answer: true });
    try {
      const twiml = `<Response><Dial timeout="10" action="${web.baseUrl}/after"><Number>sim:slow;ring=5</Number><Sip>${phone.uri}</Sip></Dial></Response>`;
      const parent = await place('sim:caller;tone=600', twiml);
      await phone.invited;
      // The caller is heard once the bridge reaches the mixer.
      expect(await phone.hearsTone(600, 3000)).toBeGreaterThan(3000);

      const listed = await t.request('GET', `${calls()}.json?ParentCallSid=${parent}`);
      const children = listed.json<{ calls: Array<{ to: string; status: string; direction: string }> }>().calls;
      expect(children).toHaveLength(2);
      expect(children.find((c) => c.to === phone.uri)).toMatchObject({ status: 'in-progress', direction: 'outbound-dial' });
      expect(children.find((c) => c.to === 'sim:slow;ring=5')).toMatchObject({ status: 'canceled' });

      phone.call!.hangup();
      const after = await actionRequest();
      expect(after.params).toMatchObject({ DialCallStatus: 'completed', CallSid: parent });
      expect(Number(after.params.DialCallDuration)).toBeGreaterThanOrEqual(0);
    } finally {
      await phone.close();
    }
  });

  it("tells each dialled line's final status with the SIP response that decided it (SipResponseCode)", async () => {
    const busy = await SipPhone.open('busy', null);
    const desk = await SipPhone.open('desk', 400, { answer: true });
    try {
      const child = (uri: string): string => `<Sip statusCallback="${web.baseUrl}/child" statusCallbackEvent="completed">${uri}</Sip>`;
      await place('sim:caller', `<Response><Dial action="${web.baseUrl}/after">${child(busy.uri)}</Dial></Response>`);
      (await busy.invited).reject(486);
      const refused = await actionRequest();
      expect(refused.params).toMatchObject({ DialCallStatus: 'busy', DialBridged: 'false' });
      const completed = (): ReceivedRequest[] => web.requests.filter((r) => r.path === '/child');
      while (completed().length < 1) await web.received(web.requests.length + 1);
      expect(completed()[0]!.params).toMatchObject({ CallStatus: 'busy', SipResponseCode: '486', CallSid: refused.params.DialCallSid });

      const parent = await place('sim:caller2', `<Response><Dial>${child(desk.uri)}</Dial></Response>`);
      await desk.invited;
      await vi.waitFor(async () => {
        const listed = (await t.request('GET', `${calls()}.json?ParentCallSid=${parent}`)).json<{ calls: { status: string }[] }>().calls;
        expect(listed[0]?.status).toBe('in-progress');
      });
      desk.call!.hangup();
      while (completed().length < 2) await web.received(web.requests.length + 1);
      expect(completed()[1]!.params).toMatchObject({ CallStatus: 'completed', SipResponseCode: '200' });
    } finally {
      await busy.close();
      await desk.close();
    }
  });

  it('tells the action busy when no line answers and one was busy', async () => {
    await place('sim:caller', `<Response><Dial action="${web.baseUrl}/after"><Number>sim:a;busy</Number><Number>sim:b;fail</Number></Dial></Response>`);
    expect((await actionRequest()).params).toMatchObject({ DialCallStatus: 'busy', DialCallDuration: '0' });
  });

  it('a simulated callee is heard by a recording caller until it hangs up', async () => {
    const parent = await place('sim:rec;record', `<Response><Dial action="${web.baseUrl}/after"><Number>sim:voice;tone=800;hangup=2</Number></Dial></Response>`);
    const after = await actionRequest();
    expect(after.params).toMatchObject({ DialCallStatus: 'completed' });
    // The callee hung up 2 s after answering: the dialled call's duration, as its resource says.
    const child = (await t.request('GET', `${calls()}.json?ParentCallSid=${parent}`)).json<{ calls: { duration: string }[] }>().calls[0]!;
    expect(after.params.DialCallDuration).toBe(child.duration);
    expect(Number(child.duration)).toBeGreaterThanOrEqual(1);
    expect(Number(child.duration)).toBeLessThanOrEqual(2);
    const res = await fetch(`${t.baseUrl}${calls()}/${parent}/SimulatedAudio.wav`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const data = bytes.slice(44);
    const pcm = new Int16Array(data.buffer, 0, Math.floor(data.length / 2));
    // The callee talked for its 2 s (100 frames); wherever that began in the caller's recording,
    // at least 1.5 s of it was heard.
    expect(framesWithTone(pcm, 800, 4000).length).toBeGreaterThanOrEqual(75);
  });

  it('the caller hanging up during the bridge still requests the action (CallStatus completed, DialCallStatus completed), and its TwiML is not run', async () => {
    const phone = await SipPhone.open('desk', 400, { answer: true });
    try {
      // The action's answer would dial again; after a hang-up it must not run.
      const twiml = `<Response><Dial action="${web.baseUrl}/after"><Sip>${phone.uri}</Sip></Dial></Response>`;
      const parent = await place('sim:caller;tone=600;hangup=2', twiml);
      await phone.invited;
      const after = await actionRequest();
      expect(after.params).toMatchObject({ CallSid: parent, CallStatus: 'completed', DialCallStatus: 'completed', DialBridged: 'true' });
      await vi.waitFor(async () => expect((await t.request('GET', `${calls()}/${parent}.json`)).json<{ status: string }>().status).toBe('completed'), { timeout: 10_000 });
      // Nothing more was asked of the app for the parent after the action, and the phone was hung up.
      expect(web.requests.filter((r) => r.params.CallSid === parent && r.path !== '/after' && r.path !== '/voice')).toEqual([]);
      expect(phone.call?.ended ?? true).toBe(true);
    } finally {
      await phone.close();
    }
  });
});
