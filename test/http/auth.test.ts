/**
 * HTTP Basic authentication as a client sees it (reference/twilio-api.md §1.4–1.5): 401 / 20003
 * `Authenticate` with `WWW-Authenticate: Basic realm="Twilio API"` for every kind of bad
 * credential, the same answer for an account that is not the caller's as for one that does not
 * exist, owner credentials reaching subaccounts, subaccounts reaching nothing but themselves, and
 * API keys (`SK…:secret`): created, listed, fetched, renamed and deleted with the AuthToken only,
 * valid for their own account only, and stored as a hash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsPath, conferencePath, conferencesPath } from '../helpers/paths.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type HttpResult, type TestApp } from '../helpers/test-app.js';
import { NO_LOGIN_THROTTLE } from './edge-client.js';
import { schemaErrors, schemaKeys } from '../helpers/twilio-schema.js';

type Json = Record<string, unknown>;

interface Credentials {
  sid: string;
  secret: string;
}

const auth = (c: Credentials): string => `${c.sid}:${c.secret}`;
const keysPath = (ac: string): string => `${accountsPath}/${ac}/Keys`;
const UNAUTHORIZED_JSON = { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 };

function expectUnauthorized(res: HttpResult, format: 'json' | 'xml' = 'json'): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
  if (format === 'json') {
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json()).toEqual(UNAUTHORIZED_JSON);
  } else {
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(res.body).toContain('<RestException>');
    expect(res.body).toContain('<Code>20003</Code>');
    expect(res.body).toContain('<Message>Authenticate</Message>');
    expect(res.body).toContain('<Status>401</Status>');
  }
}

function randomHex(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

describe.each(STORE_KINDS)('HTTP authentication on %s', (kind) => {
  let t: TestApp;
  let owner: Credentials;

  beforeAll(async () => {
    // Failed logins are many here on purpose; their throttle is login-throttle.test.ts's subject.
    t = await startTestApp(kind, { httpLimits: NO_LOGIN_THROTTLE });
    owner = { sid: t.accountSid, secret: t.authToken };
  });
  afterAll(async () => t?.close());

  async function createSubaccount(name: string, as: Credentials = owner): Promise<Credentials> {
    const res = await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: name }, auth: auth(as) });
    expect(res.status).toBe(201);
    const body = res.json<{ sid: string; auth_token: string }>();
    return { sid: body.sid, secret: body.auth_token };
  }

  async function createKey(accountSid: string, name: string, as: Credentials): Promise<Credentials & { body: Json }> {
    const res = await t.request('POST', `${keysPath(accountSid)}.json`, { form: { FriendlyName: name }, auth: auth(as) });
    expect(res.status).toBe(201);
    const body = res.json();
    return { sid: body.sid as string, secret: body.secret as string, body };
  }

  describe('refusals', () => {
    it('no Authorization header: 401 / 20003 Authenticate, JSON for .json and XML by default', async () => {
      expectUnauthorized(await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: null }), 'json');
      expectUnauthorized(await t.request('GET', conferencesPath(t.accountSid), { auth: null }), 'xml');
      expectUnauthorized(await t.request('GET', `${accountsPath}.json`, { auth: null }), 'json');
      expectUnauthorized(await t.request('POST', `${accountsPath}.json`, { auth: null, form: { FriendlyName: 'x' } }), 'json');
    });

    it('the XML 401 is a complete RestException document', async () => {
      const res = await t.request('GET', `${accountsPath}/${t.accountSid}`, { auth: null });
      expect(res.body).toBe(
        '<TwilioResponse>\n<RestException>\n<Code>20003</Code>\n<Message>Authenticate</Message>\n' +
          '<MoreInfo>https://www.twilio.com/docs/errors/20003</MoreInfo>\n<Status>401</Status>\n</RestException>\n</TwilioResponse>',
      );
    });

    it('malformed Authorization headers are 401, never 400 or 500', async () => {
      const headers = [
        'Basic',
        'Basic ',
        'Basic !!!not-base64!!!',
        `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
        `Basic ${Buffer.from(':').toString('base64')}`,
        `Basic ${Buffer.from(`${t.accountSid}:`).toString('base64')}`,
        `Basic ${Buffer.from(`:${t.authToken}`).toString('base64')}`,
        `Bearer ${t.authToken}`,
        `Digest username="${t.accountSid}"`,
        `${t.accountSid}:${t.authToken}`,
        `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('hex')}`,
        `Basic ${Buffer.from('\u0000\uffff:\u00e9').toString('base64')}`,
        `Basic ${'A'.repeat(4000)}`,
      ];
      for (const header of headers) {
        const res = await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: null, headers: { authorization: header } });
        expectUnauthorized(res);
      }
    });

    it('a wrong token, an unknown account and a username that is no SID are all 401', async () => {
      const path = `${conferencesPath(t.accountSid)}.json`;
      expectUnauthorized(await t.request('GET', path, { auth: `${t.accountSid}:${randomHex(32)}` }));
      expectUnauthorized(await t.request('GET', path, { auth: `${t.accountSid}:${t.authToken.toUpperCase()}x` }));
      expectUnauthorized(await t.request('GET', path, { auth: `${t.accountSid}:${t.authToken.slice(0, 31)}` }));
      expectUnauthorized(await t.request('GET', path, { auth: `AC${randomHex(32)}:${t.authToken}` }));
      expectUnauthorized(await t.request('GET', path, { auth: `admin:${t.authToken}` }));
      expectUnauthorized(await t.request('GET', path, { auth: `SK${randomHex(32)}:whatever` }));
      // The account's own token under another account's SID does not work either.
      const sub = await createSubaccount('token swap');
      expectUnauthorized(await t.request('GET', `${conferencesPath(sub.sid)}.json`, { auth: `${sub.sid}:${t.authToken}` }));
    });

    it('an account that exists but is not reachable answers exactly as one that does not exist', async () => {
      const a = await createSubaccount('sibling a');
      const b = await createSubaccount('sibling b');
      const nowhere = `AC${randomHex(32)}`;
      const cf = (await t.join('parent room')).conference.sid;
      for (const suffix of ['.json', '']) {
        const missing = await t.request('GET', `${conferencesPath(nowhere)}${suffix}`, { auth: auth(a) });
        const parent = await t.request('GET', `${conferencesPath(t.accountSid)}${suffix}`, { auth: auth(a) });
        const sibling = await t.request('GET', `${conferencesPath(b.sid)}${suffix}`, { auth: auth(a) });
        const parentConference = await t.request('GET', `${conferencePath(t.accountSid, cf)}${suffix}`, { auth: auth(a) });
        for (const res of [missing, parent, sibling, parentConference]) {
          expect(res.status).toBe(missing.status);
          expect(res.body).toBe(missing.body);
          expect(res.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
        }
        expectUnauthorized(missing, suffix === '' ? 'xml' : 'json');
      }
      // The owner asking for an account that does not exist gets the same 401, not a 404.
      const ownerMissing = await t.request('GET', `${accountsPath}/${nowhere}.json`);
      expectUnauthorized(ownerMissing);
    });
  });

  describe('owner and subaccounts', () => {
    it('owner credentials reach a subaccount and its resources', async () => {
      const sub = await createSubaccount('reachable');
      const account = await t.request('GET', `${accountsPath}/${sub.sid}.json`);
      expect(account.status).toBe(200);
      expect(account.json()).toMatchObject({ sid: sub.sid, owner_account_sid: t.accountSid });

      const joined = await t.join('sub room', { accountSid: sub.sid });
      const list = await t.request('GET', `${conferencesPath(sub.sid)}.json`);
      expect(list.status).toBe(200);
      expect(list.json<{ conferences: Json[] }>().conferences.map((c) => c.sid)).toEqual([joined.conference.sid]);
      const fetched = await t.request('GET', `${conferencePath(sub.sid, joined.conference.sid)}.json`);
      expect(fetched.status).toBe(200);
      expect(fetched.json()).toMatchObject({ sid: joined.conference.sid, account_sid: sub.sid });
      const ended = await t.request('POST', `${conferencePath(sub.sid, joined.conference.sid)}.json`, { form: { Status: 'completed' } });
      expect(ended.status).toBe(200);
      expect(ended.json().status).toBe('completed');
      // The subaccount's own credentials see the same.
      const own = await t.request('GET', `${conferencePath(sub.sid, joined.conference.sid)}.json`, { auth: auth(sub) });
      expect(own.status).toBe(200);
      expect(own.json().status).toBe('completed');
    });

    it("a subaccount never reaches its parent's or a sibling's resources, for reading or writing", async () => {
      const a = await createSubaccount('isolated a');
      const b = await createSubaccount('isolated b');
      const parentRoom = await t.join('isolation parent room');
      const siblingRoom = await t.join('isolation sibling room', { accountSid: b.sid });

      const attempts: Array<[string, string, Record<string, string>?]> = [
        ['GET', `${accountsPath}/${t.accountSid}.json`],
        ['POST', `${accountsPath}/${t.accountSid}.json`, { FriendlyName: 'taken over' }],
        ['GET', `${conferencesPath(t.accountSid)}.json`],
        ['GET', `${conferencePath(t.accountSid, parentRoom.conference.sid)}.json`],
        ['POST', `${conferencePath(t.accountSid, parentRoom.conference.sid)}.json`, { Status: 'completed' }],
        ['GET', `${keysPath(t.accountSid)}.json`],
        ['POST', `${keysPath(t.accountSid)}.json`, { FriendlyName: 'stolen' }],
        ['GET', `${accountsPath}/${b.sid}.json`],
        ['POST', `${accountsPath}/${b.sid}.json`, { Status: 'suspended' }],
        ['GET', `${conferencesPath(b.sid)}.json`],
        ['GET', `${conferencePath(b.sid, siblingRoom.conference.sid)}.json`],
        ['POST', `${conferencePath(b.sid, siblingRoom.conference.sid)}.json`, { Status: 'completed' }],
        ['GET', `${keysPath(b.sid)}.json`],
      ];
      for (const [method, path, form] of attempts) {
        expectUnauthorized(await t.request(method, path, { auth: auth(a), ...(form ? { form } : {}) }));
      }

      // Nothing changed.
      const parentNow = await t.request('GET', `${conferencePath(t.accountSid, parentRoom.conference.sid)}.json`);
      expect(parentNow.json().status).not.toBe('completed');
      const siblingNow = await t.request('GET', `${conferencePath(b.sid, siblingRoom.conference.sid)}.json`);
      expect(siblingNow.json().status).not.toBe('completed');
      const ownerNow = await t.request('GET', `${accountsPath}/${t.accountSid}.json`);
      expect(ownerNow.json().friendly_name).not.toBe('taken over');
      const bNow = await t.request('GET', `${accountsPath}/${b.sid}.json`);
      expect(bNow.json().status).toBe('active');
      const ownerKeys = await t.request('GET', `${keysPath(t.accountSid)}.json?PageSize=1000`);
      expect(ownerKeys.json<{ keys: Json[] }>().keys.map((k) => k.friendly_name)).not.toContain('stolen');
    });

    it("a subaccount's list of accounts holds only itself", async () => {
      const sub = await createSubaccount('alone');
      await createSubaccount('other');
      const res = await t.request('GET', `${accountsPath}.json`, { auth: auth(sub) });
      expect(res.status).toBe(200);
      expect(res.json<{ accounts: Json[] }>().accounts.map((a) => a.sid)).toEqual([sub.sid]);
    });
  });

  describe('API keys', () => {
    it('POST Keys.json creates a key: 201, SK sid, a secret, exactly the new_key keys', async () => {
      const res = await t.request('POST', `${keysPath(t.accountSid)}.json`, { form: { FriendlyName: 'deploy bot' } });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = res.json();
      expect(Object.keys(body)).toEqual(['sid', 'friendly_name', 'date_created', 'date_updated', 'secret']);
      expect(Object.keys(body)).toEqual(schemaKeys('api.v2010.account.new_key'));
      expect(schemaErrors('api.v2010.account.new_key', body)).toEqual([]);
      expect(body.sid).toMatch(/^SK[0-9a-f]{32}$/);
      expect(body.friendly_name).toBe('deploy bot');
      expect(typeof body.secret).toBe('string');
      expect((body.secret as string).length).toBeGreaterThanOrEqual(32);
      expect(body.date_created).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000$/);
    });

    it('POST Keys (no suffix) answers XML with the secret', async () => {
      const res = await t.request('POST', keysPath(t.accountSid), { form: { FriendlyName: 'xml key' } });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(res.body).toMatch(/^<TwilioResponse>\n<Key>\n<Sid>SK[0-9a-f]{32}<\/Sid>\n<FriendlyName>xml key<\/FriendlyName>\n/);
      expect(res.body).toMatch(/<Secret>[^<]+<\/Secret>/);
    });

    it('SK…:secret authenticates for the key’s account', async () => {
      const key = await createKey(t.accountSid, 'reader', owner);
      const list = await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: auth(key) });
      expect(list.status).toBe(200);
      const cf = (await t.join('key room')).conference.sid;
      const fetched = await t.request('GET', `${conferencePath(t.accountSid, cf)}.json`, { auth: auth(key) });
      expect(fetched.status).toBe(200);
      expect(fetched.json().sid).toBe(cf);
      expectUnauthorized(await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: `${key.sid}:${key.secret}x` }));
      expectUnauthorized(await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: `${key.sid}:${t.authToken}` }));
      // An SK SID under the AccountSid is not a password.
      expectUnauthorized(await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: `${t.accountSid}:${key.secret}` }));
    });

    it("an owner's key does not reach its subaccounts; a subaccount's key does not reach the parent", async () => {
      const sub = await createSubaccount('key scope');
      const ownerKey = await createKey(t.accountSid, 'owner key', owner);
      expectUnauthorized(await t.request('GET', `${conferencesPath(sub.sid)}.json`, { auth: auth(ownerKey) }));
      expectUnauthorized(await t.request('GET', `${accountsPath}/${sub.sid}.json`, { auth: auth(ownerKey) }));

      const subKey = await createKey(sub.sid, 'sub key', sub);
      expect((await t.request('GET', `${conferencesPath(sub.sid)}.json`, { auth: auth(subKey) })).status).toBe(200);
      expectUnauthorized(await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: auth(subKey) }));
      const sibling = await createSubaccount('key scope sibling');
      expectUnauthorized(await t.request('GET', `${conferencesPath(sibling.sid)}.json`, { auth: auth(subKey) }));

      // A key the owner makes on the subaccount's path belongs to the subaccount.
      const madeByOwner = await createKey(sub.sid, 'made by owner', owner);
      expect((await t.request('GET', `${conferencesPath(sub.sid)}.json`, { auth: auth(madeByOwner) })).status).toBe(200);
      expectUnauthorized(await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: auth(madeByOwner) }));
    });

    it('lists, fetches and renames keys; the secret is never shown again', async () => {
      const sub = await createSubaccount('key lifecycle');
      const one = await createKey(sub.sid, 'one', sub);
      const two = await createKey(sub.sid, 'two', sub);

      const list = await t.request('GET', `${keysPath(sub.sid)}.json`, { auth: auth(sub) });
      expect(list.status).toBe(200);
      const body = list.json<{ keys: Json[] } & Json>();
      expect(body.keys.map((k) => k.sid)).toEqual([one.sid, two.sid]);
      for (const key of body.keys) {
        expect(Object.keys(key)).toEqual(['sid', 'friendly_name', 'date_created', 'date_updated']);
        expect(schemaErrors('api.v2010.account.key', key)).toEqual([]);
      }
      expect(body.uri).toBe(`${keysPath(sub.sid)}.json?PageSize=50&Page=0`);
      expect(list.body).not.toContain(one.secret);
      expect(list.body).not.toContain(two.secret);

      const fetched = await t.request('GET', `${keysPath(sub.sid)}/${one.sid}.json`, { auth: auth(sub) });
      expect(fetched.status).toBe(200);
      expect(fetched.json()).toEqual({
        sid: one.sid,
        friendly_name: 'one',
        date_created: one.body.date_created,
        date_updated: one.body.date_updated,
      });

      const renamed = await t.request('POST', `${keysPath(sub.sid)}/${one.sid}.json`, { form: { FriendlyName: 'uno' }, auth: auth(sub) });
      expect(renamed.status).toBe(200);
      expect(Object.keys(renamed.json())).toEqual(['sid', 'friendly_name', 'date_created', 'date_updated']);
      expect(renamed.json()).toMatchObject({ sid: one.sid, friendly_name: 'uno' });
      const again = await t.request('GET', `${keysPath(sub.sid)}/${one.sid}.json`, { auth: auth(sub) });
      expect(again.json().friendly_name).toBe('uno');
      // Renaming does not change the secret.
      expect((await t.request('GET', `${conferencesPath(sub.sid)}.json`, { auth: auth(one) })).status).toBe(200);

      const xml = await t.request('GET', keysPath(sub.sid), { auth: auth(sub) });
      expect(xml.status).toBe(200);
      expect(xml.body).toMatch(/^<TwilioResponse>\n<Keys page="0" numpages="1" pagesize="50" total="2" /);
      expect(xml.body).toContain(`<Sid>${two.sid}</Sid>`);
      expect(xml.body).not.toContain('<Secret>');

      const tooLong = await t.request('POST', `${keysPath(sub.sid)}/${two.sid}.json`, { form: { FriendlyName: 'x'.repeat(65) }, auth: auth(sub) });
      expect(tooLong.status).toBe(400);
      expect(tooLong.json()).toMatchObject({ code: 20001, status: 400 });
      expect(tooLong.json().message).toContain('FriendlyName');
    });

    it('DELETE answers 204 with no body, then the key no longer authenticates and is gone', async () => {
      const key = await createKey(t.accountSid, 'short lived', owner);
      expect((await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: auth(key) })).status).toBe(200);
      const deleted = await t.request('DELETE', `${keysPath(t.accountSid)}/${key.sid}.json`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBe('');
      expectUnauthorized(await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: auth(key) }));
      const fetched = await t.request('GET', `${keysPath(t.accountSid)}/${key.sid}.json`);
      expect(fetched.status).toBe(404);
      expect(fetched.json()).toMatchObject({
        code: 20404,
        message: `The requested resource ${keysPath(t.accountSid)}/${key.sid}.json was not found`,
      });
      expect((await t.request('DELETE', `${keysPath(t.accountSid)}/${key.sid}.json`)).status).toBe(404);
      expect(await t.app.store.findKey(key.sid)).toBeUndefined();
    });

    it("a key is not found through another account's path", async () => {
      const sub = await createSubaccount('foreign key path');
      const ownerKey = await createKey(t.accountSid, 'owner only', owner);
      const res = await t.request('GET', `${keysPath(sub.sid)}/${ownerKey.sid}.json`);
      expect(res.status).toBe(404);
      expect(res.json().code).toBe(20404);
      expect((await t.request('DELETE', `${keysPath(sub.sid)}/${ownerKey.sid}.json`)).status).toBe(404);
      expect((await t.request('POST', `${keysPath(sub.sid)}/${ownerKey.sid}.json`, { form: { FriendlyName: 'hijack' } })).status).toBe(404);
      expect((await t.request('GET', `${conferencesPath(t.accountSid)}.json`, { auth: auth(ownerKey) })).status).toBe(200);
    });

    it('the secret is stored only as a hash', async () => {
      const key = await createKey(t.accountSid, 'hashed', owner);
      const stored = await t.app.store.findKey(key.sid);
      expect(stored).toBeDefined();
      expect(stored!.secretHash).not.toBe(key.secret);
      expect(stored!.secretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(key.secret);
      expect(stored!.accountSid).toBe(t.accountSid);
    });

    it('key management with an API key is refused (403) and changes nothing', async () => {
      const key = await createKey(t.accountSid, 'not an admin', owner);
      const victim = await createKey(t.accountSid, 'victim', owner);
      const asKey = { auth: auth(key) };
      const attempts: Array<[string, string, Record<string, string>?]> = [
        ['GET', `${keysPath(t.accountSid)}.json`],
        ['POST', `${keysPath(t.accountSid)}.json`, { FriendlyName: 'minted' }],
        ['GET', `${keysPath(t.accountSid)}/${victim.sid}.json`],
        ['POST', `${keysPath(t.accountSid)}/${victim.sid}.json`, { FriendlyName: 'renamed' }],
        ['DELETE', `${keysPath(t.accountSid)}/${victim.sid}.json`],
      ];
      for (const [method, path, form] of attempts) {
        const res = await t.request(method, path, { ...asKey, ...(form ? { form } : {}) });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.json()).toMatchObject({ status: 403 });
        expect(typeof res.json().code).toBe('number');
        expect(res.body).not.toContain(victim.secret);
      }
      const stillThere = await t.request('GET', `${keysPath(t.accountSid)}/${victim.sid}.json`);
      expect(stillThere.json().friendly_name).toBe('victim');
      const all = await t.request('GET', `${keysPath(t.accountSid)}.json?PageSize=1000`);
      expect(all.json<{ keys: Json[] }>().keys.map((k) => k.friendly_name)).not.toContain('minted');
    });

    it("an API key cannot read or change the account (its AuthToken would lead to key management)", async () => {
      const key = await createKey(t.accountSid, 'no account access', owner);
      const attempts: Array<[string, string, Record<string, string>?]> = [
        ['GET', `${accountsPath}/${t.accountSid}.json`],
        ['GET', `${accountsPath}/${t.accountSid}`],
        ['GET', `${accountsPath}.json`],
        ['POST', `${accountsPath}.json`, { FriendlyName: 'sub via key' }],
        ['POST', `${accountsPath}/${t.accountSid}.json`, { FriendlyName: 'renamed via key' }],
      ];
      for (const [method, path, form] of attempts) {
        const res = await t.request(method, path, { auth: auth(key), ...(form ? { form } : {}) });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body).not.toContain(t.authToken);
      }
      const ownerNow = await t.request('GET', `${accountsPath}/${t.accountSid}.json`);
      expect(ownerNow.json().friendly_name).not.toBe('renamed via key');
    });

    it("a suspended account's keys stop authenticating, and work again once it is active", async () => {
      const sub = await createSubaccount('suspend keys');
      const key = await createKey(sub.sid, 'sub key', sub);
      const path = `${conferencesPath(sub.sid)}.json`;
      expect((await t.request('GET', path, { auth: auth(key) })).status).toBe(200);
      expect((await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'suspended' } })).status).toBe(200);
      expectUnauthorized(await t.request('GET', path, { auth: auth(key) }));
      expectUnauthorized(await t.request('GET', path, { auth: auth(sub) }));
      expect((await t.request('POST', `${accountsPath}/${sub.sid}.json`, { form: { Status: 'active' } })).status).toBe(200);
      expect((await t.request('GET', path, { auth: auth(key) })).status).toBe(200);
    });
  });
});
