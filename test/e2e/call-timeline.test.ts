/**
 * A call's timeline (`Calls/{CallSid}/Timeline.json`, Conclave's own resource) with a real app
 * and real webhook receivers: its status moves, each TwiML fetch with its status and duration,
 * a status callback its receiver failed (HTTP 500), and the verbs it ran, in order.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallTimelineEntry } from '../../src/domain/call-timeline.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, startTwimlApp, type Receiver } from '../helpers/webhook-receiver.js';

describe('the timeline of a call', () => {
  let t: TestApp;
  let app: Awaited<ReturnType<typeof startTwimlApp>>;
  let callbacks: Receiver;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    app = await startTwimlApp();
    callbacks = await startReceiver((_request, response) => answer(response, 500, 'text/plain', 'down'));
  });
  afterEach(async () => {
    await t.close();
    await app.web.close();
    await callbacks.close();
  });

  it('lists the status moves, two TwiML fetches answered 200 with durations, the failed status callback and the verbs in order', async () => {
    const { web, routes } = app;
    routes.set('/voice', () => `<Response><Say>Welcome to the stand-up</Say><Redirect>${web.baseUrl}/room</Redirect></Response>`);
    routes.set('/room', () => '<Response><Dial><Conference>standup</Conference></Dial></Response>');
    const api = `/2010-04-01/Accounts/${t.accountSid}`;
    const created = await t.request('POST', `${api}/Calls.json`, {
      form: { To: 'sim:alice', From: '+15005550006', Url: `${web.baseUrl}/voice`, StatusCallback: `${callbacks.baseUrl}/status` },
    });
    expect(created.status).toBe(201);
    const callSid = created.json<{ sid: string }>().sid;
    const timeline = async (): Promise<CallTimelineEntry[]> => (await t.request('GET', `${api}/Calls/${callSid}/Timeline.json`)).json<{ events: CallTimelineEntry[] }>().events;

    await vi.waitFor(async () => expect((await timeline()).some((e) => e.kind === 'verb' && e.verb === 'Dial')).toBe(true), { timeout: 10_000 });
    await t.request('POST', `${api}/Calls/${callSid}.json`, { form: { Status: 'completed' } });
    const events = await vi.waitFor(
      async () => {
        const got = await timeline();
        expect(got.some((e) => e.kind === 'webhook' && e.purpose === 'status-callback')).toBe(true);
        return got;
      },
      { timeout: 10_000 },
    );

    for (const event of events) expect(new Date(event.time).toISOString()).toBe(event.time);
    expect(events.filter((e) => e.kind === 'status').map((e) => e.kind === 'status' && `${e.event} ${e.status}`)).toEqual([
      'initiated queued',
      'ringing ringing',
      'answered in-progress',
      'completed completed',
    ]);
    const webhooks = events.filter((e) => e.kind === 'webhook');
    expect(webhooks.map((e) => e.kind === 'webhook' && [e.purpose, e.method, e.url, e.status, e.errorCode])).toEqual([
      ['twiml', 'POST', `${web.baseUrl}/voice`, 200, undefined],
      ['twiml', 'POST', `${web.baseUrl}/room`, 200, undefined],
      ['status-callback', 'POST', `${callbacks.baseUrl}/status`, 500, 11200],
    ]);
    for (const webhook of webhooks) expect(webhook.kind === 'webhook' && webhook.durationMs).toBeGreaterThanOrEqual(0);
    expect(webhooks.at(-1)).toMatchObject({ error: expect.stringContaining('no usable HTTP answer') });
    expect(events.filter((e) => e.kind === 'verb')).toMatchObject([
      { verb: 'Say', attributes: { text: 'Welcome to the stand-up' } },
      { verb: 'Redirect', attributes: { url: `${web.baseUrl}/room` } },
      { verb: 'Dial', attributes: { noun: 'Conference', name: 'standup' } },
    ]);
    // In the order they happened: the Say after the first fetch, the Dial after the second, the callback after the end.
    const order = events.map((e) => (e.kind === 'status' ? e.event : e.kind === 'webhook' ? e.purpose : e.verb));
    expect(order.indexOf('Say')).toBeGreaterThan(order.indexOf('twiml'));
    expect(order.indexOf('Dial')).toBeGreaterThan(order.lastIndexOf('twiml'));
    expect(order.indexOf('status-callback')).toBeGreaterThan(order.indexOf('completed'));
  });

  it('shows a TwiML answer that is not TwiML as failed (HTTP 200, error 12100), then its fallback', async () => {
    const { web, routes } = app;
    routes.set('/bad', () => 'not a TwiML document');
    routes.set('/fallback', () => '<Response><Hangup/></Response>');
    const api = `/2010-04-01/Accounts/${t.accountSid}`;
    const created = await t.request('POST', `${api}/Calls.json`, {
      form: { To: 'sim:bob', From: '+15005550006', Url: `${web.baseUrl}/bad`, FallbackUrl: `${web.baseUrl}/fallback` },
    });
    const callSid = created.json<{ sid: string }>().sid;
    const events = await vi.waitFor(
      async () => {
        const got = (await t.request('GET', `${api}/Calls/${callSid}/Timeline.json`)).json<{ events: CallTimelineEntry[] }>().events;
        expect(got.some((e) => e.kind === 'verb' && e.verb === 'Hangup')).toBe(true);
        return got;
      },
      { timeout: 10_000 },
    );
    expect(events.filter((e) => e.kind === 'webhook')).toMatchObject([
      { purpose: 'twiml', url: `${web.baseUrl}/bad`, status: 200, errorCode: 12100, error: 'answered a body that is not a TwiML <Response> document' },
      { purpose: 'twiml', url: `${web.baseUrl}/fallback`, status: 200 },
    ]);
  });

  it('is 404 / 20404 for a call the account does not have', async () => {
    const res = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/CA${'0'.repeat(32)}/Timeline.json`);
    expect(res.status).toBe(404);
    expect(res.json<{ code: number }>().code).toBe(20404);
  });
});
