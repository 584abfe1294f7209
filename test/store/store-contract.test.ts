/**
 * The `Store` contract (src/domain/ports.ts), one suite run against both engines. Whatever
 * the services may rely on is pinned here: mapping round trips, conflict rules, filters,
 * both ways of paging, transactions, and the row lock under concurrency.
 *
 * One store per engine for the whole file; each test makes its own account and
 * conferences (fresh SIDs), and every list is filtered by one of them, so tests never see
 * each other's rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account, ApiKey, Conference, Participant } from '../../src/domain/model.js';
import type { PageRequest, PageResult } from '../../src/domain/paging.js';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import { ConflictError } from '../../src/errors.js';
import pg from 'pg';
import { aConference, aParticipant } from '../helpers/fixtures.js';
import { STORE_KINDS, TEST_POSTGRES_URL, openTestStore, type TestStore } from '../helpers/stores.js';

/** Later than 2^32 ms and than 2^31 s: catches int4 columns and string-typed int8. */
const T0 = 1_750_000_000_000;

function account(overrides: Partial<Account> = {}): Account {
  const sid = overrides.sid ?? newSid('AC');
  return {
    sid,
    ownerAccountSid: sid,
    friendlyName: 'main account',
    authToken: 'a'.repeat(32),
    status: 'active',
    dateCreated: T0,
    dateUpdated: T0,
    ...overrides,
  };
}

function apiKey(accountSid: string, overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    sid: newSid('SK'),
    accountSid,
    friendlyName: 'key',
    secretHash: 'f'.repeat(64),
    dateCreated: T0,
    dateUpdated: T0,
    ...overrides,
  };
}

function conference(accountSid: string, overrides: Partial<Conference> = {}): Conference {
  return aConference({ accountSid, ...overrides }, T0);
}

function participant(conf: Conference, overrides: Partial<Participant> = {}): Participant {
  return aParticipant(conf, overrides, T0);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Resolves once another transaction is waiting for a row lock. On PostgreSQL that is visible in
 * pg_stat_activity; SQLite runs one transaction at a time, so a second one is already queued
 * behind the first as soon as it has been issued.
 */
async function someoneWaitsForALock(kind: string): Promise<void> {
  if (kind !== 'postgres') return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    for (let i = 0; i < 2000; i++) {
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
      );
      if ((rows[0]?.n ?? 0) > 0) return;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error('no transaction ever waited for the lock');
  } finally {
    await client.end();
  }
}

/** Follows `after` cursors from the first page to the end, collecting every page. */
async function walkForward<T>(list: (page: PageRequest) => Promise<PageResult<T>>, pageSize: number): Promise<PageResult<T>[]> {
  const pages = [await list({ pageSize, page: 0 })];
  while (pages.at(-1)!.hasNext) {
    const last = pages.at(-1)!;
    pages.push(await list({ pageSize, page: 0, cursor: { direction: 'after', seq: last.seqs.at(-1)! } }));
    if (pages.length > 100) throw new Error('runaway paging');
  }
  return pages;
}

describe.each(STORE_KINDS)('Store contract on %s', (kind) => {
  let testStore: TestStore;
  let store: Store;

  beforeAll(async () => {
    testStore = await openTestStore(kind);
    store = testStore.store;
  });
  afterAll(async () => {
    await testStore?.cleanup();
  });

  async function newAccount(overrides: Partial<Account> = {}): Promise<Account> {
    const a = account(overrides);
    await store.insertAccount(a);
    return a;
  }

  async function newConference(accountSid: string, overrides: Partial<Conference> = {}): Promise<Conference> {
    const c = conference(accountSid, overrides);
    await store.insertConference(c);
    return c;
  }

  it('reports its kind', () => {
    expect(store.kind).toBe(kind);
  });

  describe('accounts', () => {
    it('inserts, finds and updates an account', async () => {
      const a = await newAccount();
      expect(await store.findAccount(a.sid)).toEqual(a);
      const changed: Account = { ...a, friendlyName: 'renamed', authToken: 'b'.repeat(32), status: 'suspended', dateUpdated: T0 + 5 };
      await store.updateAccount(changed);
      expect(await store.findAccount(a.sid)).toEqual(changed);
      expect(await store.findAccount(newSid('AC'))).toBeUndefined();
    });

    it('refuses a duplicate SID', async () => {
      const a = await newAccount();
      const error = await store.insertAccount(a).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).subject).toBe('sid');
    });

    it('lists the owner first, then its subaccounts oldest first, with filters', async () => {
      const owner = await newAccount();
      const subs: Account[] = [];
      for (let i = 0; i < 3; i++) {
        subs.push(await newAccount({ ownerAccountSid: owner.sid, friendlyName: i === 1 ? 'special' : 'sub', status: i === 2 ? 'closed' : 'active' }));
      }
      await newAccount(); // another owner, never listed
      const all = await store.listAccounts({ ownerAccountSid: owner.sid }, { pageSize: 10, page: 0 });
      expect(all.items.map((a) => a.sid)).toEqual([owner.sid, ...subs.map((s) => s.sid)]);
      expect(all.total).toBe(4);
      expect(all.items[1]).toEqual(subs[0]);

      const byName = await store.listAccounts({ ownerAccountSid: owner.sid, friendlyName: 'special' }, { pageSize: 10, page: 0 });
      expect(byName.items.map((a) => a.sid)).toEqual([subs[1]!.sid]);
      const byStatus = await store.listAccounts({ ownerAccountSid: owner.sid, status: 'active' }, { pageSize: 10, page: 0 });
      expect(byStatus.items.map((a) => a.sid)).toEqual([owner.sid, subs[0]!.sid, subs[1]!.sid]);

      // A subaccount sees only itself.
      const fromSub = await store.listAccounts({ ownerAccountSid: subs[0]!.sid }, { pageSize: 10, page: 0 });
      expect(fromSub.items.map((a) => a.sid)).toEqual([subs[0]!.sid]);
    });
  });

  describe('API keys', () => {
    it('inserts, finds, updates and deletes a key', async () => {
      const a = await newAccount();
      const key = apiKey(a.sid);
      await store.insertKey(key);
      expect(await store.findKey(key.sid)).toEqual(key);
      const changed = { ...key, friendlyName: 'renamed', dateUpdated: T0 + 1 };
      await store.updateKey(changed);
      expect(await store.findKey(key.sid)).toEqual(changed);
      expect(await store.deleteKey(key.sid)).toBe(true);
      expect(await store.findKey(key.sid)).toBeUndefined();
      expect(await store.deleteKey(key.sid)).toBe(false);
    });

    it('refuses a duplicate SID', async () => {
      const a = await newAccount();
      const key = apiKey(a.sid);
      await store.insertKey(key);
      await expect(store.insertKey(key)).rejects.toBeInstanceOf(ConflictError);
    });

    it("lists an account's keys oldest first", async () => {
      const a = await newAccount();
      const other = await newAccount();
      const keys = [apiKey(a.sid), apiKey(a.sid), apiKey(a.sid)];
      await store.insertKey(keys[0]!);
      await store.insertKey(apiKey(other.sid));
      await store.insertKey(keys[1]!);
      await store.insertKey(keys[2]!);
      const page = await store.listKeys(a.sid, { pageSize: 2, page: 0 });
      expect(page.items).toEqual(keys.slice(0, 2));
      expect(page).toMatchObject({ total: 3, hasNext: true, hasPrevious: false });
      const rest = await store.listKeys(a.sid, { pageSize: 2, page: 1 });
      expect(rest.items).toEqual(keys.slice(2));
      expect(rest).toMatchObject({ total: 3, hasNext: false, hasPrevious: true });
    });
  });

  describe('conferences', () => {
    it('inserts, finds (only in its account) and updates a conference', async () => {
      const a = await newAccount();
      const other = await newAccount();
      const c = await newConference(a.sid);
      expect(await store.findConference(a.sid, c.sid)).toEqual(c);
      expect(await store.findConference(other.sid, c.sid)).toBeUndefined();
      expect(await store.findConference(a.sid, newSid('CF'))).toBeUndefined();

      const ended: Conference = {
        ...c,
        status: 'completed',
        maxParticipants: 10,
        reasonConferenceEnded: 'participant-with-end-conference-on-exit-left',
        callSidEndingConference: newSid('CA'),
        dateUpdated: T0 + 60_000,
      };
      await store.updateConference(ended);
      expect(await store.findConference(a.sid, c.sid)).toEqual(ended);
    });

    it('keeps at most one live conference per name and account', async () => {
      const a = await newAccount();
      const other = await newAccount();
      const first = await newConference(a.sid, { friendlyName: 'standup' });
      expect(await store.findLiveConferenceByName(a.sid, 'standup')).toEqual(first);
      expect(await store.findLiveConferenceByName(other.sid, 'standup')).toBeUndefined();

      const error = await store.insertConference(conference(a.sid, { friendlyName: 'standup' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).subject).toBe('conference');
      // Another account may use the name.
      await newConference(other.sid, { friendlyName: 'standup' });

      // Once the first has completed, the name is free again.
      await store.updateConference({ ...first, status: 'in-progress' });
      await expect(store.insertConference(conference(a.sid, { friendlyName: 'standup' }))).rejects.toBeInstanceOf(ConflictError);
      await store.updateConference({ ...first, status: 'completed' });
      expect(await store.findLiveConferenceByName(a.sid, 'standup')).toBeUndefined();
      const second = await newConference(a.sid, { friendlyName: 'standup' });
      expect(await store.findLiveConferenceByName(a.sid, 'standup')).toEqual(second);

      // Reviving the completed one while another is live breaks the same rule.
      await expect(store.updateConference({ ...first, status: 'in-progress' })).rejects.toBeInstanceOf(ConflictError);
    });

    it('refuses a duplicate SID', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const error = await store.insertConference({ ...c, friendlyName: 'another name' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).subject).toBe('sid');
    });

    it('lists newest first, with status, name and date filters (from inclusive, to exclusive)', async () => {
      const a = await newAccount();
      await newConference((await newAccount()).sid); // another account's, never listed
      const c1 = await newConference(a.sid, { friendlyName: 'alpha', status: 'completed', dateCreated: T0, dateUpdated: T0 + 100 });
      const c2 = await newConference(a.sid, { friendlyName: 'beta', status: 'in-progress', dateCreated: T0 + 10, dateUpdated: T0 + 200 });
      const c3 = await newConference(a.sid, { friendlyName: 'alpha', status: 'init', dateCreated: T0 + 20, dateUpdated: T0 + 300 });
      const sids = async (filter: Omit<Parameters<Store['listConferences']>[0], 'accountSid'>) =>
        (await store.listConferences({ accountSid: a.sid, ...filter }, { pageSize: 50, page: 0 })).items.map((c) => c.sid);

      const all = await store.listConferences({ accountSid: a.sid }, { pageSize: 50, page: 0 });
      expect(all.items).toEqual([c3, c2, c1]);
      expect(all.total).toBe(3);
      expect(await sids({ status: 'completed' })).toEqual([c1.sid]);
      expect(await sids({ friendlyName: 'alpha' })).toEqual([c3.sid, c1.sid]);
      expect(await sids({ dateCreated: { from: T0 + 10 } })).toEqual([c3.sid, c2.sid]);
      expect(await sids({ dateCreated: { to: T0 + 10 } })).toEqual([c1.sid]);
      expect(await sids({ dateCreated: { from: T0 + 10, to: T0 + 20 } })).toEqual([c2.sid]);
      expect(await sids({ dateUpdated: { from: T0 + 200, to: T0 + 301 } })).toEqual([c3.sid, c2.sid]);
      expect(await sids({ status: 'init', friendlyName: 'beta' })).toEqual([]);
    });

    it('lockConference reads the conference inside a transaction', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const seen = await store.transaction(async (tx) => [await tx.lockConference(c.sid), await tx.lockConference(newSid('CF'))]);
      expect(seen).toEqual([c, undefined]);
    });
  });

  describe('participants', () => {
    it('never serves a stale participant: after a write, a rollback, or a delete', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const p = participant(c);
      await store.insertParticipant(p);
      expect(await store.findParticipant(c.sid, p.callSid)).toEqual(p);
      const muted = { ...p, muted: true, dateUpdated: p.dateUpdated + 1 };
      await store.updateParticipant(muted);
      expect(await store.findParticipant(c.sid, p.callSid)).toEqual(muted);
      await expect(
        store.transaction(async (tx) => {
          await tx.updateParticipant({ ...muted, hold: true });
          expect(await tx.findParticipant(c.sid, p.callSid)).toMatchObject({ hold: true });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await store.findParticipant(c.sid, p.callSid)).toEqual(muted);
      await store.transaction(async (tx) => tx.deleteParticipant(c.sid, p.callSid));
      expect(await store.findParticipant(c.sid, p.callSid)).toBeUndefined();
      expect(await store.findParticipant('CF00000000000000000000000000000000', p.callSid)).toBeUndefined();
    });

    it('inserts, finds, updates and deletes, mapping every field', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const p = participant(c, {
        label: 'customer',
        status: 'ringing',
        muted: true,
        hold: false,
        coaching: true,
        callSidToCoach: newSid('CA'),
        startConferenceOnEnter: false,
        endConferenceOnExit: true,
        beep: 'onExit',
        queueTime: 1234,
      });
      await store.insertParticipant(p);
      expect(await store.findParticipant(c.sid, p.callSid)).toEqual(p);
      expect(await store.findParticipant(c.sid, 'customer')).toEqual(p);

      const changed: Participant = { ...p, label: 'agent', muted: false, hold: true, coaching: false, callSidToCoach: null, beep: 'false', queueTime: null, status: 'connected', dateUpdated: T0 + 9 };
      await store.updateParticipant(changed);
      expect(await store.findParticipant(c.sid, p.callSid)).toEqual(changed);
      expect(await store.findParticipant(c.sid, 'customer')).toBeUndefined();

      await store.deleteParticipant(newSid('CF'), p.callSid); // another conference: no effect
      expect(await store.findParticipant(c.sid, p.callSid)).toEqual(changed);
      await store.deleteParticipant(c.sid, p.callSid);
      expect(await store.findParticipant(c.sid, p.callSid)).toBeUndefined();
    });

    it('finds only within the conference, by call SID before label', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const elsewhere = await newConference(a.sid);
      const target = participant(c);
      // A participant whose label is another participant's call SID: the call SID wins.
      const labelled = participant(c, { label: target.callSid });
      await store.insertParticipant(labelled);
      await store.insertParticipant(target);
      expect((await store.findParticipant(c.sid, target.callSid))?.callSid).toBe(target.callSid);
      expect(await store.findParticipant(elsewhere.sid, target.callSid)).toBeUndefined();
      expect(await store.findParticipant(elsewhere.sid, labelled.callSid)).toBeUndefined();
      expect(await store.findParticipant(c.sid, 'nobody')).toBeUndefined();
    });

    it('refuses a call already in a conference, and a label already used in the same conference', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const d = await newConference(a.sid);
      const p = participant(c, { label: 'host' });
      await store.insertParticipant(p);

      const sameCall = await store.insertParticipant(participant(d, { callSid: p.callSid })).catch((e: unknown) => e);
      expect(sameCall).toBeInstanceOf(ConflictError);
      expect((sameCall as ConflictError).subject).toBe('call');

      const sameLabel = await store.insertParticipant(participant(c, { label: 'host' })).catch((e: unknown) => e);
      expect(sameLabel).toBeInstanceOf(ConflictError);
      expect((sameLabel as ConflictError).subject).toBe('label');

      // The same label elsewhere, and any number of unlabelled participants, are fine.
      await store.insertParticipant(participant(d, { label: 'host' }));
      await store.insertParticipant(participant(c));
      await store.insertParticipant(participant(c));
      expect(await store.listAllParticipants(c.sid)).toHaveLength(3);

      // A relabel onto a taken label is the same conflict.
      const other = participant(c, { label: 'guest' });
      await store.insertParticipant(other);
      await expect(store.updateParticipant({ ...other, label: 'host' })).rejects.toBeInstanceOf(ConflictError);
    });

    it('lets other driver errors through unchanged', async () => {
      // No such conference: a foreign key violation, which is no ConflictError.
      const a = await newAccount();
      const orphan = participant(conference(a.sid));
      const error = await store.insertParticipant(orphan).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ConflictError);
    });

    it('lists in join order, all or filtered', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const other = await newConference(a.sid);
      await store.insertParticipant(participant(other));
      const ps = [
        participant(c, { muted: true }),
        participant(c, { hold: true }),
        participant(c, { coaching: true, muted: true }),
        participant(c),
      ];
      for (const p of ps) await store.insertParticipant(p);

      expect(await store.listAllParticipants(c.sid)).toEqual(ps);
      const first = { pageSize: 50, page: 0 };
      const list = async (filter: Omit<Parameters<Store['listParticipants']>[0], 'conferenceSid'>) =>
        (await store.listParticipants({ conferenceSid: c.sid, ...filter }, first)).items;
      expect(await list({})).toEqual(ps);
      expect(await list({ muted: true })).toEqual([ps[0], ps[2]]);
      expect(await list({ muted: false })).toEqual([ps[1], ps[3]]);
      expect(await list({ hold: true })).toEqual([ps[1]]);
      expect(await list({ coaching: true, muted: true })).toEqual([ps[2]]);
      expect(await list({ coaching: false, hold: false, muted: false })).toEqual([ps[3]]);
      expect((await store.listParticipants({ conferenceSid: c.sid, muted: true }, first)).total).toBe(2);
    });
  });

  describe('paging', () => {
    /** Seven participants, list order = join order (seq ascending). */
    async function sevenParticipants() {
      const a = await newAccount();
      const c = await newConference(a.sid);
      const ps: Participant[] = [];
      for (let i = 0; i < 7; i++) {
        const p = participant(c, { muted: i % 2 === 0 });
        await store.insertParticipant(p);
        ps.push(p);
      }
      const list = (page: PageRequest) => store.listParticipants({ conferenceSid: c.sid }, page);
      return { c, ps, list, calls: (r: PageResult<Participant>) => r.items.map((p) => p.callSid), sids: ps.map((p) => p.callSid) };
    }

    /** Seven conferences, list order = newest first (seq descending). */
    async function sevenConferences() {
      const a = await newAccount();
      const cs: Conference[] = [];
      for (let i = 0; i < 7; i++) cs.push(await newConference(a.sid));
      const list = (page: PageRequest) => store.listConferences({ accountSid: a.sid }, page);
      return { list, sids: cs.map((c) => c.sid).reverse(), names: (r: PageResult<Conference>) => r.items.map((c) => c.sid) };
    }

    it('pages by offset, with totals and both flags', async () => {
      const { list, calls, sids } = await sevenParticipants();
      const p0 = await list({ pageSize: 3, page: 0 });
      expect(calls(p0)).toEqual(sids.slice(0, 3));
      expect(p0).toMatchObject({ total: 7, hasNext: true, hasPrevious: false });
      expect(p0.seqs).toHaveLength(3);
      expect(p0.seqs.every((s) => typeof s === 'number')).toBe(true);
      expect([...p0.seqs].sort((x, y) => x - y)).toEqual(p0.seqs);

      const p1 = await list({ pageSize: 3, page: 1 });
      expect(calls(p1)).toEqual(sids.slice(3, 6));
      expect(p1).toMatchObject({ total: 7, hasNext: true, hasPrevious: true });
      const p2 = await list({ pageSize: 3, page: 2 });
      expect(calls(p2)).toEqual(sids.slice(6));
      expect(p2).toMatchObject({ total: 7, hasNext: false, hasPrevious: true });
      const beyond = await list({ pageSize: 3, page: 5 });
      expect(beyond).toMatchObject({ items: [], seqs: [], total: 7, hasNext: false, hasPrevious: true });
      const exact = await list({ pageSize: 7, page: 0 });
      expect(exact).toMatchObject({ total: 7, hasNext: false, hasPrevious: false });
    });

    it('pages by keyset, forwards and backwards, in list order (ascending list)', async () => {
      const { list, calls, sids } = await sevenParticipants();
      const pages = await walkForward(list, 3);
      expect(pages.map(calls)).toEqual([sids.slice(0, 3), sids.slice(3, 6), sids.slice(6)]);
      expect(pages.map((p) => [p.hasPrevious, p.hasNext])).toEqual([[false, true], [true, true], [true, false]]);
      expect(pages.every((p) => p.total === 7)).toBe(true);

      const lastSeq = pages[2]!.seqs[0]!;
      const back = await list({ pageSize: 3, page: 0, cursor: { direction: 'before', seq: lastSeq } });
      expect(calls(back)).toEqual(sids.slice(3, 6));
      expect(back).toMatchObject({ hasNext: true, hasPrevious: true, total: 7 });
      const front = await list({ pageSize: 3, page: 0, cursor: { direction: 'before', seq: back.seqs[0]! } });
      expect(calls(front)).toEqual(sids.slice(0, 3));
      expect(front).toMatchObject({ hasNext: true, hasPrevious: false });
      const partial = await list({ pageSize: 3, page: 0, cursor: { direction: 'before', seq: front.seqs[2]! } });
      expect(calls(partial)).toEqual(sids.slice(0, 2));
      expect(partial).toMatchObject({ hasNext: true, hasPrevious: false });

      const none = await list({ pageSize: 3, page: 0, cursor: { direction: 'before', seq: front.seqs[0]! } });
      expect(none).toMatchObject({ items: [], hasNext: true, hasPrevious: false, total: 7 });
      const end = await list({ pageSize: 3, page: 0, cursor: { direction: 'after', seq: pages[2]!.seqs[0]! } });
      expect(end).toMatchObject({ items: [], hasNext: false, hasPrevious: true, total: 7 });
    });

    it('pages by keyset in list order for a newest-first list, where after means older', async () => {
      const { list, names, sids } = await sevenConferences();
      const pages = await walkForward(list, 3);
      expect(pages.map(names)).toEqual([sids.slice(0, 3), sids.slice(3, 6), sids.slice(6)]);
      expect(pages.map((p) => [p.hasPrevious, p.hasNext])).toEqual([[false, true], [true, true], [true, false]]);
      expect(pages[0]!.seqs[0]!).toBeGreaterThan(pages[0]!.seqs[1]!);

      const back = await list({ pageSize: 2, page: 0, cursor: { direction: 'before', seq: pages[2]!.seqs[0]! } });
      expect(names(back)).toEqual(sids.slice(4, 6));
      expect(back).toMatchObject({ hasNext: true, hasPrevious: true, total: 7 });
      const offset = await list({ pageSize: 3, page: 1 });
      expect(names(offset)).toEqual(sids.slice(3, 6));
    });

    it('keeps a cursor valid when its row is deleted, and applies filters and totals to keyset pages', async () => {
      const { c, ps, list, calls, sids } = await sevenParticipants();
      const p0 = await list({ pageSize: 3, page: 0 });
      await store.deleteParticipant(c.sid, ps[2]!.callSid); // the cursor row
      const p1 = await list({ pageSize: 3, page: 0, cursor: { direction: 'after', seq: p0.seqs[2]! } });
      expect(calls(p1)).toEqual(sids.slice(3, 6));
      expect(p1).toMatchObject({ total: 6, hasPrevious: true, hasNext: true });

      // Muted: participants 0, 4, 6 remain (2 was deleted).
      const muted = await store.listParticipants({ conferenceSid: c.sid, muted: true }, { pageSize: 1, page: 0, cursor: { direction: 'after', seq: p0.seqs[0]! } });
      expect(muted.items.map((p) => p.callSid)).toEqual([sids[4]]);
      expect(muted).toMatchObject({ total: 3, hasPrevious: true, hasNext: true });
    });

    it('answers an empty list sensibly', async () => {
      const a = await newAccount();
      const empty = await store.listConferences({ accountSid: a.sid }, { pageSize: 20, page: 0 });
      expect(empty).toEqual({ items: [], seqs: [], total: 0, hasNext: false, hasPrevious: false });
      const later = await store.listConferences({ accountSid: a.sid }, { pageSize: 20, page: 3 });
      expect(later).toMatchObject({ total: 0, hasNext: false, hasPrevious: false });
    });
  });

  describe('transactions', () => {
    it('commits when the work resolves, and returns its value', async () => {
      const a = await newAccount();
      const c = conference(a.sid);
      const result = await store.transaction(async (tx) => {
        await tx.insertConference(c);
        await tx.insertParticipant(participant(c));
        expect(await tx.findConference(a.sid, c.sid)).toEqual(c);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store.findConference(a.sid, c.sid)).toEqual(c);
      expect(await store.listAllParticipants(c.sid)).toHaveLength(1);
    });

    it('rolls back everything when the work throws, and rethrows', async () => {
      const a = await newAccount();
      const c = conference(a.sid);
      const failure = new Error('boom');
      await expect(
        store.transaction(async (tx) => {
          await tx.insertConference(c);
          await tx.insertParticipant(participant(c));
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await store.findConference(a.sid, c.sid)).toBeUndefined();
      expect(await store.listAllParticipants(c.sid)).toEqual([]);
      // The store is still usable after a rollback.
      await store.insertConference(c);
      expect(await store.findConference(a.sid, c.sid)).toEqual(c);
    });

    it('rolls back on a conflict raised inside the transaction', async () => {
      const a = await newAccount();
      const live = await newConference(a.sid, { friendlyName: 'busy' });
      const extra = participant(live);
      await expect(
        store.transaction(async (tx) => {
          await tx.insertParticipant(extra);
          await tx.insertConference(conference(a.sid, { friendlyName: 'busy' }));
        }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await store.findParticipant(live.sid, extra.callSid)).toBeUndefined();
    });
  });

  describe('concurrency', () => {
    it('serialises two transactions that lock the same conference', async () => {
      const a = await newAccount();
      const c = await newConference(a.sid, { maxParticipants: 250 });
      const events: string[] = [];
      const firstLocked = deferred();
      const secondWaits = deferred();

      const first = store.transaction(async (tx) => {
        await tx.lockConference(c.sid);
        events.push('first locked');
        firstLocked.resolve();
        await secondWaits.promise;
        await tx.updateConference({ ...c, maxParticipants: 10 });
        events.push('first commits');
      });
      await firstLocked.promise;
      const second = store.transaction(async (tx) => {
        const seen = await tx.lockConference(c.sid);
        events.push('second locked');
        await tx.updateConference({ ...c, maxParticipants: (seen?.maxParticipants ?? 0) + 1 });
        return seen;
      });
      await someoneWaitsForALock(kind);
      secondWaits.resolve();
      const [, seen] = await Promise.all([first, second]);
      expect(events).toEqual(['first locked', 'first commits', 'second locked']);
      expect(seen?.maxParticipants).toBe(10);
      expect((await store.findConference(a.sid, c.sid))?.maxParticipants).toBe(11);
    });

    it('lets exactly one of two concurrent inserts of a live name succeed', async () => {
      const a = await newAccount();
      const results = await Promise.allSettled([
        store.insertConference(conference(a.sid, { friendlyName: 'race' })),
        store.insertConference(conference(a.sid, { friendlyName: 'race' })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.reason).toBeInstanceOf(ConflictError);
    });

    it('makes an insert that races an uncommitted one wait for it, then conflict', async () => {
      const a = await newAccount();
      const inserted = deferred();
      const release = deferred();
      const holder = store.transaction(async (tx) => {
        await tx.insertConference(conference(a.sid, { friendlyName: 'held' }));
        inserted.resolve();
        await release.promise;
      });
      await inserted.promise;
      // The racer is issued while the holder's insert is uncommitted; its outcome is caught at
      // once so that it cannot be reported as unhandled whichever settles first.
      const racer = store.insertConference(conference(a.sid, { friendlyName: 'held' })).then(
        () => 'inserted',
        (error: unknown) => error,
      );
      release.resolve();
      await holder;
      expect(await racer).toBeInstanceOf(ConflictError);
      expect((await store.findLiveConferenceByName(a.sid, 'held'))?.friendlyName).toBe('held');
    });
  });
});
