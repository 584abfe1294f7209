/**
 * The `Store` contract for SIP registrations (RFC 3261 §10.3) on both engines: a binding per
 * (domain, username, Contact) made and refreshed in place, read live only and most recent
 * first, removed one by one or all at once, swept when expired, and gone with its domain; a
 * binding made through proxies keeps its Path (RFC 3327) in order, and a refresh without one
 * forgets it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import type { SipDomain } from '../../src/domain/sip-domain.js';
import type { SipRegistration } from '../../src/domain/sip-registration.js';
import { STORE_KINDS, openTestStore, type TestStore } from '../helpers/stores.js';

const T0 = 1_750_000_000_000;

describe.each(STORE_KINDS)('SIP registrations contract on %s', (kind) => {
  let t: TestStore;
  let store: Store;

  beforeAll(async () => {
    t = await openTestStore(kind);
    store = t.store;
  });
  afterAll(async () => t?.cleanup());

  async function newDomain(): Promise<SipDomain> {
    const accountSid = newSid('AC');
    await store.insertAccount({ sid: accountSid, ownerAccountSid: accountSid, friendlyName: 'a', authToken: 'x'.repeat(32), status: 'active', dateCreated: T0, dateUpdated: T0 });
    const sid = newSid('SD');
    const domain: SipDomain = {
      sid,
      accountSid,
      domainName: `${sid.slice(2, 12).toLowerCase()}.acme.example`,
      friendlyName: 'acme',
      voiceUrl: null,
      voiceMethod: 'POST',
      voiceFallbackUrl: null,
      voiceFallbackMethod: 'POST',
      voiceStatusCallbackUrl: null,
      voiceStatusCallbackMethod: 'POST',
      sipRegistration: true,
      secure: false,
      dateCreated: T0,
      dateUpdated: T0,
    };
    await store.insertSipDomain(domain);
    return domain;
  }

  const binding = (d: SipDomain, username: string, contact: string, over: Partial<SipRegistration> = {}): SipRegistration => ({
    domainSid: d.sid,
    username,
    contact,
    sourceHost: '203.0.113.7',
    sourcePort: 40_123,
    sourceTransport: 'udp',
    callId: 'c1@phone',
    cseq: 1,
    expiresAt: T0 + 3_600_000,
    registeredAt: T0,
    ...over,
  });

  it('makes a binding per contact, refreshes it in place and reads live ones, most recent first', async () => {
    const d = await newDomain();
    const desk = binding(d, 'bob', 'sip:bob@192.168.1.20:5060');
    const soft = binding(d, 'bob', 'sip:bob@10.0.0.9:5062;transport=tcp', { sourceTransport: 'tcp', registeredAt: T0 + 10 });
    await store.saveSipRegistration(desk);
    await store.saveSipRegistration(soft);
    await store.saveSipRegistration(binding(d, 'alice', 'sip:alice@10.0.0.1'));
    expect(await store.listSipRegistrations(d.sid, 'bob', T0)).toEqual([soft, desk]);

    const refreshed = { ...desk, cseq: 2, sourcePort: 40_200, expiresAt: T0 + 7_200_000, registeredAt: T0 + 20 };
    await store.saveSipRegistration(refreshed);
    expect(await store.listSipRegistrations(d.sid, 'bob', T0)).toEqual([refreshed, soft]);
    // Past its expiry a binding is not read, though not yet swept.
    expect(await store.listSipRegistrations(d.sid, 'bob', T0 + 3_600_000)).toEqual([refreshed]);
    expect(await store.listSipRegistrations(d.sid, 'carol', T0)).toEqual([]);
  });

  it('removes some contacts or all of a user, sweeps the expired, and forgets a deleted domain', async () => {
    const d = await newDomain();
    await store.saveSipRegistration(binding(d, 'bob', 'sip:bob@10.0.0.1'));
    await store.saveSipRegistration(binding(d, 'bob', 'sip:bob@10.0.0.2'));
    await store.saveSipRegistration(binding(d, 'bob', 'sip:bob@10.0.0.3', { expiresAt: T0 + 1000 }));
    await store.saveSipRegistration(binding(d, 'alice', 'sip:alice@10.0.0.4'));
    expect(await store.deleteSipRegistrations(d.sid, 'bob', ['sip:bob@10.0.0.1', 'sip:bob@nowhere'])).toBe(1);
    expect(await store.deleteSipRegistrations(d.sid, 'bob', [])).toBe(0);
    expect((await store.listSipRegistrations(d.sid, 'bob', T0)).map((r) => r.contact).sort()).toEqual(['sip:bob@10.0.0.2', 'sip:bob@10.0.0.3']);

    expect(await store.deleteExpiredSipRegistrations(T0 + 1000)).toBeGreaterThanOrEqual(1);
    expect((await store.listSipRegistrations(d.sid, 'bob', 0)).map((r) => r.contact)).toEqual(['sip:bob@10.0.0.2']);
    expect(await store.deleteSipRegistrations(d.sid, 'bob')).toBe(1);
    expect(await store.listSipRegistrations(d.sid, 'bob', 0)).toEqual([]);

    await store.deleteSipDomain(d.sid);
    expect(await store.listSipRegistrations(d.sid, 'alice', 0)).toEqual([]);
  });

  it('keeps the Path a binding was registered through, in order, and forgets it on a refresh without one', async () => {
    const d = await newDomain();
    const path = ['<sip:edge.acme.example;lr;received=sip:198.51.100.4:5060>', '<sip:10.0.0.2:5060;lr>'];
    const proxied = binding(d, 'bob', 'sip:bob@192.168.1.20:5060', { path, sourceHost: '10.0.0.2', sourcePort: 5060 });
    await store.saveSipRegistration(proxied);
    await store.saveSipRegistration(binding(d, 'bob', 'sip:bob@10.0.0.9:5062', { registeredAt: T0 - 10 }));
    const [first, second] = await store.listSipRegistrations(d.sid, 'bob', T0);
    expect(first).toEqual(proxied);
    expect(second?.path).toBeUndefined();

    await store.saveSipRegistration(binding(d, 'bob', 'sip:bob@192.168.1.20:5060', { cseq: 2, registeredAt: T0 + 5 }));
    const [refreshed] = await store.listSipRegistrations(d.sid, 'bob', T0);
    expect(refreshed).toMatchObject({ contact: 'sip:bob@192.168.1.20:5060', cseq: 2 });
    expect(refreshed?.path).toBeUndefined();
  });
});
