/**
 * The Account resource over HTTP (twilio-oai CreateAccount, FetchAccount, ListAccount,
 * UpdateAccount): subaccounts made by the owner with every key of `api.v2010.account`, in JSON
 * and in XML; the list as each caller sees it, with its FriendlyName and Status filters; renaming
 * and suspending (a suspended subaccount cannot authenticate); and what a subaccount may not do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsPath, conferencesPath } from '../helpers/paths.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type HttpResult, type TestApp } from '../helpers/test-app.js';
import { schemaErrors, schemaKeys } from '../helpers/twilio-schema.js';

type Json = Record<string, unknown>;

interface Sub {
  sid: string;
  token: string;
  body: Json;
}

const RFC_2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/;
const ACCOUNT_KEYS = ['auth_token', 'date_created', 'date_updated', 'friendly_name', 'owner_account_sid', 'sid', 'status', 'subresource_uris', 'type', 'uri'];

function expectError(res: HttpResult, status: number, field?: string): void {
  expect(res.status).toBe(status);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'more_info', 'status']);
  expect(body.status).toBe(status);
  expect(typeof body.code).toBe('number');
  if (field) expect(body.message).toContain(field);
}

describe.each(STORE_KINDS)('Accounts over HTTP on %s', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t?.close());

  async function createSub(name: string): Promise<Sub> {
    const res = await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: name } });
    expect(res.status).toBe(201);
    const body = res.json();
    return { sid: body.sid as string, token: body.auth_token as string, body };
  }

  it('POST Accounts.json creates a subaccount: 201 with every key of api.v2010.account', async () => {
    const res = await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'Support team' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body)).toEqual(ACCOUNT_KEYS);
    expect(Object.keys(body)).toEqual(schemaKeys('api.v2010.account'));
    expect(schemaErrors('api.v2010.account', body)).toEqual([]);
    const sid = body.sid as string;
    expect(sid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(sid).not.toBe(t.accountSid);
    expect(body.auth_token).toMatch(/^[0-9a-f]{32}$/);
    expect(body.auth_token).not.toBe(t.authToken);
    expect(body).toMatchObject({
      friendly_name: 'Support team',
      owner_account_sid: t.accountSid,
      status: 'active',
      type: 'Full',
      uri: `${accountsPath}/${sid}.json`,
    });
    expect(body.date_created).toMatch(RFC_2822);
    expect(body.date_updated).toBe(body.date_created);
    const subresources = body.subresource_uris as Record<string, string>;
    expect(subresources.conferences).toBe(`${accountsPath}/${sid}/Conferences.json`);
    for (const uri of Object.values(subresources)) {
      expect(uri.startsWith(`${accountsPath}/${sid}/`)).toBe(true);
      expect(uri.endsWith('.json')).toBe(true);
    }
    // The new credentials work at once.
    const own = await t.request('GET', `${accountsPath}/${sid}.json`, { auth: `${sid}:${body.auth_token as string}` });
    expect(own.status).toBe(200);
  });

  it('POST Accounts without suffix answers XML, URIs without suffix', async () => {
    const res = await t.request('POST', accountsPath, { form: { FriendlyName: 'XML & co' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    const sid = /<Sid>(AC[0-9a-f]{32})<\/Sid>/.exec(res.body)?.[1];
    expect(sid).toBeDefined();
    expect(res.body).toMatch(/^<TwilioResponse>\n<Account>\n<AuthToken>[0-9a-f]{32}<\/AuthToken>\n<DateCreated>/);
    expect(res.body).toContain('<FriendlyName>XML &amp; co</FriendlyName>');
    expect(res.body).toContain(`<OwnerAccountSid>${t.accountSid}</OwnerAccountSid>`);
    expect(res.body).toContain('<Status>active</Status>');
    expect(res.body).toContain('<Type>Full</Type>');
    expect(res.body).toContain(`<Uri>${accountsPath}/${sid}</Uri>`);
    expect(res.body).toContain(`<SubresourceUris>\n<Applications>${accountsPath}/${sid}/Applications</Applications>\n<Calls>${accountsPath}/${sid}/Calls</Calls>\n<Conferences>${accountsPath}/${sid}/Conferences</Conferences>`);
    expect(res.body).not.toContain('.json');
    expect(res.body.endsWith('</Account>\n</TwilioResponse>')).toBe(true);
  });

  it('without FriendlyName a subaccount gets a default name; a too long one is a 400 naming it', async () => {
    const res = await t.request('POST', `${accountsPath}.json`, { form: {} });
    expect(res.status).toBe(201);
    expect(typeof res.json().friendly_name).toBe('string');
    expect((res.json().friendly_name as string).length).toBeGreaterThan(0);
    expectError(await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'x'.repeat(65) } }), 400, 'FriendlyName');
  });

  it('fetch: the owner and the subaccount itself see the same account', async () => {
    const sub = await createSub('fetch me');
    const byOwner = await t.request('GET', `${accountsPath}/${sub.sid}.json`);
    expect(byOwner.status).toBe(200);
    expect(byOwner.json()).toEqual(sub.body);
    const bySelf = await t.request('GET', `${accountsPath}/${sub.sid}.json`, { auth: `${sub.sid}:${sub.token}` });
    expect(bySelf.json()).toEqual(sub.body);
    const xml = await t.request('GET', `${accountsPath}/${sub.sid}`);
    expect(xml.status).toBe(200);
    expect(xml.body).toContain(`<Sid>${sub.sid}</Sid>`);
    const owner = await t.request('GET', `${accountsPath}/${t.accountSid}.json`);
    expect(owner.json()).toMatchObject({ sid: t.accountSid, owner_account_sid: t.accountSid, auth_token: t.authToken, status: 'active' });
  });

  it('list: the owner sees itself first and its subaccounts; a subaccount sees only itself', async () => {
    const a = await createSub('list a');
    const b = await createSub('list b');
    const res = await t.request('GET', `${accountsPath}.json?PageSize=1000`);
    expect(res.status).toBe(200);
    const body = res.json<{ accounts: Json[] } & Json>();
    const sids = body.accounts.map((acc) => acc.sid);
    expect(sids[0]).toBe(t.accountSid);
    expect(sids).toContain(a.sid);
    expect(sids).toContain(b.sid);
    expect(sids.indexOf(a.sid)).toBeLessThan(sids.indexOf(b.sid));
    for (const account of body.accounts) {
      expect(Object.keys(account)).toEqual(ACCOUNT_KEYS);
      expect(account.owner_account_sid).toBe(t.accountSid);
    }
    expect(body).toMatchObject({ page: 0, page_size: 1000, previous_page_uri: null, next_page_uri: null });

    const asSub = await t.request('GET', `${accountsPath}.json`, { auth: `${a.sid}:${a.token}` });
    expect(asSub.status).toBe(200);
    expect(asSub.json<{ accounts: Json[] }>().accounts).toEqual([a.body]);

    const xml = await t.request('GET', accountsPath, { auth: `${b.sid}:${b.token}` });
    expect(xml.status).toBe(200);
    expect(xml.body).toMatch(/^<TwilioResponse>\n<Accounts page="0" numpages="1" pagesize="50" total="1" start="0" end="0" uri="\/2010-04-01\/Accounts"/);
    expect(xml.body).toContain(`<Sid>${b.sid}</Sid>`);
  });

  it('list filters FriendlyName and Status, and carries them into page links', async () => {
    const one = await createSub('filter twin');
    const two = await createSub('filter twin');
    await createSub('filter other');
    const byName = await t.request('GET', `${accountsPath}.json?FriendlyName=${encodeURIComponent('filter twin')}&PageSize=1`);
    expect(byName.status).toBe(200);
    const page1 = byName.json<{ accounts: Json[] } & Json>();
    expect(page1.accounts.map((a) => a.sid)).toEqual([one.sid]);
    expect(page1.next_page_uri).toContain('FriendlyName=filter%20twin');
    const page2 = (await t.request('GET', page1.next_page_uri as string)).json<{ accounts: Json[] } & Json>();
    expect(page2.accounts.map((a) => a.sid)).toEqual([two.sid]);
    expect(page2.next_page_uri).toBeNull();

    await t.request('POST', `${accountsPath}/${two.sid}.json`, { form: { Status: 'suspended' } });
    const suspended = await t.request('GET', `${accountsPath}.json?Status=suspended&PageSize=1000`);
    expect(suspended.status).toBe(200);
    const suspendedSids = suspended.json<{ accounts: Json[] }>().accounts.map((a) => a.sid);
    expect(suspendedSids).toContain(two.sid);
    expect(suspendedSids).not.toContain(one.sid);
    expect(suspendedSids).not.toContain(t.accountSid);
    const active = await t.request('GET', `${accountsPath}.json?Status=active&FriendlyName=${encodeURIComponent('filter twin')}`);
    expect(active.json<{ accounts: Json[] }>().accounts.map((a) => a.sid)).toEqual([one.sid]);
    expect(active.json().uri).toContain('Status=active');

    expectError(await t.request('GET', `${accountsPath}.json?Status=sleeping`), 400, 'Status');
    const none = await t.request('GET', `${accountsPath}.json?FriendlyName=nobody%20by%20that%20name`);
    expect(none.json<{ accounts: Json[] }>().accounts).toEqual([]);
  });

  it('update FriendlyName: 200 with the new name, kept on fetch, other keys unchanged', async () => {
    const sub = await createSub('old name');
    const res = await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { FriendlyName: 'new name' } });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(ACCOUNT_KEYS);
    expect(body).toMatchObject({ sid: sub.sid, friendly_name: 'new name', auth_token: sub.token, status: 'active', owner_account_sid: t.accountSid });
    expect(body.date_created).toBe(sub.body.date_created);
    expect((await t.request('GET', `${accountsPath}/${sub.sid}.json`)).json().friendly_name).toBe('new name');
    // A subaccount may rename itself.
    const self = await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { FriendlyName: 'self named' }, auth: `${sub.sid}:${sub.token}` });
    expect(self.status).toBe(200);
    expect(self.json().friendly_name).toBe('self named');
    // An update with no fields changes nothing.
    const empty = await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: {} });
    expect(empty.status).toBe(200);
    expect(empty.json().friendly_name).toBe('self named');
  });

  it('Status=suspended: the subaccount can no longer authenticate; Status=active restores it', async () => {
    const sub = await createSub('to suspend');
    const own = `${sub.sid}:${sub.token}`;
    expect((await t.request('GET', `${conferencesPath(sub.sid)}.json`, { auth: own })).status).toBe(200);

    const res = await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'suspended' } });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ sid: sub.sid, status: 'suspended' });

    for (const path of [`${accountsPath}/${sub.sid}.json`, `${conferencesPath(sub.sid)}.json`, `${accountsPath}.json`]) {
      const refused = await t.request('GET', path, { auth: own });
      expect(refused.status).toBe(401);
      expect(refused.json()).toMatchObject({ code: 20003, message: 'Authenticate' });
      expect(refused.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    }
    // The owner still sees it, suspended.
    expect((await t.request('GET', `${accountsPath}/${sub.sid}.json`)).json().status).toBe('suspended');

    const back = await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'active' } });
    expect(back.json().status).toBe('active');
    expect((await t.request('GET', `${conferencesPath(sub.sid)}.json`, { auth: own })).status).toBe(200);
  });

  it('Status=closed is final: the owner still fetches it, its own credentials no longer work', async () => {
    const sub = await createSub('to close');
    const closed = await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'closed' } });
    expect(closed.json()).toMatchObject({ status: 'closed' });
    expect((await t.request('GET', `${accountsPath}/${sub.sid}.json`)).json().status).toBe('closed');
    expect((await t.request('GET', `${accountsPath}/${sub.sid}.json`, { auth: `${sub.sid}:${sub.token}` })).status).toBe(401);
    expectError(await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'active' } }), 400, 'Status');
  });

  it('HEAD answers like GET, without a body', async () => {
    const head = await t.request('HEAD', `${accountsPath}/${t.accountSid}.json`);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
    expect(head.body).toBe('');
  });

  it('a bad Status is a 400 naming Status; a subaccount cannot change its own status', async () => {
    const sub = await createSub('status rules');
    expectError(await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'paused' } }), 400, 'Status');
    const self = await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'suspended' }, auth: `${sub.sid}:${sub.token}` });
    expectError(self, 403);
    expect((await t.request('GET', `${accountsPath}/${sub.sid}.json`)).json().status).toBe('active');
  });

  it('a subaccount cannot create subaccounts', async () => {
    const sub = await createSub('no children');
    const res = await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'grandchild' }, auth: `${sub.sid}:${sub.token}` });
    expectError(res, 403);
    const xml = await t.request('POST', accountsPath, { form: { FriendlyName: 'grandchild' }, auth: `${sub.sid}:${sub.token}` });
    expect(xml.status).toBe(403);
    expect(xml.body).toContain('<RestException>');
    const all = await t.request('GET', `${accountsPath}.json?FriendlyName=grandchild`);
    expect(all.json<{ accounts: Json[] }>().accounts).toEqual([]);
  });

  it('DELETE and PUT on accounts are 405 / 20004', async () => {
    const sub = await createSub('no delete');
    for (const method of ['DELETE', 'PUT', 'PATCH']) {
      const res = await t.request(method, `${accountsPath}/${sub.sid}.json`);
      expectError(res, 405);
      expect(res.json().code).toBe(20004);
    }
    expect((await t.request('PUT', `${accountsPath}.json`)).status).toBe(405);
  });
});
