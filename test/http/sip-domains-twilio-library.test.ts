/**
 * The official twilio library drives the SIP resources (issue 14 §1) as a user would against a
 * self-hosted Conclave: a domain, a credential list with a credential, an IP access control
 * list with an address, the call and registration mappings, lists of each, a refused weak
 * password as a RestException, and the deletes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { restException, twilioClient } from '../helpers/twilio-client.js';

describe.each(STORE_KINDS)('SIP resources through the twilio library on %s', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t?.close());

  it('creates, maps, lists and deletes a domain with its credential list and IP list', async () => {
    const sip = twilioClient(t).sip;
    const domain = await sip.domains.create({ domainName: `lib-${kind}.acme.example`, friendlyName: 'library', voiceUrl: 'https://example.com/voice', sipRegistration: true });
    expect(domain.sid).toMatch(/^SD/);
    expect(domain.domainName).toBe(`lib-${kind}.acme.example`);
    expect(domain.sipRegistration).toBe(true);
    expect(domain.dateCreated).toBeInstanceOf(Date);

    const phones = await sip.credentialLists.create({ friendlyName: 'phones' });
    const alice = await sip.credentialLists(phones.sid).credentials.create({ username: 'alice', password: 'IWasAtSignal2018' });
    expect(alice.username).toBe('alice');
    expect(alice.credentialListSid).toBe(phones.sid);
    const weak = await restException(() => sip.credentialLists(phones.sid).credentials.create({ username: 'bob', password: 'weak' }));
    expect(weak).toMatchObject({ status: 400, code: 21240 });

    const office = await sip.ipAccessControlLists.create({ friendlyName: 'office' });
    const lan = await sip.ipAccessControlLists(office.sid).ipAddresses.create({ friendlyName: 'lan', ipAddress: '192.0.2.0', cidrPrefixLength: 24 });
    expect(lan.cidrPrefixLength).toBe(24);

    const calls = sip.domains(domain.sid).auth.calls;
    const registrations = sip.domains(domain.sid).auth.registrations;
    expect((await calls.credentialListMappings.create({ credentialListSid: phones.sid })).sid).toBe(phones.sid);
    expect((await registrations.credentialListMappings.create({ credentialListSid: phones.sid })).friendlyName).toBe('phones');
    expect((await calls.ipAccessControlListMappings.create({ ipAccessControlListSid: office.sid })).sid).toBe(office.sid);

    expect((await calls.credentialListMappings.list()).map((m) => m.sid)).toEqual([phones.sid]);
    expect((await registrations.credentialListMappings.list()).map((m) => m.sid)).toEqual([phones.sid]);
    expect((await calls.ipAccessControlListMappings.list()).map((m) => m.sid)).toEqual([office.sid]);
    expect((await sip.domains(domain.sid).credentialListMappings.list()).map((m) => m.sid)).toEqual([phones.sid]);
    expect((await sip.domains(domain.sid).ipAccessControlListMappings(office.sid).fetch()).domainSid).toBe(domain.sid);
    expect((await sip.domains(domain.sid).fetch()).authType).toBe('IP_ACL,CREDENTIAL_LIST');
    expect((await sip.domains.list()).map((d) => d.sid)).toContain(domain.sid);
    expect((await sip.credentialLists(phones.sid).credentials.list()).map((c) => c.username)).toEqual(['alice']);
    expect((await sip.ipAccessControlLists(office.sid).ipAddresses.list()).map((a) => a.ipAddress)).toEqual(['192.0.2.0']);

    expect(await calls.credentialListMappings(phones.sid).remove()).toBe(true);
    expect(await registrations.credentialListMappings(phones.sid).remove()).toBe(true);
    expect(await calls.ipAccessControlListMappings(office.sid).remove()).toBe(true);
    expect(await sip.credentialLists(phones.sid).credentials(alice.sid).remove()).toBe(true);
    expect(await sip.ipAccessControlLists(office.sid).ipAddresses(lan.sid).remove()).toBe(true);
    expect(await sip.credentialLists(phones.sid).remove()).toBe(true);
    expect(await sip.ipAccessControlLists(office.sid).remove()).toBe(true);
    expect(await sip.domains(domain.sid).remove()).toBe(true);
    expect(await restException(() => sip.domains(domain.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
  });
});
