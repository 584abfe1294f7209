/**
 * The Participant resource beyond the seed: every current JSON key (validated against Twilio's
 * OpenAPI schema), addressing by label, hold, coaching, end-on-exit, CSV, paging that yields
 * every participant exactly once while others join, and participants that left being gone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { participantsPath } from '../helpers/paths.js';
import { schemaErrors, schemaKeys } from '../helpers/twilio-schema.js';

type Json = Record<string, unknown>;

describe.each(STORE_KINDS)('participants on %s', (kind) => {
  let t: TestApp;
  let cf: string;
  let base: string;
  let first: string;

  beforeEach(async () => {
    t = await startTestApp(kind);
    const joined = await t.join('room', { label: 'agent 1' });
    cf = joined.conference.sid;
    first = joined.participant.callSid;
    base = participantsPath(t.accountSid, cf);
  });
  afterEach(async () => t.close());

  it('JSON has every current key, in Twilio order, valid against the OpenAPI schema', async () => {
    const body = (await t.request('GET', `${base}/${first}.json`)).json();
    expect(Object.keys(body)).toEqual(schemaKeys('api.v2010.account.conference.participant'));
    expect(schemaErrors('api.v2010.account.conference.participant', body)).toEqual([]);
    expect(body).toMatchObject({
      account_sid: t.accountSid,
      call_sid: first,
      label: 'agent 1',
      conference_sid: cf,
      status: 'connected',
      muted: false,
      hold: false,
      coaching: false,
      call_sid_to_coach: null,
      queue_time: null,
      uri: `${base}/${first}.json`,
    });
    expect(body.date_created).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/);
  });

  it('addresses a participant by percent-encoded label for fetch, update and delete', async () => {
    const fetched = await t.request('GET', `${base}/agent%201.json`);
    expect(fetched.json().call_sid).toBe(first);
    const held = await t.request('POST', `${base}/agent%201.json`, { form: { Hold: 'true' } });
    expect(held.json()).toMatchObject({ call_sid: first, hold: true });
    await t.join('room');
    expect((await t.request('DELETE', `${base}/agent%201.json`)).status).toBe(204);
    expect((await t.request('GET', `${base}/agent%201.json`)).status).toBe(404);
  });

  it('updates Hold, EndConferenceOnExit and BeepOnExit; a bad boolean is a 400 naming the field', async () => {
    const res = await t.request('POST', `${base}/${first}.json`, { form: { Hold: 'true', EndConferenceOnExit: 'true', BeepOnExit: 'false' } });
    expect(res.json()).toMatchObject({ hold: true, end_conference_on_exit: true });
    const bad = await t.request('POST', `${base}/${first}.json`, { form: { Hold: 'perhaps' } });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ status: 400, code: 20001 });
    expect(String(bad.json().message)).toContain('Hold');
    const unchanged = (await t.request('GET', `${base}/${first}.json`)).json();
    expect(unchanged.hold).toBe(true);
  });

  it('coaching needs a CallSidToCoach that is a participant of the same conference', async () => {
    const coachee = await t.join('room');
    const elsewhere = await t.join('other-room');
    const refusals: Array<Record<string, string>> = [
      { Coaching: 'true' },
      { Coaching: 'true', CallSidToCoach: elsewhere.participant.callSid },
      { CallSidToCoach: first },
      { CallSidToCoach: 'CAnot-a-sid' },
    ];
    for (const form of refusals) {
      const res = await t.request('POST', `${base}/${first}.json`, { form });
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(String(res.json().message)).toContain('CallSidToCoach');
    }
    const ok = await t.request('POST', `${base}/${first}.json`, { form: { Coaching: 'true', CallSidToCoach: coachee.participant.callSid } });
    expect(ok.json()).toMatchObject({ coaching: true, call_sid_to_coach: coachee.participant.callSid });
    const coaching = (await t.request('GET', `${base}.json?Coaching=true`)).json();
    expect((coaching.participants as Json[]).map((p) => p.call_sid)).toEqual([first]);
    const off = await t.request('POST', `${base}/${first}.json`, { form: { Coaching: 'false' } });
    expect(off.json()).toMatchObject({ coaching: false, call_sid_to_coach: null });
  });

  it('a coach whose coachee leaves coaches nobody', async () => {
    const coachee = await t.join('room');
    await t.join('room');
    await t.request('POST', `${base}/${first}.json`, { form: { CallSidToCoach: coachee.participant.callSid } });
    await t.request('DELETE', `${base}/${coachee.participant.callSid}.json`);
    expect((await t.request('GET', `${base}/${first}.json`)).json()).toMatchObject({ coaching: false, call_sid_to_coach: null });
  });

  it('answers 405 to PUT and PATCH', async () => {
    for (const [method, path] of [['PUT', `${base}/${first}`], ['PATCH', `${base}/${first}`], ['PUT', base]] as const) {
      const res = await t.request(method, `${path}.json`, { form: { Muted: 'true' } });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.json()).toMatchObject({ code: 20004, status: 405 });
    }
  });

  it('refuses a HoldUrl that is not an http(s) URL, naming it', async () => {
    const res = await t.request('POST', `${base}/${first}.json`, { form: { Hold: 'true', HoldUrl: 'ftp://example.test/music.wav' } });
    expect(res.status).toBe(400);
    expect(String(res.json().message)).toContain('HoldUrl');
    expect((await t.request('GET', `${base}/${first}.json`)).json().hold).toBe(false);
  });

  it('ignores unknown form fields, as Twilio does', async () => {
    const res = await t.request('POST', `${base}/${first}.json`, { form: { Mute: 'true', Hold: 'true' } });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ muted: false, hold: true });
  });

  it('a participant who left is gone from fetch and list', async () => {
    const other = await t.join('room');
    await t.request('DELETE', `${base}/${other.participant.callSid}`);
    expect((await t.request('GET', `${base}/${other.participant.callSid}.json`)).json()).toMatchObject({ status: 404, code: 20404 });
    const list = (await t.request('GET', `${base}.json`)).json();
    expect((list.participants as Json[]).map((p) => p.call_sid)).toEqual([first]);
  });

  it('lists in CSV with the header row first', async () => {
    await t.join('room', { label: 'with, comma' });
    const res = await t.request('GET', `${base}.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'AccountSid,CallSid,Label,CallSidToCoach,Coaching,ConferenceSid,DateCreated,DateUpdated,EndConferenceOnExit,Muted,Hold,StartConferenceOnEnter,Status,QueueTime,Uri',
    );
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('"with, comma"');
    expect(lines[1]).toContain(`${base}/${first}.csv`);
  });

  it('pages: links carry filters and PageSize, and next_page_uri to the end yields everyone once while others join', async () => {
    for (let i = 0; i < 11; i++) await t.join('room');
    const all = ((await t.request('GET', `${base}.json?PageSize=1000`)).json().participants as Json[]).map((p) => p.call_sid);
    expect(all).toHaveLength(12);

    const seen: unknown[] = [];
    let next: string | null = `${base}.json?PageSize=5`;
    let pages = 0;
    while (next) {
      const page: Json = (await t.request('GET', next)).json();
      expect(page.page).toBe(pages);
      expect(page.page_size).toBe(5);
      seen.push(...(page.participants as Json[]).map((p) => p.call_sid));
      if (pages === 0) {
        // Somebody joins and somebody else leaves while the client is paging.
        await t.join('room');
        await t.request('DELETE', `${base}/${all[11] as string}`);
      }
      next = page.next_page_uri as string | null;
      if (next) expect(next).toMatch(/PageSize=5&Page=\d+&PageToken=PA\d+$/);
      pages++;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const sid of all.slice(0, 11)) expect(seen).toContain(sid);
  });

  it('pages backwards with previous_page_uri and reports legacy totals', async () => {
    for (let i = 0; i < 4; i++) await t.join('room');
    const p0 = (await t.request('GET', `${base}.json?PageSize=2`)).json();
    expect(p0).toMatchObject({ total: 5, num_pages: 3, start: 0, end: 1, previous_page_uri: null });
    expect(p0.last_page_uri).toBe(`${base}.json?PageSize=2&Page=2`);
    const p1 = (await t.request('GET', p0.next_page_uri as string)).json();
    expect(p1).toMatchObject({ page: 1, start: 2, end: 3 });
    const back = (await t.request('GET', p1.previous_page_uri as string)).json();
    expect(back.participants).toEqual(p0.participants);
    const legacy = (await t.request('GET', `${base}.json?PageSize=2&Page=2`)).json();
    expect((legacy.participants as Json[]).length).toBe(1);
    expect(legacy.next_page_uri).toBeNull();
  });

  it('filters by Hold and combines filters', async () => {
    const held = await t.join('room', { hold: true, muted: true });
    await t.join('room', { muted: true });
    const list = (await t.request('GET', `${base}.json?Hold=true&Muted=true`)).json();
    expect((list.participants as Json[]).map((p) => p.call_sid)).toEqual([held.participant.callSid]);
    expect(list.uri).toBe(`${base}.json?Muted=true&Hold=true&PageSize=50&Page=0`);
  });

  it('a conference that does not exist answers 404 for its participants', async () => {
    const res = await t.request('GET', participantsPath(t.accountSid, 'CF00000000000000000000000000000000') + '.json');
    expect(res.status).toBe(404);
    expect(res.json().message).toBe(
      `The requested resource ${participantsPath(t.accountSid, 'CF00000000000000000000000000000000')}.json was not found`,
    );
  });
});
