/**
 * The IncomingPhoneNumber resource over HTTP (twilio-oai CreateIncomingPhoneNumber,
 * FetchIncomingPhoneNumber, ListIncomingPhoneNumber, UpdateIncomingPhoneNumber,
 * DeleteIncomingPhoneNumber): every key of `api.v2010.account.incoming_phone_number` in JSON,
 * XML and CSV; the list's filters; the refusals and their Twilio codes (21421 invalid number,
 * 21422 number not available, 21502 invalid callback url, 20001 unsupported parameter); who may
 * reach a number; API keys; the twilio-node library; and `routeInbound` for the call engine.
 */
import { IncomingPhoneNumberInstance } from 'twilio/lib/rest/api/v2010/account/incomingPhoneNumber.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeInbound } from '../../src/services/phone-numbers.js';
import { accountsPath } from '../helpers/paths.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { ManualClock, startTestApp, type HttpResult, type TestApp } from '../helpers/test-app.js';
import { restException, twilioClient } from '../helpers/twilio-client.js';
import { schemaErrors, schemaKeys } from '../helpers/twilio-schema.js';

type Json = Record<string, unknown>;
type Page = { incoming_phone_numbers: Json[] } & Json;

const SCHEMA = 'api.v2010.account.incoming_phone_number';
const T0 = Date.UTC(2025, 5, 16, 9, 30, 0);
const numbersPath = (ac: string): string => `${accountsPath}/${ac}/IncomingPhoneNumbers`;
const numberPath = (ac: string, pn: string): string => `${numbersPath(ac)}/${pn}`;

let counter = 0;
/** A number no other test of the suite uses. */
const fresh = (): string => `+1500555${String(++counter).padStart(4, '0')}`;

function expectError(res: HttpResult, status: number, code: number, ...inMessage: string[]): void {
  expect(res.status).toBe(status);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'more_info', 'status']);
  expect(body).toMatchObject({ status, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
  for (const text of inMessage) expect(body.message).toContain(text);
}

describe.each(STORE_KINDS)('IncomingPhoneNumbers over HTTP on %s', (kind) => {
  let t: TestApp;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestApp(kind, { clock });
  });
  afterAll(async () => t?.close());

  async function register(form: Record<string, string>, ac = t.accountSid, auth?: string): Promise<Json> {
    const res = await t.request('POST', `${numbersPath(ac)}.json`, { form, ...(auth ? { auth } : {}) });
    expect(res.status).toBe(201);
    return res.json();
  }

  async function subaccount(name: string): Promise<{ sid: string; auth: string }> {
    const body = (await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: name } })).json();
    return { sid: body.sid as string, auth: `${body.sid as string}:${body.auth_token as string}` };
  }

  it('POST IncomingPhoneNumbers.json registers a number: 201, every key of the schema, voice defaults', async () => {
    clock.set(T0);
    const number = fresh();
    const res = await t.request('POST', `${numbersPath(t.accountSid)}.json`, { form: { PhoneNumber: number } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body)).toEqual(schemaKeys(SCHEMA));
    expect(schemaErrors(SCHEMA, body)).toEqual([]);
    expect(body.sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(body).toEqual({
      account_sid: t.accountSid, address_sid: null, address_requirements: 'none', api_version: '2010-04-01', beta: false,
      capabilities: { voice: true, sms: false, mms: false, fax: false },
      date_created: 'Mon, 16 Jun 2025 09:30:00 +0000', date_updated: 'Mon, 16 Jun 2025 09:30:00 +0000',
      friendly_name: number, identity_sid: null, phone_number: number, origin: 'hosted', sid: body.sid,
      sms_application_sid: null, sms_fallback_method: 'POST', sms_fallback_url: null, sms_method: 'POST', sms_url: null,
      status_callback: null, status_callback_method: 'POST', trunk_sid: null, uri: `${numberPath(t.accountSid, body.sid as string)}.json`,
      voice_receive_mode: 'voice', voice_application_sid: null, voice_caller_id_lookup: false,
      voice_fallback_method: 'POST', voice_fallback_url: null, voice_method: 'POST', voice_url: null,
      emergency_status: 'Inactive', emergency_address_sid: null, emergency_address_status: 'unregistered', bundle_sid: null,
      status: 'in-use', type: null,
    });
    expect((await t.request('GET', `${numberPath(t.accountSid, body.sid as string)}.json`)).json()).toEqual(body);
  });

  it('create with every voice field; methods in any case; SMS and regulatory fields are ignored', async () => {
    const body = await register({
      PhoneNumber: fresh(), FriendlyName: 'Front desk', VoiceUrl: 'https://example.com/voice?x=1', VoiceMethod: 'get',
      VoiceFallbackUrl: 'http://fallback.example:8080/twiml', VoiceFallbackMethod: 'GET', StatusCallback: 'https://example.com/status',
      StatusCallbackMethod: 'post', SmsUrl: 'https://example.com/sms', SmsMethod: 'GET', VoiceCallerIdLookup: 'true',
      AddressSid: `AD${'0'.repeat(32)}`, BundleSid: 'anything', VoiceApplicationSid: '', TrunkSid: '', VoiceReceiveMode: 'voice', EmergencyStatus: 'Inactive',
    });
    expect(schemaErrors(SCHEMA, body)).toEqual([]);
    expect(body).toMatchObject({
      friendly_name: 'Front desk', voice_url: 'https://example.com/voice?x=1', voice_method: 'GET',
      voice_fallback_url: 'http://fallback.example:8080/twiml', voice_fallback_method: 'GET',
      status_callback: 'https://example.com/status', status_callback_method: 'POST',
      sms_url: null, sms_method: 'POST', address_sid: null, bundle_sid: null, voice_caller_id_lookup: false,
    });
  });

  it('XML by default: PascalCase in the spec order, SMS and MMS capabilities, URIs without suffix', async () => {
    const number = fresh();
    const res = await t.request('POST', numbersPath(t.accountSid), { form: { PhoneNumber: number, VoiceUrl: 'https://e.com/a?b=1&c=2' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    const sid = /<Sid>(PN[0-9a-f]{32})<\/Sid>/.exec(res.body)?.[1] as string;
    expect(res.body).toMatch(/^<TwilioResponse>\n<IncomingPhoneNumber>\n<AccountSid>AC[0-9a-f]{32}<\/AccountSid>\n<AddressSid\/>\n<AddressRequirements>none<\/AddressRequirements>\n/);
    expect(res.body).toContain('<Capabilities>\n<Voice>true</Voice>\n<SMS>false</SMS>\n<MMS>false</MMS>\n<Fax>false</Fax>\n</Capabilities>\n<DateCreated>');
    expect(res.body).toContain(`<PhoneNumber>${number}</PhoneNumber>`);
    expect(res.body).toContain('<VoiceUrl>https://e.com/a?b=1&amp;c=2</VoiceUrl>');
    expect(res.body).toContain(`<Uri>${numberPath(t.accountSid, sid)}</Uri>`);
    expect(res.body.endsWith('<Status>in-use</Status>\n<Type/>\n</IncomingPhoneNumber>\n</TwilioResponse>')).toBe(true);
    const fetched = await t.request('GET', numberPath(t.accountSid, sid));
    expect(fetched.body).toBe(res.body);
  });

  it('list: oldest first, filters PhoneNumber and FriendlyName carried into page links, Beta and Origin', async () => {
    const sub = await subaccount('lister');
    const a = await register({ PhoneNumber: fresh(), FriendlyName: 'twin' }, sub.sid);
    const b = await register({ PhoneNumber: fresh(), FriendlyName: 'twin' }, sub.sid);
    const c = await register({ PhoneNumber: fresh() }, sub.sid);
    const all = (await t.request('GET', `${numbersPath(sub.sid)}.json`, { auth: sub.auth })).json<Page>();
    expect(all.incoming_phone_numbers.map((n) => n.sid)).toEqual([a.sid, b.sid, c.sid]);
    for (const n of all.incoming_phone_numbers) expect(schemaErrors(SCHEMA, n)).toEqual([]);
    expect(all).toMatchObject({ page: 0, page_size: 50, start: 0, end: 2, next_page_uri: null, uri: `${numbersPath(sub.sid)}.json?PageSize=50&Page=0` });

    const page1 = (await t.request('GET', `${numbersPath(sub.sid)}.json?FriendlyName=twin&PageSize=1`)).json<Page>();
    expect(page1.incoming_phone_numbers.map((n) => n.sid)).toEqual([a.sid]);
    expect(page1.next_page_uri).toContain('FriendlyName=twin');
    const page2 = (await t.request('GET', page1.next_page_uri as string)).json<Page>();
    expect(page2.incoming_phone_numbers.map((n) => n.sid)).toEqual([b.sid]);

    const byNumber = await t.request('GET', `${numbersPath(sub.sid)}.json?PhoneNumber=${encodeURIComponent(c.phone_number as string)}`);
    expect(byNumber.json<Page>().incoming_phone_numbers.map((n) => n.sid)).toEqual([c.sid]);
    const sids = async (query: string): Promise<unknown[]> =>
      (await t.request('GET', `${numbersPath(sub.sid)}.json?${query}`)).json<Page>().incoming_phone_numbers.map((n) => n.sid);
    expect(await sids('Beta=true')).toEqual([]);
    expect(await sids('Beta=false&Origin=hosted')).toEqual([a.sid, b.sid, c.sid]);
    expect(await sids('Origin=twilio')).toEqual([]);
    expect(await sids('PhoneNumber=%2B19999999999')).toEqual([]);
    // Another account's number is not in this list, even by its number.
    expect(await sids(`PhoneNumber=${encodeURIComponent((await register({ PhoneNumber: fresh() })).phone_number as string)}`)).toEqual([]);
    expectError(await t.request('GET', `${numbersPath(sub.sid)}.json?PhoneNumber=555`), 400, 21421, 'PhoneNumber');
    expectError(await t.request('GET', `${numbersPath(sub.sid)}.json?PhoneNumber=+15005550006`), 400, 21421, '%2B');
    expectError(await t.request('GET', `${numbersPath(sub.sid)}.json?Beta=maybe`), 400, 20001, 'Beta');

    const xml = await t.request('GET', `${numbersPath(sub.sid)}?FriendlyName=twin`);
    expect(xml.body).toMatch(/^<TwilioResponse>\n<IncomingPhoneNumbers page="0" numpages="1" pagesize="50" total="2" start="0" end="1" /);
    expect(xml.body.match(/<IncomingPhoneNumber>/g)).toHaveLength(2);
  });

  it('CSV: a header of the PascalCase keys without capabilities, one row per number', async () => {
    const sub = await subaccount('csv');
    const a = await register({ PhoneNumber: fresh(), FriendlyName: 'Sales, "EMEA"' }, sub.sid);
    const res = await t.request('GET', `${numbersPath(sub.sid)}.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = res.body.split('\r\n');
    expect(lines[0]).toBe(schemaKeys(SCHEMA).filter((k) => k !== 'capabilities').map((k) => k.replace(/(^|_)([a-z])/g, (_m, _s, ch: string) => ch.toUpperCase())).join(','));
    expect(lines[0]).toMatch(/^AccountSid,AddressSid,AddressRequirements,ApiVersion,Beta,DateCreated,/);
    expect(lines[1]).toContain(`${sub.sid},,none,2010-04-01,false,`);
    // The E.164 number starts with '+': neutralised against spreadsheet formulas (csv.ts).
    expect(lines[1]).toContain(`"Sales, ""EMEA""",,"'${a.phone_number as string}",hosted,${a.sid as string},`);
    expect(lines[1]).toContain(`${numberPath(sub.sid, a.sid as string)}.csv`);
    expect(lines.slice(2)).toEqual(['']);
  });

  it('update: voice fields change, an empty URL clears it, date_updated moves; no field changes nothing', async () => {
    clock.set(T0);
    const n = await register({ PhoneNumber: fresh(), VoiceUrl: 'https://example.com/a', StatusCallback: 'https://example.com/s' });
    const path = `${numberPath(t.accountSid, n.sid as string)}.json`;
    clock.set(T0 + 60_000);
    const res = await t.request('POST', path, { form: { FriendlyName: 'Renamed', VoiceUrl: 'https://example.com/b', VoiceMethod: 'GET', StatusCallback: '' } });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(schemaErrors(SCHEMA, body)).toEqual([]);
    expect(body).toMatchObject({ friendly_name: 'Renamed', voice_url: 'https://example.com/b', voice_method: 'GET', status_callback: null });
    expect(body).toMatchObject({ phone_number: n.phone_number, date_created: n.date_created, date_updated: 'Mon, 16 Jun 2025 09:31:00 +0000' });
    expect((await t.request('GET', path)).json()).toEqual(body);
    clock.set(T0 + 120_000);
    expect((await t.request('POST', path, { form: {} })).json()).toEqual(body);
    const same = await t.request('POST', path, { form: { AccountSid: t.accountSid, SmsUrl: 'https://example.com/sms', FriendlyName: '' } });
    expect(same.json()).toMatchObject({ friendly_name: n.phone_number, sms_url: null });
  });

  it('update refuses PhoneNumber, AccountSid of another account, bad URLs and methods', async () => {
    const n = await register({ PhoneNumber: fresh(), VoiceUrl: 'https://example.com/a' });
    const path = `${numberPath(t.accountSid, n.sid as string)}.json`;
    expectError(await t.request('POST', path, { form: { PhoneNumber: fresh() } }), 400, 20001, 'PhoneNumber');
    const sub = await subaccount('no transfers');
    expectError(await t.request('POST', path, { form: { AccountSid: sub.sid } }), 400, 20001, 'AccountSid', 'not supported by Conclave');
    expectError(await t.request('POST', path, { form: { VoiceUrl: '/relative' } }), 400, 21502, 'VoiceUrl');
    expectError(await t.request('POST', path, { form: { VoiceMethod: 'PUT' } }), 400, 20001, 'VoiceMethod');
    expectError(await t.request('POST', path, { form: { TrunkSid: `TK${'1'.repeat(32)}` } }), 400, 20001, 'TrunkSid', 'not supported by Conclave');
    expect((await t.request('GET', path)).json()).toEqual(n);
  });

  it('delete: 204, then 404; the number may then be registered again, by another account', async () => {
    const n = await register({ PhoneNumber: fresh() });
    const path = `${numberPath(t.accountSid, n.sid as string)}.json`;
    const res = await t.request('DELETE', path);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expectError(await t.request('GET', path), 404, 20404, path);
    expectError(await t.request('DELETE', path), 404, 20404);
    const sub = await subaccount('second owner');
    expect((await register({ PhoneNumber: n.phone_number as string }, sub.sid)).account_sid).toBe(sub.sid);
  });

  it('create refusals: missing or malformed number, AreaCode, duplicates across accounts, URLs, methods', async () => {
    const path = `${numbersPath(t.accountSid)}.json`;
    const post = (form: Record<string, string>): Promise<HttpResult> => t.request('POST', path, { form });
    expectError(await post({}), 400, 20001, 'PhoneNumber');
    expectError(await post({ PhoneNumber: '' }), 400, 20001, 'PhoneNumber');
    expectError(await post({ AreaCode: '415' }), 400, 20001, 'AreaCode', 'not supported by Conclave');
    for (const bad of ['15005550006', '+0123456', '+1 500 555 0006', '+1234567890123456', 'abc']) {
      expectError(await post({ PhoneNumber: bad }), 400, 21421, 'PhoneNumber', 'E.164');
    }
    expectError(await post({ PhoneNumber: ' 15005550006' }), 400, 21421, '%2B');

    const taken = (await register({ PhoneNumber: fresh() })).phone_number as string;
    expectError(await post({ PhoneNumber: taken }), 400, 21422, taken, 'not available');
    const sub = await subaccount('latecomer');
    const res = await t.request('POST', `${numbersPath(sub.sid)}.json`, { form: { PhoneNumber: taken }, auth: sub.auth });
    expectError(res, 400, 21422, taken);

    for (const [field, url] of [['VoiceUrl', 'example.com/voice'], ['VoiceFallbackUrl', 'ftp://example.com/x'], ['StatusCallback', 'javascript:alert(1)'], ['VoiceUrl', `https://e.com/${'a'.repeat(4000)}`]]) {
      expectError(await post({ PhoneNumber: fresh(), [field as string]: url as string }), 400, 21502, field as string);
    }
    expectError(await post({ PhoneNumber: fresh(), StatusCallbackMethod: 'DELETE' }), 400, 20001, 'StatusCallbackMethod');
    // An application this account does not have (Applications: test/e2e/applications.test.ts).
    expectError(await post({ PhoneNumber: fresh(), VoiceApplicationSid: `AP${'2'.repeat(32)}` }), 400, 21218, 'VoiceApplicationSid');
    expectError(await post({ PhoneNumber: fresh(), VoiceReceiveMode: 'fax' }), 400, 20001, 'VoiceReceiveMode');
    expectError(await post({ PhoneNumber: fresh(), EmergencyStatus: 'Active' }), 400, 20001, 'EmergencyStatus');
    expectError(await post({ PhoneNumber: fresh(), FriendlyName: 'x'.repeat(65) }), 400, 20001, 'FriendlyName');
    const xml = await t.request('POST', numbersPath(t.accountSid), { form: { PhoneNumber: taken } });
    expect(xml.status).toBe(400);
    expect(xml.body).toContain('<Code>21422</Code>');
  });

  it('reach: unknown SIDs are 404, another account’s number 404 in one’s own path and 401 in its path', async () => {
    const ownerNumber = await register({ PhoneNumber: fresh() });
    const sub = await subaccount('reach');
    const subNumber = await register({ PhoneNumber: fresh() }, sub.sid, sub.auth);
    for (const method of ['GET', 'POST', 'DELETE']) {
      expectError(await t.request(method, `${numberPath(t.accountSid, `PN${'f'.repeat(32)}`)}.json`), 404, 20404);
      expectError(await t.request(method, `${numberPath(t.accountSid, 'nonsense')}.json`), 404, 20404);
      // The owner's number named under the subaccount's path, with the subaccount's credentials.
      expectError(await t.request(method, `${numberPath(sub.sid, ownerNumber.sid as string)}.json`, { auth: sub.auth }), 404, 20404);
      expectError(await t.request(method, `${numberPath(t.accountSid, ownerNumber.sid as string)}.json`, { auth: sub.auth }), 401, 20003);
    }
    expectError(await t.request('GET', `${numbersPath(t.accountSid)}.json`, { auth: sub.auth }), 401, 20003);
    // The owner reaches its subaccount's numbers through the subaccount's path.
    expect((await t.request('GET', `${numberPath(sub.sid, subNumber.sid as string)}.json`)).json()).toEqual(subNumber);
    expect((await t.request('GET', `${numberPath(t.accountSid, ownerNumber.sid as string)}.json`)).status).toBe(200);
  });

  it('PUT and PATCH are 405 / 20004', async () => {
    const n = await register({ PhoneNumber: fresh() });
    for (const method of ['PUT', 'PATCH']) {
      expectError(await t.request(method, `${numberPath(t.accountSid, n.sid as string)}.json`), 405, 20004);
      expectError(await t.request(method, `${numbersPath(t.accountSid)}.json`), 405, 20004);
    }
    expectError(await t.request('DELETE', `${numbersPath(t.accountSid)}.json`), 405, 20004);
  });

  it('an API key manages its account’s numbers, and no other account’s', async () => {
    const key = (await t.request('POST', `${accountsPath}/${t.accountSid}/Keys.json`, { form: { FriendlyName: 'numbers bot' } })).json();
    const auth = `${key.sid as string}:${key.secret as string}`;
    const n = await register({ PhoneNumber: fresh() }, t.accountSid, auth);
    const path = `${numberPath(t.accountSid, n.sid as string)}.json`;
    expect((await t.request('GET', path, { auth })).json()).toEqual(n);
    expect((await t.request('GET', `${numbersPath(t.accountSid)}.json?PageSize=1000`, { auth })).json<Page>().incoming_phone_numbers.map((x) => x.sid)).toContain(n.sid);
    expect((await t.request('POST', path, { form: { FriendlyName: 'by key' }, auth })).json().friendly_name).toBe('by key');
    const sub = await subaccount('key cannot reach');
    expectError(await t.request('GET', `${numbersPath(sub.sid)}.json`, { auth }), 401, 20003);
    expect((await t.request('DELETE', path, { auth })).status).toBe(204);
  });

  it('routeInbound finds the number whichever account owns it', async () => {
    const sub = await subaccount('inbound');
    const n = await register({ PhoneNumber: fresh(), VoiceUrl: 'https://example.com/in' }, sub.sid);
    const found = await routeInbound(t.app.services, n.phone_number as string);
    expect(found).toMatchObject({ sid: n.sid, accountSid: sub.sid, voiceUrl: 'https://example.com/in', voiceMethod: 'POST' });
    expect(await routeInbound(t.app.services, '+19999999999')).toBeUndefined();
    expect(await routeInbound(t.app.services, 'sip:bob\u0000')).toBeUndefined();
  });

  it('twilio-node: create, fetch, list with a filter, update and remove', async () => {
    const client = twilioClient(t);
    const number = fresh();
    const created = await client.incomingPhoneNumbers.create({ phoneNumber: number, voiceUrl: 'https://example.com/v', voiceMethod: 'GET' });
    expect(created).toBeInstanceOf(IncomingPhoneNumberInstance);
    expect(created).toMatchObject({ phoneNumber: number, friendlyName: number, voiceUrl: 'https://example.com/v', voiceMethod: 'GET', origin: 'hosted' });
    expect(created.capabilities).toEqual({ voice: true, sms: false, mms: false, fax: false });
    expect(created.sid).toMatch(/^PN/);
    expect((await client.incomingPhoneNumbers(created.sid).fetch()).dateCreated).toBeInstanceOf(Date);
    expect((await client.incomingPhoneNumbers.list({ phoneNumber: number })).map((n) => n.sid)).toEqual([created.sid]);
    expect((await client.incomingPhoneNumbers(created.sid).update({ friendlyName: 'lib' })).friendlyName).toBe('lib');
    const duplicate = await restException(() => client.incomingPhoneNumbers.create({ phoneNumber: number }));
    expect(duplicate).toMatchObject({ status: 400, code: 21422 });
    expect(await client.incomingPhoneNumbers(created.sid).remove()).toBe(true);
    expect(await restException(() => client.incomingPhoneNumbers(created.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
  });
});
