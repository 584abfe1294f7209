/**
 * The `Store` contract for recordings, on both engines: round trips (the status callback, the
 * nullable columns, epoch milliseconds beyond int4), scoping to an account, the list's filters
 * and newest-first paging, updates and deletes of rows that are gone, and the two sweeps
 * (live recordings at start-up, old ones for retention).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/domain/ports.js';
import type { Recording } from '../../src/domain/recording.js';
import { newSid } from '../../src/domain/sids.js';
import { ConflictError } from '../../src/errors.js';
import { aRecording } from '../helpers/fixtures.js';
import { STORE_KINDS, insertOwnerAccount, openTestStore, type TestStore } from '../helpers/stores.js';

const T0 = 1_750_000_000_000;
const DAY = 86_400_000;
const ALL = { pageSize: 50, page: 0 };

const recording = (accountSid: string, over: Partial<Recording> = {}): Recording => aRecording(accountSid, over, T0);

describe.each(STORE_KINDS)('recordings contract on %s', (kind) => {
  let t: TestStore;
  let store: Store;

  beforeAll(async () => {
    t = await openTestStore(kind);
    store = t.store;
  });
  afterAll(async () => t?.cleanup());

  const newAccount = (): Promise<string> => insertOwnerAccount(store, T0);

  it('stores a recording and reads it back whole, scoped to its account', async () => {
    const ac = await newAccount();
    const other = await newAccount();
    const live = recording(ac, {
      status: 'in-progress',
      conferenceSid: newSid('CF'),
      channels: 2,
      track: 'inbound',
      trim: true,
      pauseBehavior: 'skip',
      duration: null,
      statusCallback: { url: 'http://127.0.0.1:9/rec', method: 'GET', events: ['in-progress', 'completed', 'absent'] },
      nodeId: 'node-a',
    });
    await store.insertRecording(live);
    expect(await store.findRecording(live.sid)).toEqual(live);
    expect(await store.findRecording(live.sid, ac)).toEqual(live);
    expect(await store.findRecording(live.sid, other)).toBeUndefined();
    await expect(store.insertRecording(live)).rejects.toBeInstanceOf(ConflictError);

    const absent = { ...live, status: 'absent' as const, errorCode: 16101, duration: 0, statusCallback: null, dateUpdated: T0 + 5000 };
    expect(await store.updateRecording(absent)).toBe(true);
    expect(await store.findRecording(live.sid)).toEqual(absent);
  });

  it('keeps a status callback with no events as an empty list', async () => {
    const ac = await newAccount();
    const r = recording(ac, { statusCallback: { url: 'http://127.0.0.1:9/rec', method: 'POST', events: [] } });
    await store.insertRecording(r);
    expect(await store.findRecording(r.sid)).toEqual(r);
  });

  it('deletes a recording once; updating it afterwards reports it gone', async () => {
    const ac = await newAccount();
    const kept = recording(ac);
    const gone = recording(ac);
    await store.insertRecording(kept);
    await store.insertRecording(gone);
    expect(await store.deleteRecording(gone.sid)).toBe(true);
    expect(await store.deleteRecording(gone.sid)).toBe(false);
    expect(await store.findRecording(gone.sid)).toBeUndefined();
    expect(await store.updateRecording({ ...gone, status: 'completed' })).toBe(false);
    expect((await store.listRecordings({ accountSid: ac }, ALL)).items.map((r) => r.sid)).toEqual([kept.sid]);
  });

  it('lists newest first, by call, by conference, conference mixes only, by creation day, with keyset paging', async () => {
    const ac = await newAccount();
    const call = newSid('CA');
    const conference = newSid('CF');
    const mix = recording(ac, { callSid: null, conferenceSid: conference, source: 'Conference', dateCreated: T0 });
    const leg = recording(ac, { callSid: call, conferenceSid: conference, source: 'OutboundAPI', dateCreated: T0 + DAY });
    const second = recording(ac, { callSid: call, dateCreated: T0 + 2 * DAY });
    const elsewhere = recording(ac, { dateCreated: T0 + 3 * DAY });
    for (const r of [mix, leg, second, elsewhere]) await store.insertRecording(r);
    await store.insertRecording(recording(await newAccount(), { callSid: call }));

    const sids = async (filter: Parameters<Store['listRecordings']>[0]) => (await store.listRecordings(filter, ALL)).items.map((r) => r.sid);
    expect(await sids({ accountSid: ac })).toEqual([elsewhere.sid, second.sid, leg.sid, mix.sid]);
    expect(await sids({ accountSid: ac, callSid: call })).toEqual([second.sid, leg.sid]);
    expect(await sids({ accountSid: ac, conferenceSid: conference })).toEqual([leg.sid, mix.sid]);
    expect(await sids({ accountSid: ac, conferenceSid: conference, callSid: null })).toEqual([mix.sid]);
    expect(await sids({ accountSid: ac, dateCreated: { from: T0 + DAY, to: T0 + 3 * DAY } })).toEqual([second.sid, leg.sid]);
    expect(await sids({ accountSid: ac, dateCreated: { to: T0 + DAY } })).toEqual([mix.sid]);

    const first = await store.listRecordings({ accountSid: ac }, { pageSize: 3, page: 0 });
    expect(first).toMatchObject({ total: 4, hasNext: true, hasPrevious: false });
    const next = await store.listRecordings({ accountSid: ac }, { pageSize: 3, page: 1, cursor: { direction: 'after', seq: first.seqs.at(-1)! } });
    expect(next.items.map((r) => r.sid)).toEqual([mix.sid]);
    expect(next).toMatchObject({ hasNext: false, hasPrevious: true });
  });

  it('finds live recordings of any account, and old ones oldest first', async () => {
    const ac = await newAccount();
    const other = await newAccount();
    const statuses = ['in-progress', 'paused', 'stopped', 'processing', 'completed', 'absent'] as const;
    const made = statuses.map((status, i) => recording(i % 2 ? ac : other, { status, dateCreated: T0 - (10 - i) * DAY }));
    for (const r of made) await store.insertRecording(r);
    const live = (await store.listLiveRecordings(1000)).map((r) => r.sid);
    expect(live).toEqual(expect.arrayContaining(made.slice(0, 4).map((r) => r.sid)));
    expect(live).not.toContain(made[4]!.sid);
    expect(live).not.toContain(made[5]!.sid);
    expect(await store.listLiveRecordings(1)).toHaveLength(1);

    // Only these tests' rows are older than T0 - 5 days on this store.
    const old = await store.listRecordingsCreatedBefore(T0 - 6 * DAY, 10);
    expect(old.map((r) => r.sid)).toEqual(made.slice(0, 4).map((r) => r.sid));
    expect((await store.listRecordingsCreatedBefore(T0 - 6 * DAY, 2)).map((r) => r.sid)).toEqual(made.slice(0, 2).map((r) => r.sid));
  });
});
