/**
 * The `Store` contract for TwiML Applications, on both engines: a round trip of every field
 * (booleans and nulls included), found by SID whichever account owns it, updated in place,
 * listed oldest first per account with the exact FriendlyName filter and keyset pages, deleted
 * (a second delete finds nothing, inside a transaction too), a number's VoiceApplicationSid
 * cleared with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Application } from '../../src/domain/application.js';
import type { PhoneNumber } from '../../src/domain/phone-number.js';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import { ConflictError } from '../../src/errors.js';
import { STORE_KINDS, insertOwnerAccount, openTestStore, type TestStore } from '../helpers/stores.js';

const T0 = 1_750_000_000_000;
const ALL = { pageSize: 50, page: 0 };

function application(accountSid: string, over: Partial<Application> = {}): Application {
  return {
    sid: newSid('AP'),
    accountSid,
    friendlyName: 'app',
    apiVersion: '2010-04-01',
    voiceUrl: 'https://example.com/voice',
    voiceMethod: 'GET',
    voiceFallbackUrl: null,
    voiceFallbackMethod: 'POST',
    statusCallback: 'https://example.com/status',
    statusCallbackMethod: 'POST',
    voiceCallerIdLookup: true,
    smsUrl: null,
    smsMethod: 'POST',
    smsFallbackUrl: 'https://example.com/sms-fallback',
    smsFallbackMethod: 'GET',
    smsStatusCallback: null,
    messageStatusCallback: 'https://example.com/message',
    publicApplicationConnectEnabled: false,
    dateCreated: T0,
    dateUpdated: T0,
    ...over,
  };
}

describe.each(STORE_KINDS)('applications contract on %s', (kind) => {
  let t: TestStore;
  let store: Store;

  beforeAll(async () => {
    t = await openTestStore(kind);
    store = t.store;
  });
  afterAll(async () => t?.cleanup());

  const newAccount = (): Promise<string> => insertOwnerAccount(store, T0);

  it('round trip of every field; found by SID alone; a duplicate SID is a ConflictError', async () => {
    const ac = await newAccount();
    const a = application(ac);
    await store.insertApplication(a);
    expect(await store.findApplication(a.sid)).toEqual(a);
    expect(await store.findApplication(newSid('AP'))).toBeUndefined();
    await expect(store.insertApplication(a)).rejects.toBeInstanceOf(ConflictError);
  });

  it('update changes the row in place', async () => {
    const ac = await newAccount();
    const a = application(ac);
    await store.insertApplication(a);
    const next: Application = { ...a, friendlyName: 'renamed', voiceUrl: null, voiceCallerIdLookup: false, publicApplicationConnectEnabled: true, dateUpdated: T0 + 1000 };
    await store.updateApplication(next);
    expect(await store.findApplication(a.sid)).toEqual(next);
  });

  it('list: per account, oldest first, exact FriendlyName filter, keyset pages', async () => {
    const ac = await newAccount();
    const other = await newAccount();
    const made: Application[] = [];
    for (let i = 0; i < 5; i++) {
      const a = application(ac, { friendlyName: i % 2 === 0 ? 'even' : 'odd' });
      await store.insertApplication(a);
      made.push(a);
    }
    await store.insertApplication(application(other, { friendlyName: 'even' }));
    const all = await store.listApplications(ac, ALL);
    expect(all.items.map((a) => a.sid)).toEqual(made.map((a) => a.sid));
    expect(all.total).toBe(5);
    const evens = await store.listApplications(ac, ALL, { friendlyName: 'even' });
    expect(evens.items.map((a) => a.sid)).toEqual([made[0]!.sid, made[2]!.sid, made[4]!.sid]);
    expect((await store.listApplications(ac, ALL, { friendlyName: 'Even' })).items).toEqual([]);
    const first = await store.listApplications(ac, { pageSize: 2, page: 0 });
    expect(first).toMatchObject({ hasNext: true, hasPrevious: false, total: 5 });
    const second = await store.listApplications(ac, { pageSize: 2, page: 1, cursor: { direction: 'after', seq: first.seqs[1]! } });
    expect(second.items.map((a) => a.sid)).toEqual([made[2]!.sid, made[3]!.sid]);
    expect(second).toMatchObject({ hasNext: true, hasPrevious: true });
  });

  it('delete: true once, then false; the numbers naming it let go', async () => {
    const ac = await newAccount();
    const a = application(ac);
    await store.insertApplication(a);
    const number: PhoneNumber = {
      sid: newSid('PN'), accountSid: ac, phoneNumber: `+1500${String(Date.now() % 10_000_000).padStart(7, '0')}`, friendlyName: 'n',
      voiceUrl: null, voiceMethod: 'POST', voiceFallbackUrl: null, voiceFallbackMethod: 'POST', statusCallback: null, statusCallbackMethod: 'POST',
      voiceApplicationSid: a.sid, dateCreated: T0, dateUpdated: T0,
    };
    await store.insertPhoneNumber(number);
    expect((await store.findPhoneNumber(ac, number.sid))?.voiceApplicationSid).toBe(a.sid);
    expect(await store.deleteApplication(a.sid)).toBe(true);
    expect(await store.deleteApplication(a.sid)).toBe(false);
    expect(await store.findApplication(a.sid)).toBeUndefined();
    expect((await store.findPhoneNumber(ac, number.sid))?.voiceApplicationSid).toBeNull();
    // Inside a transaction too.
    const b = application(ac);
    await store.insertApplication(b);
    expect(await store.transaction((tx) => tx.deleteApplication(b.sid))).toBe(true);
    expect(await store.findApplication(b.sid)).toBeUndefined();
  });
});
