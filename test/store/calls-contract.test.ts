/**
 * The `Store` contract for calls and phone numbers, on both engines: round trips, scoping to an
 * account, filters, newest-first paging of calls, and one owner per number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/domain/call.js';
import type { PhoneNumber } from '../../src/domain/phone-number.js';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import { ConflictError } from '../../src/errors.js';
import { aCall } from '../helpers/fixtures.js';
import { STORE_KINDS, insertOwnerAccount, openTestStore, type TestStore } from '../helpers/stores.js';

const T0 = 1_750_000_000_000;

const call = (accountSid: string, over: Partial<Call> = {}): Call => aCall(accountSid, over, T0);

function phoneNumber(accountSid: string, number: string, over: Partial<PhoneNumber> = {}): PhoneNumber {
  return {
    sid: newSid('PN'),
    accountSid,
    phoneNumber: number,
    friendlyName: number,
    voiceUrl: 'http://127.0.0.1:9/voice',
    voiceMethod: 'POST',
    voiceFallbackUrl: null,
    voiceFallbackMethod: 'POST',
    statusCallback: null,
    statusCallbackMethod: 'POST',
    voiceApplicationSid: null,
    dateCreated: T0,
    dateUpdated: T0,
    ...over,
  };
}

describe.each(STORE_KINDS)('calls and numbers contract on %s', (kind) => {
  let t: TestStore;
  let store: Store;

  beforeAll(async () => {
    t = await openTestStore(kind);
    store = t.store;
  });
  afterAll(async () => t?.cleanup());

  const newAccount = (): Promise<string> => insertOwnerAccount(store, T0);

  it('stores a call and reads it back whole, scoped to its account', async () => {
    const ac = await newAccount();
    const other = await newAccount();
    const c = call(ac, { twiml: '<Response/>', statusCallbackEvents: [] });
    await store.insertCall(c);
    expect(await store.findCall(c.sid, ac)).toEqual(c);
    expect(await store.findCall(c.sid)).toEqual(c);
    expect(await store.findCall(c.sid, other)).toBeUndefined();
    const answered = { ...c, status: 'in-progress' as const, startTime: T0 + 1000, dateUpdated: T0 + 1000 };
    await store.updateCall(answered);
    expect(await store.findCall(c.sid)).toEqual(answered);
    await expect(store.insertCall(c)).rejects.toBeInstanceOf(ConflictError);
  });

  it('deletes a call: gone from reads and lists, once', async () => {
    const ac = await newAccount();
    const kept = call(ac);
    const gone = call(ac, { status: 'completed' });
    await store.insertCall(kept);
    await store.insertCall(gone);
    expect(await store.deleteCall(gone.sid)).toBe(true);
    expect(await store.deleteCall(gone.sid)).toBe(false);
    expect(await store.findCall(gone.sid)).toBeUndefined();
    expect((await store.listCalls({ accountSid: ac }, { pageSize: 50, page: 0 })).items.map((c) => c.sid)).toEqual([kept.sid]);
  });

  it('lists calls newest first with filters and keyset paging', async () => {
    const ac = await newAccount();
    const parent = call(ac, { to: 'sim:parent' });
    await store.insertCall(parent);
    const made: Call[] = [];
    for (let i = 0; i < 5; i++) {
      const c = call(ac, { to: `sim:p${i % 2}`, status: i % 2 ? 'completed' : 'in-progress', parentCallSid: parent.sid, startTime: T0 + i * 1000 });
      made.push(c);
      await store.insertCall(c);
    }
    const all = await store.listCalls({ accountSid: ac }, { pageSize: 50, page: 0 });
    expect(all.items.map((c) => c.sid)).toEqual([...made].reverse().map((c) => c.sid).concat(parent.sid));
    const toP1 = await store.listCalls({ accountSid: ac, to: 'sim:p1', status: 'completed' }, { pageSize: 50, page: 0 });
    expect(toP1.items).toHaveLength(2);
    const children = await store.listCalls({ accountSid: ac, parentCallSid: parent.sid }, { pageSize: 2, page: 0 });
    expect(children).toMatchObject({ total: 5, hasNext: true });
    const next = await store.listCalls({ accountSid: ac, parentCallSid: parent.sid }, { pageSize: 2, page: 1, cursor: { direction: 'after', seq: children.seqs.at(-1)! } });
    expect(next.items.map((c) => c.sid)).toEqual([made[2]!.sid, made[1]!.sid]);
    const started = await store.listCalls({ accountSid: ac, startTime: { from: T0 + 2000, to: T0 + 4000 } }, { pageSize: 50, page: 0 });
    expect(started.items.map((c) => c.sid)).toEqual([made[3]!.sid, made[2]!.sid]);
  });

  it('keeps each phone number with one account, found by SID or by number', async () => {
    const ac = await newAccount();
    const other = await newAccount();
    const n = phoneNumber(ac, `+1555${String(Date.now()).slice(-7)}`);
    await store.insertPhoneNumber(n);
    expect(await store.findPhoneNumber(ac, n.sid)).toEqual(n);
    expect(await store.findPhoneNumber(other, n.sid)).toBeUndefined();
    expect(await store.findPhoneNumberByNumber(n.phoneNumber)).toEqual(n);
    await expect(store.insertPhoneNumber(phoneNumber(other, n.phoneNumber))).rejects.toBeInstanceOf(ConflictError);
    const renamed = { ...n, friendlyName: 'front desk', voiceUrl: null };
    await store.updatePhoneNumber(renamed);
    expect((await store.listPhoneNumbers({ accountSid: ac, friendlyName: 'front desk' }, { pageSize: 50, page: 0 })).items).toEqual([renamed]);
    expect(await store.deletePhoneNumber(n.sid)).toBe(true);
    expect(await store.deletePhoneNumber(n.sid)).toBe(false);
    expect(await store.findPhoneNumberByNumber(n.phoneNumber)).toBeUndefined();
  });
});
