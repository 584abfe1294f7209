/**
 * The Application resource (twilio-oai CreateApplication, FetchApplication, UpdateApplication,
 * DeleteApplication, ListApplication) driven by the official `twilio` library (twilio-node v6)
 * against a real Conclave on each store: what a user of the library sees (instances, Dates,
 * pages followed, RestExceptions with Twilio's codes), the JSON checked key for key against
 * `api.v2010.account.application`, XML without a suffix and with `.xml`, and a number whose
 * VoiceApplicationSid names an application answering its calls with the application's URLs.
 */
import { ApplicationInstance } from 'twilio/lib/rest/api/v2010/account/application.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsPath } from '../helpers/paths.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { ManualClock, startTestApp, type TestApp } from '../helpers/test-app.js';
import { RecordingRequestClient, restException, twilioClient, type TwilioClient } from '../helpers/twilio-client.js';
import { schemaErrors, schemaKeys } from '../helpers/twilio-schema.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

type Json = Record<string, unknown>;

const SCHEMA = 'api.v2010.account.application';
/** A whole second: the API writes dates to the second (RFC 2822). */
const T0 = Date.UTC(2025, 5, 16, 9, 30, 0);
const MORE_INFO = (code: number): string => `https://www.twilio.com/docs/errors/${code}`;
const applicationsPath = (ac: string): string => `${accountsPath}/${ac}/Applications`;

describe.each(STORE_KINDS)('Applications through twilio-node on %s', (kind) => {
  let t: TestApp;
  let client: TwilioClient;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestApp(kind, { clock });
    client = twilioClient(t);
  });
  afterAll(async () => t?.close());

  /** A subaccount of the owner and a library client on it. */
  async function subaccount(name: string): Promise<{ sid: string; client: TwilioClient }> {
    const account = await client.api.v2010.accounts.create({ friendlyName: name });
    return { sid: account.sid, client: twilioClient(t, { username: account.sid, password: account.authToken }) };
  }

  it('create: an ApplicationInstance with every field, dates parsed; the JSON is the spec schema, key for key', async () => {
    clock.set(T0);
    const app = await client.applications.create({
      friendlyName: 'Browser calls',
      voiceUrl: 'https://example.com/voice?x=1',
      voiceMethod: 'GET',
      voiceFallbackUrl: 'http://fallback.example:8080/twiml',
      voiceFallbackMethod: 'GET',
      statusCallback: 'https://example.com/status',
      statusCallbackMethod: 'GET',
      voiceCallerIdLookup: true,
      smsUrl: 'https://example.com/sms',
      smsMethod: 'GET',
      smsFallbackUrl: 'https://example.com/sms-fallback',
      smsFallbackMethod: 'GET',
      smsStatusCallback: 'https://example.com/sms-status',
      messageStatusCallback: 'https://example.com/message-status',
      publicApplicationConnectEnabled: true,
    });
    expect(app).toBeInstanceOf(ApplicationInstance);
    expect(app.sid).toMatch(/^AP[0-9a-f]{32}$/);
    expect(app).toMatchObject({
      accountSid: t.accountSid,
      apiVersion: '2010-04-01',
      friendlyName: 'Browser calls',
      voiceUrl: 'https://example.com/voice?x=1',
      voiceMethod: 'GET',
      voiceFallbackUrl: 'http://fallback.example:8080/twiml',
      voiceFallbackMethod: 'GET',
      statusCallback: 'https://example.com/status',
      statusCallbackMethod: 'GET',
      voiceCallerIdLookup: true,
      smsUrl: 'https://example.com/sms',
      smsMethod: 'GET',
      smsFallbackUrl: 'https://example.com/sms-fallback',
      smsFallbackMethod: 'GET',
      smsStatusCallback: 'https://example.com/sms-status',
      messageStatusCallback: 'https://example.com/message-status',
      publicApplicationConnectEnabled: true,
      uri: `${applicationsPath(t.accountSid)}/${app.sid}.json`,
    });
    expect(app.dateCreated).toEqual(new Date(T0));
    expect(app.dateUpdated).toEqual(new Date(T0));

    const raw = await t.request('GET', `${applicationsPath(t.accountSid)}/${app.sid}.json`);
    expect(raw.status).toBe(200);
    const body = raw.json();
    expect(Object.keys(body)).toEqual(schemaKeys(SCHEMA));
    expect(schemaErrors(SCHEMA, body)).toEqual([]);
    expect(body).toMatchObject({ date_created: 'Mon, 16 Jun 2025 09:30:00 +0000', voice_caller_id_lookup: true, public_application_connect_enabled: true });
  });

  it('defaults: POST methods, no URLs, false flags; fetch gives the same instance', async () => {
    const app = await client.applications.create({ friendlyName: 'bare' });
    expect(app).toMatchObject({
      voiceUrl: null, voiceMethod: 'POST', voiceFallbackUrl: null, voiceFallbackMethod: 'POST', statusCallback: null, statusCallbackMethod: 'POST',
      voiceCallerIdLookup: false, smsUrl: null, smsMethod: 'POST', smsFallbackUrl: null, smsFallbackMethod: 'POST', smsStatusCallback: null,
      messageStatusCallback: null, publicApplicationConnectEnabled: false,
    });
    const fetched = await client.applications(app.sid).fetch();
    expect(fetched.toJSON()).toEqual(app.toJSON());
    const noName = (await t.request('POST', `${applicationsPath(t.accountSid)}.json`, { form: {} })).json();
    expect(schemaErrors(SCHEMA, noName)).toEqual([]);
    expect(noName.friendly_name).toBe('');
  });

  it('update: given fields change, an empty URL clears it, date_updated moves; no field changes nothing', async () => {
    clock.set(T0);
    const app = await client.applications.create({ friendlyName: 'to change', voiceUrl: 'https://example.com/a', statusCallback: 'https://example.com/s' });
    clock.set(T0 + 60_000);
    const updated = await client.applications(app.sid).update({ friendlyName: 'changed', voiceUrl: 'https://example.com/b', voiceMethod: 'GET', statusCallback: '' });
    expect(updated).toMatchObject({ friendlyName: 'changed', voiceUrl: 'https://example.com/b', voiceMethod: 'GET', statusCallback: null, dateCreated: new Date(T0) });
    expect(updated.dateUpdated).toEqual(new Date(T0 + 60_000));
    expect((await client.applications(app.sid).fetch()).toJSON()).toEqual(updated.toJSON());
    clock.set(T0 + 120_000);
    expect((await client.applications(app.sid).update({})).toJSON()).toEqual(updated.toJSON());
  });

  it('list: oldest first, FriendlyName filter, pages of PageSize followed by the library with the filter kept', async () => {
    const sub = await subaccount('lists');
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await sub.client.applications.create({ friendlyName: i % 2 === 0 ? 'even' : 'odd' })).sid);
    expect((await sub.client.applications.list()).map((a) => a.sid)).toEqual(made);

    const http = new RecordingRequestClient();
    const recorded = twilioClient(t, { username: t.accountSid, password: t.authToken, accountSid: sub.sid, httpClient: http });
    const evens = await recorded.applications.list({ friendlyName: 'even', pageSize: 2 });
    expect(evens.map((a) => a.sid)).toEqual([made[0], made[2], made[4]]);
    expect(http.requests.map((r) => r.url.searchParams.get('FriendlyName'))).toEqual(['even', 'even']);
    expect(http.requests[1]!.url.searchParams.get('PageToken')).toMatch(/^PA\d+$/);

    const page = await sub.client.applications.page({ pageSize: 2 });
    expect(page.instances.map((a) => a.sid)).toEqual(made.slice(0, 2));
    const next = await page.nextPage();
    expect(next?.instances.map((a) => a.sid)).toEqual(made.slice(2, 4));
    expect((await sub.client.applications.list({ friendlyName: 'nobody' }))).toEqual([]);
    // The owner's applications are not in the subaccount's list.
    expect((await client.applications.list({ friendlyName: 'even' }))).toEqual([]);

    const raw = (await t.request('GET', `${applicationsPath(sub.sid)}.json?FriendlyName=odd&PageSize=1`)).json<{ applications: Json[] } & Json>();
    expect(raw).toMatchObject({ page: 0, page_size: 1, start: 0, end: 0, previous_page_uri: null, uri: `${applicationsPath(sub.sid)}.json?FriendlyName=odd&PageSize=1&Page=0` });
    expect(raw.next_page_uri).toMatch(/FriendlyName=odd&PageSize=1&Page=1&PageToken=PA\d+$/);
    for (const a of raw.applications) expect(schemaErrors(SCHEMA, a)).toEqual([]);
  });

  it('XML without a suffix and with .xml: <Application> in the spec order, a list of <Applications>; CSV', async () => {
    const created = await t.request('POST', applicationsPath(t.accountSid), { form: { FriendlyName: 'xml & co', VoiceUrl: 'https://e.com/a?b=1&c=2' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/xml/);
    const sid = /<Sid>(AP[0-9a-f]{32})<\/Sid>/.exec(created.body)?.[1] as string;
    expect(created.body).toMatch(/^<TwilioResponse>\n<Application>\n<AccountSid>AC[0-9a-f]{32}<\/AccountSid>\n<ApiVersion>2010-04-01<\/ApiVersion>\n/);
    expect(created.body).toContain('<FriendlyName>xml &amp; co</FriendlyName>');
    expect(created.body).toContain(`<Uri>${applicationsPath(t.accountSid)}/${sid}</Uri>`);
    expect(created.body.endsWith('<PublicApplicationConnectEnabled>false</PublicApplicationConnectEnabled>\n</Application>\n</TwilioResponse>')).toBe(true);
    expect((await t.request('GET', `${applicationsPath(t.accountSid)}/${sid}.xml`)).body).toBe(created.body);
    const list = await t.request('GET', `${applicationsPath(t.accountSid)}?FriendlyName=${encodeURIComponent('xml & co')}`);
    expect(list.body).toMatch(/^<TwilioResponse>\n<Applications page="0" numpages="1" pagesize="50" total="1" start="0" end="0" /);
    const csv = await t.request('GET', `${applicationsPath(t.accountSid)}.csv?FriendlyName=${encodeURIComponent('xml & co')}`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, row] = csv.body.split('\r\n');
    expect(header).toBe(schemaKeys(SCHEMA).map((k) => k.replace(/(^|_)([a-z])/g, (_m, _s, ch: string) => ch.toUpperCase())).join(','));
    expect(row).toContain(`,xml & co,,${sid},`);
  });

  it('delete: resolves true, then fetch, update and delete are 404 / 20404', async () => {
    const app = await client.applications.create({ friendlyName: 'short-lived' });
    expect(await client.applications(app.sid).remove()).toBe(true);
    for (const work of [() => client.applications(app.sid).fetch(), () => client.applications(app.sid).update({ friendlyName: 'x' }), () => client.applications(app.sid).remove()]) {
      const error = await restException(work);
      expect(error).toMatchObject({ status: 404, code: 20404, moreInfo: MORE_INFO(20404) });
      expect(error.message).toContain(app.sid);
    }
  });

  it("another account's application is 404 / 20404, as an unknown SID is; the owner reaches its subaccount's", async () => {
    const sub = await subaccount('other');
    const theirs = await sub.client.applications.create({ friendlyName: 'theirs' });
    const other = await subaccount('neighbour');
    for (const work of [() => other.client.applications(theirs.sid).fetch(), () => other.client.applications(theirs.sid).remove(), () => client.applications(theirs.sid).fetch(), () => client.applications(`AP${'0'.repeat(32)}`).fetch()]) {
      expect(await restException(work)).toMatchObject({ status: 404, code: 20404 });
    }
    const owner = twilioClient(t, { accountSid: sub.sid });
    expect((await owner.applications(theirs.sid).fetch()).friendlyName).toBe('theirs');
    expect((await sub.client.applications(theirs.sid).fetch()).friendlyName).toBe('theirs');
  });

  it('refusals with Twilio codes: bad URLs 21402, methods other than GET/POST, FriendlyName over 64, bad booleans, ApiVersion 20001', async () => {
    const app = await client.applications.create({ friendlyName: 'kept', voiceUrl: 'https://example.com/kept' });
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ voiceUrl: '/relative' }, 21402, 'VoiceUrl is not a valid URL'],
      [{ voiceFallbackUrl: 'ftp://example.com/x' }, 21402, 'VoiceFallbackUrl'],
      [{ statusCallback: 'not a url' }, 21402, 'StatusCallback'],
      [{ smsUrl: `https://example.com/${'a'.repeat(4000)}` }, 21402, 'SmsUrl'],
      [{ messageStatusCallback: 'https://' }, 21402, 'MessageStatusCallback'],
      [{ voiceMethod: 'PUT' }, 20001, 'VoiceMethod'],
      [{ statusCallbackMethod: 'DELETE' }, 20001, 'StatusCallbackMethod'],
      [{ smsFallbackMethod: 'PATCH' }, 20001, 'SmsFallbackMethod'],
      [{ friendlyName: 'x'.repeat(65) }, 20001, 'FriendlyName'],
      [{ apiVersion: '2008-08-01' }, 20001, 'ApiVersion'],
    ];
    for (const [params, code, text] of cases) {
      for (const work of [() => client.applications.create({ friendlyName: 'refused', ...params }), () => client.applications(app.sid).update(params)]) {
        const error = await restException(work);
        expect(error, JSON.stringify(params).slice(0, 80)).toMatchObject({ status: 400, code, moreInfo: MORE_INFO(code) });
        expect(error.message).toContain(text);
      }
    }
    const bool = await t.request('POST', `${applicationsPath(t.accountSid)}.json`, { form: { VoiceCallerIdLookup: 'maybe' } });
    expect(bool.status).toBe(400);
    expect(bool.json()).toMatchObject({ code: 20001, status: 400 });
    expect((await client.applications.create({ friendlyName: 'x'.repeat(64), apiVersion: '2010-04-01' })).friendlyName).toHaveLength(64);
    expect((await client.applications(app.sid).fetch()).toJSON()).toEqual(app.toJSON());
    expect((await client.applications.list({ friendlyName: 'refused' }))).toEqual([]);
    // As a list filter, a name longer than any application's matches none: no error.
    expect((await client.applications.list({ friendlyName: 'x'.repeat(65) }))).toEqual([]);
  });
});

describe.each(STORE_KINDS)("a number's VoiceApplicationSid on %s", (kind) => {
  let t: TestApp;
  let client: TwilioClient;
  let web: Receiver;

  beforeAll(async () => {
    t = await startTestApp(kind);
    client = twilioClient(t);
    web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', '<Response><Hangup/></Response>'));
  });
  afterAll(async () => {
    await t?.close();
    await web?.close();
  });

  /** A simulated caller dials the number; resolves with the webhook request its call made. */
  async function callNumber(number: string): Promise<{ method: string; path: string }> {
    const before = web.requests.length;
    const res = await t.request('POST', `${accountsPath}/${t.accountSid}/SimulatedCalls.json`, { form: { From: 'sim:caller', To: number } });
    expect(res.status, res.body).toBe(201);
    await web.received(before + 1);
    const request = web.requests[before]!;
    return { method: request.method, path: request.path.split('?')[0]! };
  }

  it("while set, the application's voice URL and method answer the number's calls instead of its own; deleting the application gives the number its own back", async () => {
    const app = await client.applications.create({ friendlyName: 'answers', voiceUrl: `${web.baseUrl}/app`, voiceMethod: 'GET' });
    const number = await client.incomingPhoneNumbers.create({ phoneNumber: '+15005550101', voiceUrl: `${web.baseUrl}/own`, voiceApplicationSid: app.sid });
    expect(number.voiceApplicationSid).toBe(app.sid);
    expect(number.voiceUrl).toBe(`${web.baseUrl}/own`);
    expect(await callNumber('+15005550101')).toEqual({ method: 'GET', path: '/app' });

    await client.applications(app.sid).update({ voiceUrl: `${web.baseUrl}/app-moved`, voiceMethod: 'POST' });
    expect(await callNumber('+15005550101')).toEqual({ method: 'POST', path: '/app-moved' });

    await client.applications(app.sid).remove();
    expect((await client.incomingPhoneNumbers(number.sid).fetch()).voiceApplicationSid).toBeNull();
    expect(await callNumber('+15005550101')).toEqual({ method: 'POST', path: '/own' });
  });

  it("Calls.create with ApplicationSid: the application's voice URL and method handle the call, Url given beside it is ignored; another account's or an unknown one is 21218", async () => {
    const app = await client.applications.create({ friendlyName: 'outbound', voiceUrl: `${web.baseUrl}/placed`, voiceMethod: 'GET' });
    const before = web.requests.length;
    await client.calls.create({ to: 'sim:callee', from: '+15005550106', applicationSid: app.sid, url: `${web.baseUrl}/ignored` });
    await web.received(before + 1);
    const request = web.requests[before]!;
    expect({ method: request.method, path: request.path.split('?')[0] }).toEqual({ method: 'GET', path: '/placed' });

    const sub = await client.api.v2010.accounts.create({ friendlyName: 'not yours' });
    const theirs = await twilioClient(t, { username: sub.sid, password: sub.authToken }).applications.create({ friendlyName: 'theirs', voiceUrl: `${web.baseUrl}/theirs` });
    for (const sid of [theirs.sid, `AP${'0'.repeat(32)}`]) {
      expect(await restException(() => client.calls.create({ to: 'sim:callee', from: '+15005550106', applicationSid: sid }))).toMatchObject({ status: 400, code: 21218 });
    }
  });

  it('an empty VoiceApplicationSid lets go of it; one of another account is 21218, a malformed one 20001', async () => {
    const app = await client.applications.create({ friendlyName: 'let go', voiceUrl: `${web.baseUrl}/app` });
    const number = await client.incomingPhoneNumbers.create({ phoneNumber: '+15005550102', voiceUrl: `${web.baseUrl}/own`, voiceApplicationSid: app.sid });
    expect((await client.incomingPhoneNumbers(number.sid).update({ voiceApplicationSid: '' })).voiceApplicationSid).toBeNull();
    expect(await callNumber('+15005550102')).toEqual({ method: 'POST', path: '/own' });

    const sub = await client.api.v2010.accounts.create({ friendlyName: 'elsewhere' });
    const theirs = await twilioClient(t, { username: sub.sid, password: sub.authToken }).applications.create({ friendlyName: 'theirs' });
    for (const work of [
      () => client.incomingPhoneNumbers(number.sid).update({ voiceApplicationSid: theirs.sid }),
      () => client.incomingPhoneNumbers.create({ phoneNumber: '+15005550103', voiceApplicationSid: `AP${'0'.repeat(32)}` }),
    ]) {
      expect(await restException(work)).toMatchObject({ status: 400, code: 21218, moreInfo: MORE_INFO(21218) });
    }
    expect(await restException(() => client.incomingPhoneNumbers(number.sid).update({ voiceApplicationSid: 'AP123' }))).toMatchObject({ status: 400, code: 20001 });
    expect((await client.incomingPhoneNumbers(number.sid).fetch()).voiceApplicationSid).toBeNull();
  });
});

