/**
 * Two nodes on one PostgreSQL database: a participant one node has read (and keeps in its read
 * cache) and the other changes or deletes is seen changed by the first — through the NOTIFY of
 * migration 0004 — within a moment; also after the listening connection was cut and came back.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Participant } from '../../src/domain/model.js';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import { openStore } from '../../src/store/open-store.js';
import { aConference, aParticipant } from '../helpers/fixtures.js';
import { TEST_POSTGRES_URL } from '../helpers/stores.js';
import { until } from '../helpers/until.js';

/** Reads until `done` holds: the change travels by NOTIFY, asynchronously. */
async function eventually(read: () => Promise<Participant | undefined>, done: (p: Participant | undefined) => boolean): Promise<Participant | undefined> {
  const seen = await until(
    async () => {
      const value = await read();
      return done(value) && { value };
    },
    5000,
    'the change to reach the other node',
  );
  return seen.value;
}

/** An account, a conference and one participant, written through `store`. */
async function seedOn(store: Store): Promise<{ conference: ReturnType<typeof aConference>; p: Participant }> {
  const accountSid = newSid('AC');
  await store.insertAccount({ sid: accountSid, ownerAccountSid: accountSid, friendlyName: 'a', authToken: 'x'.repeat(32), status: 'active', dateCreated: 1, dateUpdated: 1 });
  const conference = aConference({ accountSid });
  await store.insertConference(conference);
  const p = aParticipant(conference);
  await store.insertParticipant(p);
  return { conference, p };
}

describe('participant read cache across PostgreSQL nodes', () => {
  const schema = `t_${randomBytes(8).toString('hex')}`;
  let a: Store;
  let b: Store;

  beforeAll(async () => {
    a = await openStore(TEST_POSTGRES_URL, { schema });
    b = await openStore(TEST_POSTGRES_URL, { schema });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('a change made on one node reaches the cache of the other', async () => {
    const { conference, p } = await seedOn(a);
    expect(await a.findParticipant(conference.sid, p.callSid)).toEqual(p); // now kept by node a

    await b.updateParticipant({ ...p, muted: true, dateUpdated: p.dateUpdated + 1 });
    const seen = await eventually(() => a.findParticipant(conference.sid, p.callSid), (v) => v?.muted === true);
    expect(seen?.muted).toBe(true);

    await b.deleteParticipant(conference.sid, p.callSid);
    expect(await eventually(() => a.findParticipant(conference.sid, p.callSid), (v) => v === undefined)).toBeUndefined();
  });

  it('a node whose listener was cut off serves nothing stale, listens again, and caches again', async () => {
    const { conference, p } = await seedOn(a);
    expect(await a.findParticipant(conference.sid, p.callSid)).toEqual(p);

    // An administrator (or a failover) kills every LISTEN connection of this schema.
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    const listeners = async (): Promise<number[]> =>
      (await admin.query<{ pid: number }>(`select pid from pg_stat_activity where query like 'listen "conclave_participants_${schema}"%'`)).rows.map((r) => r.pid);
    try {
      const before = await listeners();
      expect(before.length).toBe(2);
      await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [before]);
      // Changed by b while a's listener is down: a must not answer from its memory.
      await b.updateParticipant({ ...p, muted: true, dateUpdated: p.dateUpdated + 1 });
      expect((await a.findParticipant(conference.sid, p.callSid))?.muted).toBe(true);

      // Both nodes listen again (new backends), and a change reaches a's cache as before.
      await until(async () => (await listeners()).filter((pid) => !before.includes(pid)).length >= 2, 10_000, 'the listeners to come back', 20);
      expect((await a.findParticipant(conference.sid, p.callSid))?.muted).toBe(true); // kept again
      await b.updateParticipant({ ...p, muted: false, hold: true, dateUpdated: p.dateUpdated + 2 });
      const seen = await eventually(() => a.findParticipant(conference.sid, p.callSid), (v) => v?.hold === true);
      expect(seen).toMatchObject({ muted: false, hold: true });
    } finally {
      await admin.end();
    }
  });
});
