/**
 * `TimeLimit` (https://www.twilio.com/docs/voice/api/call-resource): the maximum duration of a
 * call, counted from its answer, for any call placed through the API — here a simulated phone,
 * as the trunk tests do it for numbers. When it runs out Conclave hangs up and the call ends
 * `completed` with its duration; a Calls update with `TimeLimit` gives a live call a new one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const PAUSE = '<Response><Pause length="60"/></Response>';

describe('TimeLimit', () => {
  let t: TestApp;
  let web: Receiver;
  let calls: string;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    web = await startReceiver((_request, response) => answer(response, 204, 'text/plain', ''));
    calls = `/2010-04-01/Accounts/${t.accountSid}/Calls`;
  });
  afterAll(async () => {
    await t?.close();
    await web?.close();
  });

  const fetchCall = async (sid: string): Promise<{ status: string; duration: string | null }> => (await t.request('GET', `${calls}/${sid}.json`)).json();
  const completed = (sid: string): Promise<{ status: string; duration: string | null }> =>
    until(async () => {
      const call = await fetchCall(sid);
      return call.status === 'completed' ? call : undefined;
    }, 10_000, `${sid} to complete`);

  it('hangs a placed call up when its TimeLimit runs out: the status callback says completed, with the duration', async () => {
    const created = await t.request('POST', `${calls}.json`, {
      form: { To: 'sim:bob', From: '+15551230000', Twiml: PAUSE, TimeLimit: '2', StatusCallback: `${web.baseUrl}/status`, StatusCallbackEvent: 'answered completed' },
    });
    expect(created.status).toBe(201);
    const sid = created.json<{ sid: string }>().sid;
    const callback = await until(() => web.requests.find((r) => r.params.CallSid === sid && r.params.CallStatus === 'completed'), 10_000, 'the completed callback');
    expect(web.requests.some((r) => r.params.CallSid === sid && r.params.CallStatus === 'in-progress')).toBe(true);
    expect(Number(callback.params.CallDuration)).toBeGreaterThanOrEqual(2);
    expect(Number(callback.params.CallDuration)).toBeLessThanOrEqual(4);
    expect((await fetchCall(sid)).status).toBe('completed');
  });

  it('a Calls update with TimeLimit shortens a live call; an ended call refuses one', async () => {
    const created = await t.request('POST', `${calls}.json`, { form: { To: 'sim:carol', From: '+15551230000', Twiml: PAUSE } });
    const sid = created.json<{ sid: string }>().sid;
    await until(async () => (await fetchCall(sid)).status === 'in-progress', 5_000, 'the call to be answered');
    const updated = await t.request('POST', `${calls}/${sid}.json`, { form: { TimeLimit: '1' } });
    expect(updated.status).toBe(200);
    const ended = await completed(sid);
    expect(Number(ended.duration)).toBeLessThanOrEqual(3);

    const late = await t.request('POST', `${calls}/${sid}.json`, { form: { TimeLimit: '60' } });
    expect(late.status).toBe(400);
    expect(late.json<{ message: string }>().message).toMatch(/is completed: a TimeLimit is for a live call/);
    const invalid = await t.request('POST', `${calls}/${sid}.json`, { form: { TimeLimit: '0' } });
    expect(invalid.status).toBe(400);
    expect(invalid.json<{ message: string }>().message).toMatch(/^Invalid TimeLimit: /);
  });
});
