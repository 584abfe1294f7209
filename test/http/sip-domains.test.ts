/**
 * The SIP resources over HTTP (issue 14 §1): Domains, CredentialLists with their Credentials,
 * IpAccessControlLists with their IpAddresses, and the five mapping collections of a domain —
 * every key of their twilio-oai schemas; JSON, XML and CSV; Twilio's refusals and codes (21231
 * domain validation, 21240 credential list validation with its password rule, 20001 for
 * addresses and unsupported parameters, 20404); passwords never answered back, only their
 * HA1s kept; accounts kept apart; and what the SIP side will read from the store.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIP_DIGEST_REALM } from '../../src/domain/sip-credential.js';
import { accountsPath } from '../helpers/paths.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { ManualClock, startTestApp, type HttpResult, type TestApp } from '../helpers/test-app.js';
import { schemaErrors, schemaKeys } from '../helpers/twilio-schema.js';

type Json = Record<string, unknown>;

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const DATE0 = 'Mon, 05 Jan 2026 08:00:00 +0000';
const PASSWORD = 'IWasAtSignal2018';
const S = 'api.v2010.account.sip';
const SCHEMA = {
  domain: `${S}.sip_domain`,
  credentialList: `${S}.sip_credential_list`,
  credential: `${S}.sip_credential_list.sip_credential`,
  acl: `${S}.sip_ip_access_control_list`,
  address: `${S}.sip_ip_access_control_list.sip_ip_address`,
  legacyCl: `${S}.sip_domain.sip_credential_list_mapping`,
  legacyAl: `${S}.sip_domain.sip_ip_access_control_list_mapping`,
  callsCl: `${S}.sip_domain.sip_auth.sip_auth_calls.sip_auth_calls_credential_list_mapping`,
  callsAl: `${S}.sip_domain.sip_auth.sip_auth_calls.sip_auth_calls_ip_access_control_list_mapping`,
  registrationsCl: `${S}.sip_domain.sip_auth.sip_auth_registrations.sip_auth_registrations_credential_list_mapping`,
} as const;

const sip = (ac: string): string => `${accountsPath}/${ac}/SIP`;
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

let counter = 0;
/** A domain name no other test of the suite uses. */
const freshName = (): string => `pbx${++counter}.acme.example`;

function expectValid(schema: string, body: Json): void {
  expect(Object.keys(body)).toEqual(schemaKeys(schema));
  expect(schemaErrors(schema, body)).toEqual([]);
}

function expectError(res: HttpResult, status: number, code: number, ...inMessage: string[]): void {
  expect(res.status).toBe(status);
  const body = res.json();
  expect(body).toMatchObject({ status, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
  for (const text of inMessage) expect(body.message).toContain(text);
}

describe.each(STORE_KINDS)('SIP resources over HTTP on %s', (kind) => {
  let t: TestApp;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestApp(kind, { clock });
  });
  afterAll(async () => t?.close());

  async function post(path: string, form: Record<string, string>, status = 201, auth?: string): Promise<Json> {
    const res = await t.request('POST', `${path}.json`, { form, ...(auth ? { auth } : {}) });
    expect(res.status, res.body).toBe(status);
    return res.json();
  }

  async function subaccount(name: string): Promise<{ sid: string; auth: string }> {
    const body = (await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: name } })).json();
    return { sid: body.sid as string, auth: `${body.sid as string}:${body.auth_token as string}` };
  }

  it('creates a domain with every key of the schema and Twilio’s defaults, its name in lower case', async () => {
    clock.set(T0);
    const body = await post(`${sip(t.accountSid)}/Domains`, { DomainName: 'Office.ACME.example', VoiceUrl: 'http://127.0.0.1:9/voice' });
    expectValid(SCHEMA.domain, body);
    const sid = body.sid as string;
    expect(sid).toMatch(/^SD[0-9a-f]{32}$/);
    const path = `${sip(t.accountSid)}/Domains/${sid}`;
    expect(body).toEqual({
      account_sid: t.accountSid,
      api_version: '2010-04-01',
      auth_type: null,
      date_created: DATE0,
      date_updated: DATE0,
      domain_name: 'office.acme.example',
      friendly_name: 'office.acme.example',
      sid,
      uri: `${path}.json`,
      voice_fallback_method: 'POST',
      voice_fallback_url: null,
      voice_method: 'POST',
      voice_status_callback_method: 'POST',
      voice_status_callback_url: null,
      voice_url: 'http://127.0.0.1:9/voice',
      subresource_uris: {
        ip_access_control_list_mappings: `${path}/IpAccessControlListMappings.json`,
        credential_list_mappings: `${path}/CredentialListMappings.json`,
      },
      sip_registration: false,
      emergency_calling_enabled: false,
      secure: false,
      byoc_trunk_sid: null,
      emergency_caller_sid: null,
    });
    expect((await t.request('GET', `${path}.json`)).json()).toEqual(body);
    expect(await t.app.store.findSipDomainByName('office.acme.example')).toMatchObject({ sid, accountSid: t.accountSid });
  });

  it('updates a domain’s settings, keeps what is not given, and deletes it', async () => {
    clock.set(T0);
    const created = await post(`${sip(t.accountSid)}/Domains`, { DomainName: freshName(), FriendlyName: 'desk phones', VoiceUrl: 'http://127.0.0.1:9/a' });
    const path = `${sip(t.accountSid)}/Domains/${created.sid as string}`;
    clock.set(T0 + 60_000);
    const name = freshName();
    const updated = await post(path, { DomainName: name, SipRegistration: 'true', Secure: 'true', VoiceMethod: 'GET', VoiceStatusCallbackUrl: 'https://example.com/s' }, 200);
    expectValid(SCHEMA.domain, updated);
    expect(updated).toMatchObject({
      domain_name: name,
      friendly_name: 'desk phones',
      voice_url: 'http://127.0.0.1:9/a',
      voice_method: 'GET',
      voice_status_callback_url: 'https://example.com/s',
      sip_registration: true,
      secure: true,
      date_created: DATE0,
      date_updated: 'Mon, 05 Jan 2026 08:01:00 +0000',
    });
    expect((await post(path, { VoiceUrl: '' }, 200)).voice_url).toBeNull();
    expect((await t.request('DELETE', `${path}.json`)).status).toBe(204);
    expectError(await t.request('GET', `${path}.json`), 404, 20404);
    expectError(await t.request('DELETE', `${path}.json`), 404, 20404);
  });

  it('refuses a taken name (in any account), a name that is no DNS name, and what Conclave cannot do', async () => {
    const name = freshName();
    await post(`${sip(t.accountSid)}/Domains`, { DomainName: name });
    const other = await subaccount('other');
    expectError(await t.request('POST', `${sip(other.sid)}/Domains.json`, { form: { DomainName: name.toUpperCase() }, auth: other.auth }), 400, 21231, 'already in use');
    for (const bad of ['under_score.example', '-lead.example', 'a..b', '192.0.2.1', `${'a'.repeat(64)}.example`, 'sp ace.example']) {
      expectError(await t.request('POST', `${sip(t.accountSid)}/Domains.json`, { form: { DomainName: bad } }), 400, 21231, 'Invalid DomainName');
    }
    expectError(await t.request('POST', `${sip(t.accountSid)}/Domains.json`, { form: {} }), 400, 20001, 'DomainName');
    expectError(await t.request('POST', `${sip(t.accountSid)}/Domains.json`, { form: { DomainName: freshName(), VoiceUrl: 'ftp://x' } }), 400, 20001, 'VoiceUrl');
    expectError(await t.request('POST', `${sip(t.accountSid)}/Domains.json`, { form: { DomainName: freshName(), EmergencyCallingEnabled: 'true' } }), 400, 20001, 'EmergencyCallingEnabled');
    expectError(await t.request('POST', `${sip(t.accountSid)}/Domains.json`, { form: { DomainName: freshName(), ByocTrunkSid: `BY${'0'.repeat(32)}` } }), 400, 20001, 'ByocTrunkSid');
    // Given false or empty, they change nothing and are accepted.
    await post(`${sip(t.accountSid)}/Domains`, { DomainName: freshName(), EmergencyCallingEnabled: 'false', ByocTrunkSid: '', EmergencyCallerSid: '' });
    // Another account's domain is not found.
    const mine = await post(`${sip(t.accountSid)}/Domains`, { DomainName: freshName() });
    expectError(await t.request('GET', `${sip(other.sid)}/Domains/${mine.sid as string}.json`, { auth: other.auth }), 404, 20404);
  });

  it('lists domains oldest first in JSON, XML and CSV, paged', async () => {
    const sub = await subaccount('lists');
    const a = await post(`${sip(sub.sid)}/Domains`, { DomainName: freshName() }, 201, sub.auth);
    const b = await post(`${sip(sub.sid)}/Domains`, { DomainName: freshName() }, 201, sub.auth);
    const page = (await t.request('GET', `${sip(sub.sid)}/Domains.json?PageSize=1`, { auth: sub.auth })).json();
    expect((page.domains as Json[]).map((d) => d.sid)).toEqual([a.sid]);
    expect(page.next_page_uri).toMatch(/PageToken=PA\d+/);
    const next = (await t.request('GET', page.next_page_uri as string, { auth: sub.auth })).json();
    expect((next.domains as Json[]).map((d) => d.sid)).toEqual([b.sid]);
    for (const d of next.domains as Json[]) expectValid(SCHEMA.domain, d);

    const xml = await t.request('GET', `${sip(sub.sid)}/Domains`, { auth: sub.auth });
    expect(xml.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(xml.body).toMatch(/<Domains page="0" numpages="1" pagesize="50" total="2" start="0" end="1"/);
    expect(xml.body.match(/<Domain>/g)).toHaveLength(2);
    expect(xml.body).toContain(`<DomainName>${b.domain_name as string}</DomainName>`);
    const csv = await t.request('GET', `${sip(sub.sid)}/Domains.csv`, { auth: sub.auth });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toContain('DomainName');
    expect(lines[0]).not.toContain('SubresourceUris');
    expect(lines).toHaveLength(3);
  });

  it('keeps a credential’s password only as the HA1s of the Conclave realm, and never answers it back', async () => {
    clock.set(T0);
    const list = await post(`${sip(t.accountSid)}/CredentialLists`, { FriendlyName: 'phones' });
    expectValid(SCHEMA.credentialList, list);
    const listPath = `${sip(t.accountSid)}/CredentialLists/${list.sid as string}`;
    expect(list).toEqual({
      account_sid: t.accountSid,
      date_created: DATE0,
      date_updated: DATE0,
      friendly_name: 'phones',
      sid: list.sid,
      subresource_uris: { credentials: `${listPath}/Credentials.json` },
      uri: `${listPath}.json`,
    });
    expect(list.sid).toMatch(/^CL[0-9a-f]{32}$/);

    const res = await t.request('POST', `${listPath}/Credentials.json`, { form: { Username: 'alice', Password: PASSWORD } });
    expect(res.status).toBe(201);
    expect(res.body).not.toContain(PASSWORD);
    const credential = res.json();
    expectValid(SCHEMA.credential, credential);
    expect(credential).toEqual({
      sid: credential.sid,
      account_sid: t.accountSid,
      credential_list_sid: list.sid,
      username: 'alice',
      date_created: DATE0,
      date_updated: DATE0,
      uri: `${listPath}/Credentials/${credential.sid as string}.json`,
    });
    expect(credential.sid).toMatch(/^CR[0-9a-f]{32}$/);
    for (const suffix of ['.json', '', '.csv']) {
      const shown = await t.request('GET', `${listPath}/Credentials/${credential.sid as string}${suffix}`);
      expect(shown.status).toBe(200);
      expect(shown.body).toContain('alice');
      expect(shown.body).not.toContain(PASSWORD);
    }
    const stored = await t.app.store.findSipCredential(list.sid as string, credential.sid as string);
    expect(stored).toMatchObject({
      realm: SIP_DIGEST_REALM,
      ha1Md5: md5(`alice:${SIP_DIGEST_REALM}:${PASSWORD}`),
      ha1Sha256: sha256(`alice:${SIP_DIGEST_REALM}:${PASSWORD}`),
    });
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);

    // A new password: new hashes; no password: nothing changes.
    clock.set(T0 + 1000);
    const changed = await post(`${listPath}/Credentials/${credential.sid as string}`, { Password: 'AnotherGood1Pass' }, 200);
    expect(changed.date_updated).toBe('Mon, 05 Jan 2026 08:00:01 +0000');
    expect((await t.app.store.findSipCredential(list.sid as string, credential.sid as string))?.ha1Md5).toBe(md5(`alice:${SIP_DIGEST_REALM}:AnotherGood1Pass`));
    expect(await post(`${listPath}/Credentials/${credential.sid as string}`, {}, 200)).toEqual(changed);

    const page = (await t.request('GET', `${listPath}/Credentials.json`)).json();
    expect((page.credentials as Json[]).map((c) => c.username)).toEqual(['alice']);
    expect((await t.request('DELETE', `${listPath}/Credentials/${credential.sid as string}.json`)).status).toBe(204);
    expectError(await t.request('GET', `${listPath}/Credentials/${credential.sid as string}.json`), 404, 20404);
  });

  it('refuses weak passwords, bad and repeated usernames with 21240', async () => {
    const list = await post(`${sip(t.accountSid)}/CredentialLists`, { FriendlyName: 'strict' });
    const credentials = `${sip(t.accountSid)}/CredentialLists/${list.sid as string}/Credentials.json`;
    for (const weak of ['Short1Pass', 'alllowercase123', 'ALLUPPERCASE123', 'NoDigitsAtAllHere', 'x'.repeat(256) + 'A1']) {
      const res = await t.request('POST', credentials, { form: { Username: 'bob', Password: weak } });
      expectError(res, 400, 21240, 'Password');
      expect(res.body).not.toContain(weak);
    }
    expectError(await t.request('POST', credentials, { form: { Username: 'a'.repeat(33), Password: PASSWORD } }), 400, 21240, 'Username');
    expectError(await t.request('POST', credentials, { form: { Username: 'bob:1', Password: PASSWORD } }), 400, 21240, 'Username');
    expectError(await t.request('POST', credentials, { form: { Username: 'bob' } }), 400, 20001, 'Password');
    await post(credentials.replace(/\.json$/, ''), { Username: 'bob', Password: PASSWORD });
    expectError(await t.request('POST', credentials, { form: { Username: 'bob', Password: PASSWORD } }), 400, 21240, 'already');
    expectError(await t.request('POST', `${sip(t.accountSid)}/CredentialLists.json`, { form: {} }), 400, 20001, 'FriendlyName');
    expectError(await t.request('POST', `${sip(t.accountSid)}/CredentialLists.json`, { form: { FriendlyName: 'x'.repeat(65) } }), 400, 20001, 'FriendlyName');
  });

  it('keeps IP access control lists and their addresses, with CIDR prefixes checked', async () => {
    clock.set(T0);
    const acl = await post(`${sip(t.accountSid)}/IpAccessControlLists`, { FriendlyName: 'office' });
    expectValid(SCHEMA.acl, acl);
    expect(acl.sid).toMatch(/^AL[0-9a-f]{32}$/);
    const aclPath = `${sip(t.accountSid)}/IpAccessControlLists/${acl.sid as string}`;
    expect(acl.subresource_uris).toEqual({ ip_addresses: `${aclPath}/IpAddresses.json` });
    const renamed = await post(aclPath, { FriendlyName: 'head office' }, 200);
    expect(renamed.friendly_name).toBe('head office');

    const host = await post(`${aclPath}/IpAddresses`, { FriendlyName: 'pbx', IpAddress: '198.51.100.7' });
    expectValid(SCHEMA.address, host);
    expect(host).toEqual({
      sid: host.sid,
      account_sid: t.accountSid,
      friendly_name: 'pbx',
      ip_address: '198.51.100.7',
      cidr_prefix_length: 32,
      ip_access_control_list_sid: acl.sid,
      date_created: DATE0,
      date_updated: DATE0,
      uri: `${aclPath}/IpAddresses/${host.sid as string}.json`,
    });
    expect(host.sid).toMatch(/^IP[0-9a-f]{32}$/);
    const lan = await post(`${aclPath}/IpAddresses`, { FriendlyName: 'lan', IpAddress: '192.0.2.0', CidrPrefixLength: '24' });
    expect(lan.cidr_prefix_length).toBe(24);
    const v6 = await post(`${aclPath}/IpAddresses`, { FriendlyName: 'v6', IpAddress: '2001:DB8:0::1', CidrPrefixLength: '64' });
    expect(v6).toMatchObject({ ip_address: '2001:db8::1', cidr_prefix_length: 64 });
    // A new address keeps the prefix length it had; a new length alone is checked against the address.
    const moved = await post(`${aclPath}/IpAddresses/${lan.sid as string}`, { IpAddress: '203.0.113.0' }, 200);
    expect(moved).toMatchObject({ ip_address: '203.0.113.0', cidr_prefix_length: 24, friendly_name: 'lan' });
    expectError(await t.request('POST', `${aclPath}/IpAddresses/${lan.sid as string}.json`, { form: { CidrPrefixLength: '33' } }), 400, 20001, 'CidrPrefixLength');
    // Another family: the whole address, unless a length is given.
    expect(await post(`${aclPath}/IpAddresses/${host.sid as string}`, { IpAddress: '2001:db8::7' }, 200)).toMatchObject({ cidr_prefix_length: 128 });
    expect(await post(`${aclPath}/IpAddresses/${host.sid as string}`, { IpAddress: '198.51.100.7', CidrPrefixLength: '30' }, 200)).toMatchObject({ cidr_prefix_length: 30 });

    for (const [ip, prefix] of [['999.1.1.1', ''], ['10.0.0', ''], ['host.example', ''], ['10.0.0.1', '0'], ['10.0.0.1', '33'], ['10.0.0.1', 'x'], ['2001:db8::1', '129'], ['fe80::1%eth0', '']]) {
      const form: Record<string, string> = { FriendlyName: 'bad', IpAddress: ip! };
      if (prefix) form.CidrPrefixLength = prefix;
      expectError(await t.request('POST', `${aclPath}/IpAddresses.json`, { form }), 400, 20001);
    }
    expectError(await t.request('POST', `${aclPath}/IpAddresses.json`, { form: { IpAddress: '10.0.0.1' } }), 400, 20001, 'FriendlyName');
    const page = (await t.request('GET', `${aclPath}/IpAddresses.json`)).json();
    expect((page.ip_addresses as Json[]).map((a) => a.friendly_name)).toEqual(['pbx', 'lan', 'v6']);
    expect((await t.request('DELETE', `${aclPath}.json`)).status).toBe(204);
    expectError(await t.request('GET', `${aclPath}/IpAddresses/${host.sid as string}.json`), 404, 20404);
  });

  it('maps lists to a domain through all five collections, and the SIP side reads them back', async () => {
    clock.set(T0);
    const domain = await post(`${sip(t.accountSid)}/Domains`, { DomainName: freshName(), SipRegistration: 'true' });
    const domainPath = `${sip(t.accountSid)}/Domains/${domain.sid as string}`;
    const phones = await post(`${sip(t.accountSid)}/CredentialLists`, { FriendlyName: 'phones' });
    const trunks = await post(`${sip(t.accountSid)}/CredentialLists`, { FriendlyName: 'trunks' });
    await post(`${sip(t.accountSid)}/CredentialLists/${phones.sid as string}/Credentials`, { Username: 'alice', Password: PASSWORD });
    const office = await post(`${sip(t.accountSid)}/IpAccessControlLists`, { FriendlyName: 'office' });
    await post(`${sip(t.accountSid)}/IpAccessControlLists/${office.sid as string}/IpAddresses`, { FriendlyName: 'lan', IpAddress: '192.0.2.0', CidrPrefixLength: '24' });

    const callsCl = await post(`${domainPath}/Auth/Calls/CredentialListMappings`, { CredentialListSid: phones.sid as string });
    expectValid(SCHEMA.callsCl, callsCl);
    expect(callsCl).toEqual({ account_sid: t.accountSid, date_created: DATE0, date_updated: DATE0, friendly_name: 'phones', sid: phones.sid });
    const regCl = await post(`${domainPath}/Auth/Registrations/CredentialListMappings`, { CredentialListSid: phones.sid as string });
    expectValid(SCHEMA.registrationsCl, regCl);
    const callsAl = await post(`${domainPath}/Auth/Calls/IpAccessControlListMappings`, { IpAccessControlListSid: office.sid as string });
    expectValid(SCHEMA.callsAl, callsAl);
    expect(callsAl.sid).toBe(office.sid);
    // The legacy collections are the call mappings: trunks mapped there shows under Auth/Calls.
    const legacyCl = await post(`${domainPath}/CredentialListMappings`, { CredentialListSid: trunks.sid as string });
    expectValid(SCHEMA.legacyCl, legacyCl);
    expect(legacyCl).toEqual({
      account_sid: t.accountSid,
      date_created: DATE0,
      date_updated: DATE0,
      domain_sid: domain.sid,
      friendly_name: 'trunks',
      sid: trunks.sid,
      uri: `${domainPath}/CredentialListMappings/${trunks.sid as string}.json`,
    });
    const calls = (await t.request('GET', `${domainPath}/Auth/Calls/CredentialListMappings.json`)).json();
    expect((calls.contents as Json[]).map((m) => m.sid)).toEqual([phones.sid, trunks.sid]);
    for (const m of calls.contents as Json[]) expectValid(SCHEMA.callsCl, m);
    const legacyAl = (await t.request('GET', `${domainPath}/IpAccessControlListMappings.json`)).json();
    expect((legacyAl.ip_access_control_list_mappings as Json[]).map((m) => m.sid)).toEqual([office.sid]);
    expectValid(SCHEMA.legacyAl, (legacyAl.ip_access_control_list_mappings as Json[])[0]!);
    expect((await t.request('GET', `${domainPath}/Auth/Registrations/CredentialListMappings/${phones.sid as string}.json`)).json()).toEqual(regCl);
    expect((await t.request('GET', `${domainPath}.json`)).json().auth_type).toBe('IP_ACL,CREDENTIAL_LIST');

    expectError(await t.request('POST', `${domainPath}/Auth/Calls/CredentialListMappings.json`, { form: { CredentialListSid: phones.sid as string } }), 400, 21231, 'already mapped');
    expectError(await t.request('POST', `${domainPath}/Auth/Calls/CredentialListMappings.json`, { form: { CredentialListSid: office.sid as string } }), 400, 20001, 'CredentialListSid');
    expectError(await t.request('POST', `${domainPath}/Auth/Calls/IpAccessControlListMappings.json`, { form: {} }), 400, 20001, 'IpAccessControlListSid');
    expectError(await t.request('POST', `${domainPath}/Auth/Calls/CredentialListMappings.json`, { form: { CredentialListSid: `CL${'0'.repeat(32)}` } }), 404, 20404);
    expectError(await t.request('GET', `${domainPath}/Auth/Registrations/CredentialListMappings/${trunks.sid as string}.json`), 404, 20404);
    expectError(await t.request('PUT', `${domainPath}/Auth/Calls/CredentialListMappings.json`), 405, 20004);

    // What an INVITE or a REGISTER to the domain will read.
    const store = t.app.store;
    const found = await store.findSipDomainByName(domain.domain_name as string);
    expect(found?.sid).toBe(domain.sid);
    const [alice] = await store.findSipDomainCredentials(domain.sid as string, 'registrations', 'alice');
    expect(alice?.ha1Md5).toBe(md5(`alice:${SIP_DIGEST_REALM}:${PASSWORD}`));
    expect(await store.listSipDomainIpAddresses(domain.sid as string)).toEqual([expect.objectContaining({ ipAddress: '192.0.2.0', cidrPrefixLength: 24 })]);

    expect((await t.request('DELETE', `${domainPath}/CredentialListMappings/${phones.sid as string}.json`)).status).toBe(204);
    expect((await t.request('DELETE', `${domainPath}/Auth/Calls/IpAccessControlListMappings/${office.sid as string}.json`)).status).toBe(204);
    expect((await t.request('GET', `${domainPath}.json`)).json().auth_type).toBe('CREDENTIAL_LIST');
    expect(await store.listSipDomainIpAddresses(domain.sid as string)).toEqual([]);
    // A deleted list leaves no mapping behind.
    expect((await t.request('DELETE', `${sip(t.accountSid)}/CredentialLists/${trunks.sid as string}.json`)).status).toBe(204);
    expect((await t.request('GET', `${domainPath}.json`)).json().auth_type).toBeNull();
    const xml = await t.request('GET', `${domainPath}/Auth/Registrations/CredentialListMappings`);
    expect(xml.body).toContain('<Contents ');
    expect(xml.body).toContain(`<Sid>${phones.sid as string}</Sid>`);
  });

  it('keeps another account’s lists out of a domain’s mappings', async () => {
    const other = await subaccount('outsider');
    const theirs = await post(`${sip(other.sid)}/CredentialLists`, { FriendlyName: 'theirs' }, 201, other.auth);
    const domain = await post(`${sip(t.accountSid)}/Domains`, { DomainName: freshName() });
    const res = await t.request('POST', `${sip(t.accountSid)}/Domains/${domain.sid as string}/Auth/Calls/CredentialListMappings.json`, {
      form: { CredentialListSid: theirs.sid as string },
    });
    expectError(res, 404, 20404);
    expectError(await t.request('GET', `${sip(other.sid)}/Domains/${domain.sid as string}/CredentialListMappings.json`, { auth: other.auth }), 404, 20404);
  });
});
