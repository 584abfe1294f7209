/**
 * Keys over real SIP and RTP: a phone presses keys as RFC 4733 events or, without
 * telephone-event, as in-band tones, into a number's `<Gather>`; Conclave calls one of its own
 * numbers over SIP and keys `<Play digits>` and `SendDigits` into that number's `<Gather>`;
 * `<Play digits>` reaches a phone as events or as tones; and keys pressed in a conference as
 * RFC 4733 are never heard by the others.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFrequencies, keysInAudio } from '../helpers/dtmf.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { ownNumber, placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver, type ReceivedRequest, type TwimlRoutes } from '../helpers/webhook-receiver.js';
import { goertzel } from '../media/goertzel.js';

const NUMBER = '+15551230000';

describe('keys over SIP', () => {
  let t: TestApp;
  let web: Receiver;
  let app: TwimlRoutes;
  const phones: SipPhone[] = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    ({ web, routes: app } = await startTwimlApp());
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
    app.set('/voice', () => `<Response><Gather timeout="10" action="/got"><Say>Enter your PIN, then press pound</Say></Gather><Hangup/></Response>`);
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await t.close();
    await web.close();
  });

  const numberUri = (): string => `sip:${NUMBER}@127.0.0.1:${t.app.sipAddress()!.port}`;
  async function phone(name: string, options: { answer?: boolean; telephoneEvent?: boolean } = {}): Promise<SipPhone> {
    const opened = await SipPhone.open(name, null, options);
    phones.push(opened);
    return opened;
  }
  const got = (): Promise<ReceivedRequest> => until(() => web.requests.find((r) => r.path === '/got'), 15_000, () => `the Gather's action; got ${web.requests.map((r) => r.path).join(', ')}`);

  it('a phone presses keys as RFC 4733 events into a <Gather>', async () => {
    const desk = await phone('desk');
    await desk.dial(numberUri());
    await desk.pressKeys('4711#');
    expect((await got()).params).toMatchObject({ Digits: '4711', FinishedOnKey: '#', Direction: 'inbound' });
  });

  it('a phone without telephone-event presses keys in-band; Conclave hears the tones', async () => {
    const old = await phone('analog', { telephoneEvent: false });
    await old.dial(numberUri());
    await old.pressKeys('90210#');
    expect((await got()).params).toMatchObject({ Digits: '90210', FinishedOnKey: '#' });
  });

  it('Conclave calls its own number over SIP and keys <Play digits> into its <Gather>', async () => {
    await placeCall(t, numberUri(), '<Response><Pause length="1"/><Play digits="w1234#"/><Pause length="10"/></Response>');
    expect((await got()).params).toMatchObject({ Digits: '1234', FinishedOnKey: '#', To: NUMBER });
  });

  it('Calls.create SendDigits keys the number once it answers, before the TwiML runs', async () => {
    const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
      form: { To: numberUri(), From: '+15005550006', Twiml: '<Response><Pause length="10"/></Response>', SendDigits: 'W8642#' },
    });
    expect(res.status).toBe(201);
    expect((await got()).params).toMatchObject({ Digits: '8642', FinishedOnKey: '#' });
  });

  it('<Play digits> reaches a phone as RFC 4733 events, or as tones when it has no telephone-event', async () => {
    const desk = await phone('desk2', { answer: true });
    await placeCall(t, desk.uri, '<Response><Play digits="159*"/><Pause length="5"/></Response>');
    await until(() => desk.keysHeard.join('') === '159*', 10_000, () => `RFC 4733 keys 159*; heard ${desk.keysHeard.join('')}`);

    const analog = await phone('analog2', { answer: true, telephoneEvent: false });
    await placeCall(t, analog.uri, '<Response><Play digits="260#"/><Pause length="5"/></Response>');
    await until(() => keysInAudio(analog.heardSince(0)) === '260#', 10_000, () => `tones 260#; heard ${keysInAudio(analog.heardSince(0))}`);
    expect(analog.keysHeard).toEqual([]);
  });

  it('keys pressed in a conference as RFC 4733 are never heard by the others', async () => {
    app.set('/voice', () => '<Response><Dial><Conference beep="false">quiet-keys</Conference></Dial></Response>');
    const listener = await phone('listener');
    const presser = await phone('presser');
    await listener.dial(numberUri());
    await presser.dial(numberUri());
    const since = performance.now();
    await presser.pressKeys('123456789*0#');
    await listener.waitHeard(since, 150);
    const heard = listener.heardSince(since);
    expect(keysInAudio(heard, 200)).toBe('');
    // Not even one key's tones, at any level a person would notice.
    const [low, high] = keyFrequencies('5');
    for (let at = 0; at + 160 <= heard.length; at += 160) {
      expect(goertzel(heard.subarray(at, at + 160), low)).toBeLessThan(100);
      expect(goertzel(heard.subarray(at, at + 160), high)).toBeLessThan(100);
    }
  });
});
