/**
 * The `Store` contract for SIP domains, credential lists, IP access control lists and their
 * mappings, on both engines: round trips scoped to an account, unique domain names and
 * usernames, mappings named by their list with its friendly name, `auth_type` from the call
 * mappings, cascades when a list or a domain goes, and the three lookups a SIP request makes
 * (the domain by name, a username's HA1s through the domain's mappings, the mapped addresses).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import type { SipCredential, SipCredentialList } from '../../src/domain/sip-credential.js';
import type { SipDomain, SipListMapping } from '../../src/domain/sip-domain.js';
import type { SipIpAccessControlList, SipIpAddress } from '../../src/domain/sip-ip-access.js';
import { ConflictError } from '../../src/errors.js';
import { STORE_KINDS, insertOwnerAccount, openTestStore, type TestStore } from '../helpers/stores.js';

const T0 = 1_750_000_000_000;
const ALL = { pageSize: 50, page: 0 };

describe.each(STORE_KINDS)('SIP domains contract on %s', (kind) => {
  let t: TestStore;
  let store: Store;

  beforeAll(async () => {
    t = await openTestStore(kind);
    store = t.store;
  });
  afterAll(async () => t?.cleanup());

  const newAccount = (): Promise<string> => insertOwnerAccount(store, T0);

  function domain(accountSid: string, over: Partial<SipDomain> = {}): SipDomain {
    const sid = newSid('SD');
    return {
      sid,
      accountSid,
      domainName: `${sid.slice(2, 12)}.acme.example`,
      friendlyName: 'acme',
      voiceUrl: 'http://127.0.0.1:9/voice',
      voiceMethod: 'POST',
      voiceFallbackUrl: null,
      voiceFallbackMethod: 'POST',
      voiceStatusCallbackUrl: null,
      voiceStatusCallbackMethod: 'POST',
      sipRegistration: false,
      secure: false,
      dateCreated: T0,
      dateUpdated: T0,
      ...over,
    };
  }

  const list = (accountSid: string, prefix: 'CL' | 'AL', friendlyName = 'list'): SipCredentialList & SipIpAccessControlList => ({
    sid: newSid(prefix),
    accountSid,
    friendlyName,
    dateCreated: T0,
    dateUpdated: T0,
  });

  const credential = (l: SipCredentialList, username: string): SipCredential => ({
    sid: newSid('CR'),
    accountSid: l.accountSid,
    credentialListSid: l.sid,
    username,
    realm: 'conclave',
    ha1Md5: 'a'.repeat(32),
    ha1Sha256: 'b'.repeat(64),
    dateCreated: T0,
    dateUpdated: T0,
  });

  const address = (l: SipIpAccessControlList, ipAddress: string, cidrPrefixLength = 32): SipIpAddress => ({
    sid: newSid('IP'),
    accountSid: l.accountSid,
    ipAccessControlListSid: l.sid,
    friendlyName: ipAddress,
    ipAddress,
    cidrPrefixLength,
    dateCreated: T0,
    dateUpdated: T0,
  });

  const mapping = (d: SipDomain, listSid: string, at = T0): SipListMapping => ({
    accountSid: d.accountSid,
    domainSid: d.sid,
    listSid,
    friendlyName: '',
    dateCreated: at,
    dateUpdated: at,
  });

  it('stores a domain, finds it by SID in its account and by name in any, and keeps names unique', async () => {
    const ac = await newAccount();
    const other = await newAccount();
    const d = domain(ac, { sipRegistration: true, secure: true, voiceFallbackUrl: 'http://127.0.0.1:9/f', voiceStatusCallbackMethod: 'GET', dateCreated: 2 ** 40 });
    await store.insertSipDomain(d);
    expect(await store.findSipDomain(ac, d.sid)).toEqual(d);
    expect(await store.findSipDomain(other, d.sid)).toBeUndefined();
    expect(await store.findSipDomainByName(d.domainName)).toEqual(d);
    expect(await store.findSipDomainByName('nobody.example')).toBeUndefined();

    await expect(store.insertSipDomain(domain(other, { domainName: d.domainName }))).rejects.toBeInstanceOf(ConflictError);
    const second = domain(ac);
    await store.insertSipDomain(second);
    await expect(store.updateSipDomain({ ...second, domainName: d.domainName })).rejects.toBeInstanceOf(ConflictError);

    const renamed = { ...d, domainName: `x${d.domainName}`, sipRegistration: false, voiceUrl: null, dateUpdated: T0 + 1 };
    await store.updateSipDomain(renamed);
    expect(await store.findSipDomainByName(renamed.domainName)).toEqual(renamed);
    expect(await store.findSipDomainByName(d.domainName)).toBeUndefined();

    const page = await store.listSipDomains(ac, ALL);
    expect(page.items.map((x) => x.sid)).toEqual([d.sid, second.sid]);
    expect(page.total).toBe(2);
    expect((await store.listSipDomains(ac, { pageSize: 1, page: 1 })).items.map((x) => x.sid)).toEqual([second.sid]);
    expect(await store.deleteSipDomain(second.sid)).toBe(true);
    expect(await store.deleteSipDomain(second.sid)).toBe(false);
  });

  it('keeps credential lists and IP access control lists apart, each scoped to its account', async () => {
    const ac = await newAccount();
    const other = await newAccount();
    const cl = list(ac, 'CL', 'phones');
    const al = list(ac, 'AL', 'office');
    await store.insertSipCredentialList(cl);
    await store.insertSipIpAccessControlList(al);
    expect(await store.findSipCredentialList(ac, cl.sid)).toEqual(cl);
    expect(await store.findSipCredentialList(other, cl.sid)).toBeUndefined();
    expect(await store.findSipIpAccessControlList(ac, cl.sid)).toBeUndefined();
    expect(await store.findSipIpAccessControlList(ac, al.sid)).toEqual(al);
    await store.updateSipCredentialList({ ...cl, friendlyName: 'desk phones', dateUpdated: T0 + 5 });
    expect((await store.findSipCredentialList(ac, cl.sid))?.friendlyName).toBe('desk phones');
    expect((await store.listSipCredentialLists(ac, ALL)).items.map((x) => x.sid)).toEqual([cl.sid]);
    expect((await store.listSipIpAccessControlLists(ac, ALL)).items.map((x) => x.sid)).toEqual([al.sid]);
    expect((await store.listSipIpAccessControlLists(other, ALL)).total).toBe(0);
  });

  it('keeps a username once per list, its HA1s and realm, and deletes entries with their list', async () => {
    const ac = await newAccount();
    const cl = list(ac, 'CL');
    const otherList = list(ac, 'CL');
    await store.insertSipCredentialList(cl);
    await store.insertSipCredentialList(otherList);
    const alice = credential(cl, 'alice');
    await store.insertSipCredential(alice);
    await store.insertSipCredential(credential(otherList, 'alice'));
    await expect(store.insertSipCredential(credential(cl, 'alice'))).rejects.toBeInstanceOf(ConflictError);
    expect(await store.findSipCredential(cl.sid, alice.sid)).toEqual(alice);
    expect(await store.findSipCredential(otherList.sid, alice.sid)).toBeUndefined();
    const changed = { ...alice, ha1Md5: 'c'.repeat(32), ha1Sha256: 'd'.repeat(64), dateUpdated: T0 + 9 };
    await store.updateSipCredential(changed);
    expect(await store.findSipCredential(cl.sid, alice.sid)).toEqual(changed);

    const al = list(ac, 'AL');
    await store.insertSipIpAccessControlList(al);
    const office = address(al, '192.0.2.0', 24);
    await store.insertSipIpAddress(office);
    await store.insertSipIpAddress(address(al, '2001:db8::1', 128));
    expect(await store.findSipIpAddress(al.sid, office.sid)).toEqual(office);
    await store.updateSipIpAddress({ ...office, cidrPrefixLength: 25 });
    expect((await store.findSipIpAddress(al.sid, office.sid))?.cidrPrefixLength).toBe(25);
    expect((await store.listSipIpAddresses(al.sid, ALL)).items.map((a) => a.ipAddress)).toEqual(['192.0.2.0', '2001:db8::1']);

    expect(await store.deleteSipCredentialList(cl.sid)).toBe(true);
    expect(await store.findSipCredential(cl.sid, alice.sid)).toBeUndefined();
    expect((await store.listSipCredentials(otherList.sid, ALL)).total).toBe(1);
    expect(await store.deleteSipIpAccessControlList(al.sid)).toBe(true);
    expect((await store.listSipIpAddresses(al.sid, ALL)).total).toBe(0);
  });

  it('maps lists to a domain for calls and registrations apart, once each, with the list’s name', async () => {
    const ac = await newAccount();
    const d = domain(ac);
    await store.insertSipDomain(d);
    const phones = list(ac, 'CL', 'phones');
    const trunks = list(ac, 'CL', 'trunks');
    const office = list(ac, 'AL', 'office');
    for (const l of [phones, trunks]) await store.insertSipCredentialList(l);
    await store.insertSipIpAccessControlList(office);

    expect((await store.findSipDomainAuth([d.sid])).get(d.sid)).toEqual({ ipAccessControlList: false, credentialList: false });
    await store.insertSipCredentialListMapping('registrations', mapping(d, phones.sid));
    // A registration mapping lets no call in: auth_type stays empty.
    expect((await store.findSipDomainAuth([d.sid])).get(d.sid)).toEqual({ ipAccessControlList: false, credentialList: false });
    await store.insertSipCredentialListMapping('calls', mapping(d, phones.sid, T0 + 1));
    await store.insertSipCredentialListMapping('calls', mapping(d, trunks.sid, T0 + 2));
    await expect(store.insertSipCredentialListMapping('calls', mapping(d, trunks.sid))).rejects.toBeInstanceOf(ConflictError);
    await store.insertSipIpAccessControlListMapping(mapping(d, office.sid));
    await expect(store.insertSipIpAccessControlListMapping(mapping(d, office.sid))).rejects.toBeInstanceOf(ConflictError);
    expect((await store.findSipDomainAuth([d.sid])).get(d.sid)).toEqual({ ipAccessControlList: true, credentialList: true });

    expect(await store.findSipCredentialListMapping('calls', d.sid, trunks.sid)).toEqual({ ...mapping(d, trunks.sid, T0 + 2), friendlyName: 'trunks' });
    expect(await store.findSipCredentialListMapping('registrations', d.sid, trunks.sid)).toBeUndefined();
    const calls = await store.listSipCredentialListMappings('calls', d.sid, ALL);
    expect(calls.items.map((m) => [m.listSid, m.friendlyName])).toEqual([
      [phones.sid, 'phones'],
      [trunks.sid, 'trunks'],
    ]);
    expect((await store.listSipCredentialListMappings('registrations', d.sid, ALL)).items.map((m) => m.listSid)).toEqual([phones.sid]);
    expect((await store.listSipIpAccessControlListMappings(d.sid, ALL)).items).toEqual([{ ...mapping(d, office.sid), friendlyName: 'office' }]);
    expect(await store.findSipIpAccessControlListMapping(d.sid, office.sid)).toEqual({ ...mapping(d, office.sid), friendlyName: 'office' });

    expect(await store.deleteSipCredentialListMapping('calls', d.sid, phones.sid)).toBe(true);
    expect(await store.deleteSipCredentialListMapping('calls', d.sid, phones.sid)).toBe(false);
    expect((await store.listSipCredentialListMappings('registrations', d.sid, ALL)).total).toBe(1);
    // A list deleted takes its mappings along; a domain deleted takes all of its own.
    await store.deleteSipCredentialList(trunks.sid);
    expect((await store.listSipCredentialListMappings('calls', d.sid, ALL)).total).toBe(0);
    await store.deleteSipDomain(d.sid);
    expect((await store.listSipIpAccessControlListMappings(d.sid, ALL)).total).toBe(0);
    expect(await store.findSipIpAccessControlList(ac, office.sid)).toEqual(office);
    expect(await store.deleteSipIpAccessControlListMapping(d.sid, office.sid)).toBe(false);
  });

  it('answers what a SIP request asks: a username’s HA1s through the mappings, the mapped addresses', async () => {
    const ac = await newAccount();
    const d = domain(ac);
    const elsewhere = domain(ac);
    await store.insertSipDomain(d);
    await store.insertSipDomain(elsewhere);
    const phones = list(ac, 'CL');
    const spare = list(ac, 'CL');
    const unmapped = list(ac, 'CL');
    for (const l of [phones, spare, unmapped]) await store.insertSipCredentialList(l);
    const alice = credential(phones, 'alice');
    const aliceAgain = credential(spare, 'alice');
    for (const c of [alice, aliceAgain, credential(phones, 'bob'), credential(unmapped, 'alice')]) await store.insertSipCredential(c);
    await store.insertSipCredentialListMapping('calls', mapping(d, phones.sid));
    await store.insertSipCredentialListMapping('calls', mapping(d, spare.sid));
    await store.insertSipCredentialListMapping('registrations', mapping(d, phones.sid));
    await store.insertSipCredentialListMapping('calls', mapping(elsewhere, unmapped.sid));

    expect(await store.findSipDomainCredentials(d.sid, 'calls', 'alice')).toEqual([alice, aliceAgain]);
    expect(await store.findSipDomainCredentials(d.sid, 'registrations', 'alice')).toEqual([alice]);
    expect(await store.findSipDomainCredentials(d.sid, 'calls', 'carol')).toEqual([]);
    expect(await store.findSipDomainCredentials(d.sid, 'calls', 'ALICE')).toEqual([]);

    const office = list(ac, 'AL');
    const home = list(ac, 'AL');
    for (const l of [office, home]) await store.insertSipIpAccessControlList(l);
    const lan = address(office, '192.0.2.0', 24);
    const pbx = address(office, '198.51.100.7');
    const notMapped = address(home, '203.0.113.9');
    for (const a of [lan, pbx, notMapped]) await store.insertSipIpAddress(a);
    expect(await store.listSipDomainIpAddresses(d.sid)).toEqual([]);
    await store.insertSipIpAccessControlListMapping(mapping(d, office.sid));
    expect(await store.listSipDomainIpAddresses(d.sid)).toEqual([lan, pbx]);
    expect(await store.listSipDomainIpAddresses(elsewhere.sid)).toEqual([]);
  });

  it('works inside a transaction', async () => {
    const ac = await newAccount();
    const d = domain(ac);
    await expect(
      store.transaction(async (tx) => {
        await tx.insertSipDomain(d);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await store.findSipDomain(ac, d.sid)).toBeUndefined();
  });
});
