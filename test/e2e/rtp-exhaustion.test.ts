/**
 * When every RTP port pair is taken, a new caller is refused at once with 503 (Retry-After: 5,
 * RFC 3261 §21.5.4) — not left ringing while the TwiML is fetched and then never answered —
 * and the next caller after a hang-up gets through again. Real SIP phones over UDP.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SipPhone } from '../helpers/sip-phone.js';
import { ownNumber, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const NUMBER = '+15005550123';

describe('an RTP port range that is full', () => {
  let t: TestApp;
  let web: Receiver;
  const phones: SipPhone[] = [];

  beforeEach(async () => {
    // Two pairs: 43100/43101 and 43102/43103.
    t = await startTestApp('sqlite', { sip: true, media: { rtpPorts: { min: 43100, max: 43103 } } });
    web = await startReceiver((_r, response) => answer(response, 200, 'text/xml', '<Response><Dial><Conference>full</Conference></Dial></Response>'));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
  });
  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
    await t.close();
    await web.close();
  });

  const phone = async (name: string): Promise<SipPhone> => {
    const p = await SipPhone.open(name, null);
    phones.push(p);
    return p;
  };
  const target = (): string => `sip:${NUMBER}@127.0.0.1:${t.app.sipAddress()!.port}`;

  it('answers the next caller 503 with Retry-After at once, and takes calls again after a hang-up', async () => {
    const first = await phone('first');
    await first.dial(target());
    await (await phone('second')).dial(target());
    const fetched = web.requests.length;

    const third = await phone('third');
    const refused = await third.dial(target()).then(
      () => undefined,
      (error: { status?: number }) => error,
    );
    expect(refused).toMatchObject({ status: 503 });
    expect(web.requests.length).toBe(fetched); // refused before any TwiML was fetched

    first.call!.hangup();
    await vi.waitFor(
      async () => {
        const calls = (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls.json?Status=in-progress`)).json<{ calls: unknown[] }>().calls;
        expect(calls).toHaveLength(1);
      },
      { timeout: 10_000 },
    );
    const fourth = await phone('fourth');
    await vi.waitFor(() => fourth.dial(target()), { timeout: 10_000, interval: 200 });
  });
});
