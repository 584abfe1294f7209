/**
 * The store's part of several nodes (domain/cluster.ts), on both engines: leases in the
 * database's clock and one winner per death, commands taken once, answers collected once,
 * callbacks numbered per conference and taken in order, a call's end never undone, homes moved
 * only from where they were. On PostgreSQL also the cluster channel: what one node's
 * transaction NOTIFYs reaches every node at commit, in order, and nothing of a rollback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/domain/call.js';
import type { ClusterMessage } from '../../src/domain/cluster.js';
import type { Store } from '../../src/domain/ports.js';
import { newSid } from '../../src/domain/sids.js';
import { aConference, aParticipant } from '../helpers/fixtures.js';
import { STORE_KINDS, openSharedPostgresStores, openTestStore, type TestStore } from '../helpers/stores.js';
import { until } from '../helpers/until.js';

const T0 = 1_750_000_000_000;

function aCall(accountSid: string, nodeId: string, over: Partial<Call> = {}): Call {
  return {
    sid: newSid('CA'),
    accountSid,
    parentCallSid: null,
    to: 'sim:alice',
    from: '+15005550006',
    phoneNumberSid: null,
    status: 'in-progress',
    direction: 'outbound-api',
    timeout: 60,
    startTime: T0,
    endTime: null,
    duration: null,
    queueTime: 0,
    url: null,
    method: 'POST',
    fallbackUrl: null,
    fallbackMethod: 'POST',
    twiml: '<Response/>',
    statusCallback: null,
    statusCallbackMethod: 'POST',
    statusCallbackEvents: ['completed'],
    nodeId,
    dateCreated: T0,
    dateUpdated: T0,
    ...over,
  };
}

async function anAccount(store: Store): Promise<string> {
  const sid = newSid('AC');
  await store.insertAccount({ sid, ownerAccountSid: sid, friendlyName: 'owner', authToken: 'x'.repeat(32), status: 'active', dateCreated: T0, dateUpdated: T0 });
  return sid;
}

describe.each(STORE_KINDS)('cluster operations (%s)', (kind) => {
  let t: TestStore;
  let store: Store;
  let accountSid: string;

  beforeAll(async () => {
    t = await openTestStore(kind);
    store = t.store;
    accountSid = await anAccount(store);
  });
  afterAll(async () => t.cleanup());

  it('keeps a secret under its name: the first candidate, for ever', async () => {
    const name = `secret-${newSid('CA').slice(2, 10)}`;
    expect(await store.clusterSecret(name, 'first')).toBe('first');
    expect(await store.clusterSecret(name, 'second')).toBe('first');
  });

  it('registers a node with a lease that renews, lapses, and is declared dead by one caller only', async () => {
    const id = `node-${newSid('CA').slice(2, 10)}`;
    await store.registerNode({ id, address: '10.0.0.1', httpUrl: 'http://10.0.0.1:8080', sipAddress: '10.0.0.1:5060', leaseMs: 60_000 });
    expect((await store.findNode(id))?.state).toBe('live');
    expect((await store.listLiveNodes()).map((n) => n.id)).toContain(id);
    expect(await store.renewNode(id, 60_000)).toBe(true);
    expect(await store.declareNodeDead(id)).toBe(false); // its lease runs
    expect((await store.listExpiredNodes()).map((n) => n.id)).not.toContain(id);

    expect(await store.renewNode(id, -1)).toBe(true); // a lease that has already lapsed
    expect((await store.listExpiredNodes()).map((n) => n.id)).toContain(id);
    const verdicts = await Promise.all([store.declareNodeDead(id), store.declareNodeDead(id), store.declareNodeDead(id)]);
    expect(verdicts.filter(Boolean)).toHaveLength(1);
    expect((await store.findNode(id))?.state).toBe('dead');
    // A node that comes back finds itself dead: it cannot renew its way back to life.
    expect(await store.renewNode(id, 60_000)).toBe(false);
    expect((await store.listLiveNodes()).map((n) => n.id)).not.toContain(id);
  });

  it('a node that leaves is never declared dead, and old nodes are forgotten', async () => {
    const id = `node-${newSid('CA').slice(2, 10)}`;
    await store.registerNode({ id, address: '10.0.0.2', httpUrl: null, sipAddress: null, leaseMs: -1 });
    await store.markNodeLeft(id);
    expect(await store.declareNodeDead(id)).toBe(false);
    expect((await store.findNode(id))?.state).toBe('left');
    expect(await store.forgetNodes(-60_000)).toBeGreaterThanOrEqual(1);
    expect(await store.findNode(id)).toBeUndefined();
  });

  it("lists a node's live calls; a call's end is never undone by a later write", async () => {
    const node = `node-${newSid('CA').slice(2, 10)}`;
    const live = aCall(accountSid, node);
    const ringing = aCall(accountSid, node, { status: 'ringing', startTime: null });
    const ended = aCall(accountSid, node, { status: 'completed', endTime: T0 + 1000, duration: 1 });
    const elsewhere = aCall(accountSid, 'another-node');
    for (const c of [live, ringing, ended, elsewhere]) await store.insertCall(c);
    expect((await store.listLiveCallsOfNode(node, 10)).map((c) => c.sid)).toEqual([live.sid, ringing.sid]);
    expect((await store.findCall(live.sid))?.nodeId).toBe(node);

    const completed = { ...live, status: 'completed' as const, endTime: T0 + 5000, duration: 5 };
    expect(await store.updateCall(completed)).toBe(true);
    // The node that ran it comes back and writes what it believed: nothing changes.
    expect(await store.updateCall({ ...live, status: 'in-progress', dateUpdated: T0 + 9000 })).toBe(false);
    expect(await store.updateCall({ ...completed, status: 'failed' })).toBe(false);
    expect(await store.findCall(live.sid)).toMatchObject({ status: 'completed', duration: 5, nodeId: node });
  });

  it('lists the nodes gone (dead or left) that a live call or a live conference still names', async () => {
    const [withCall, withHome, cleared, alive] = ['call', 'home', 'none', 'live'].map((k) => `node-${k}-${newSid('CA').slice(2, 8)}`) as [string, string, string, string];
    // withCall's lease has lapsed already: it can be declared dead.
    for (const id of [withCall, withHome, cleared, alive]) await store.registerNode({ id, address: '10.0.0.4', httpUrl: null, sipAddress: null, leaseMs: id === withCall ? -1 : 60_000 });
    const call = aCall(accountSid, withCall);
    await store.insertCall(call);
    await store.insertCall(aCall(accountSid, cleared, { status: 'completed', endTime: T0 + 1000, duration: 1 }));
    await store.insertCall(aCall(accountSid, alive));
    await store.insertConference(aConference({ accountSid, status: 'in-progress', homeNodeId: withHome }));
    await store.insertConference(aConference({ accountSid, status: 'completed', homeNodeId: cleared }));
    const mine = async (): Promise<string[]> => (await store.listGoneNodesWithLeftovers()).filter((id) => [withCall, withHome, cleared, alive].includes(id)).sort();
    expect(await mine()).toEqual([]);
    expect(await store.declareNodeDead(withCall)).toBe(true);
    await store.markNodeLeft(withHome);
    await store.markNodeLeft(cleared);
    expect(await mine()).toEqual([withCall, withHome].sort());
    await store.updateCall({ ...call, status: 'completed', endTime: T0 + 2000, duration: 2 });
    expect(await mine()).toEqual([withHome]);
  });

  it('knows which live nodes run a conference and moves its home only from where it was', async () => {
    const a = `node-a-${newSid('CA').slice(2, 8)}`;
    const b = `node-b-${newSid('CA').slice(2, 8)}`;
    for (const id of [a, b]) await store.registerNode({ id, address: '10.0.0.3', httpUrl: null, sipAddress: null, leaseMs: 60_000 });
    const conference = aConference({ accountSid, homeNodeId: a });
    await store.insertConference(conference);
    expect((await store.findConference(accountSid, conference.sid))?.homeNodeId).toBe(a);
    const calls = [aCall(accountSid, a), aCall(accountSid, b), aCall(accountSid, b)];
    for (const c of calls) {
      await store.insertCall(c);
      await store.insertParticipant(aParticipant(conference, { callSid: c.sid, goesOn: c === calls[1] }));
    }
    expect(await store.listNodesInConference(conference.sid)).toEqual([b, a]);
    expect((await store.findParticipantByCall(calls[1]!.sid))?.goesOn).toBe(true);
    expect((await store.findParticipantByCall(calls[0]!.sid))?.goesOn).toBeUndefined();
    expect((await store.listConferencesHomedAt(a, 10)).map((c) => c.sid)).toContain(conference.sid);

    // An update of the conference keeps its home; only a move changes it, once.
    await store.updateConference({ ...conference, status: 'in-progress', homeNodeId: b, dateUpdated: T0 + 1 });
    expect((await store.findConference(accountSid, conference.sid))?.homeNodeId).toBe(a);
    expect(await store.moveConferenceHome(conference.sid, b, a)).toBe(false);
    expect(await store.moveConferenceHome(conference.sid, a, b)).toBe(true);
    expect(await store.moveConferenceHome(conference.sid, a, b)).toBe(false);
    expect((await store.findConference(accountSid, conference.sid))?.homeNodeId).toBe(b);
  });

  it('takes a command once, answers a request once, and fails the requests of a dead node', async () => {
    const node = `node-${newSid('CA').slice(2, 10)}`;
    const oneWay = await store.insertCommand({ nodeId: node, kind: 'hangup', payload: '{"callSid":"CA1"}', replyTo: null });
    const request = await store.insertCommand({ nodeId: node, kind: 'recording', payload: '{}', replyTo: 'asker' });
    expect(await store.listPendingCommands(node)).toEqual([oneWay, request]);
    expect(await store.takeCommand(oneWay, 'another-node')).toBeUndefined();
    const taken = await Promise.all([store.takeCommand(oneWay, node), store.takeCommand(oneWay, node)]);
    expect(taken.filter((c) => c !== undefined)).toEqual([{ id: oneWay, nodeId: node, kind: 'hangup', payload: '{"callSid":"CA1"}', replyTo: null }]);
    expect(await store.takeCommand(request, node)).toMatchObject({ id: request, replyTo: 'asker' });
    expect(await store.takeCommand(request, node)).toBeUndefined();
    expect(await store.listPendingCommands(node)).toEqual([]);
    expect(await store.takeReply(request)).toBeUndefined(); // not answered yet
    await store.answerCommand(request, { ok: true, result: '{"wav":"UklGRg=="}' });
    expect(await store.takeReply(request)).toEqual({ ok: true, result: '{"wav":"UklGRg=="}' });
    expect(await store.takeReply(request)).toBeUndefined();

    const lost = await store.insertCommand({ nodeId: node, kind: 'recording', payload: '{}', replyTo: 'asker' });
    await store.insertCommand({ nodeId: node, kind: 'hangup', payload: '{}', replyTo: null });
    expect(await store.dropCommandsOf(node, 'node is dead')).toBe(2);
    expect(await store.listPendingCommands(node)).toEqual([]);
    expect(await store.takeReply(lost)).toEqual({ ok: false, result: 'node is dead' });
  });

  it('numbers callbacks per conference without gaps, across transactions, and hands them out in order once', async () => {
    const conference = aConference({ accountSid });
    await store.insertConference(conference);
    const queue = async (count: number): Promise<number> =>
      store.transaction(async (tx) => {
        const first = await tx.takeCallbackSequence(conference.sid, count);
        await tx.insertConferenceCallbacks(
          Array.from({ length: count }, (_, i) => ({ conferenceSid: conference.sid, sequenceNumber: first + i, payload: `{"n":${first + i}}` })),
        );
        return first;
      });
    expect(await queue(2)).toBe(1);
    expect(await queue(1)).toBe(3);
    // A rolled back transaction numbers nothing.
    await expect(
      store.transaction(async (tx) => {
        await tx.takeCallbackSequence(conference.sid, 5);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await queue(1)).toBe(4);
    expect(await store.listConferencesWithCallbacks('any-node')).toContain(conference.sid);
    const taken = await store.takeConferenceCallbacks(conference.sid);
    expect(taken.map((c) => c.sequenceNumber)).toEqual([1, 2, 3, 4]);
    expect(taken[3]!.payload).toBe('{"n":4}');
    expect(await store.takeConferenceCallbacks(conference.sid)).toEqual([]);
  });
});

describe('cluster secrets (postgres, two nodes on one schema)', () => {
  it('keeps the first candidate offered for a name, whichever node offered it, even when both offer at once', async () => {
    const shared = await openSharedPostgresStores(2);
    try {
      const [a, b] = shared.stores as [Store, Store];
      const [fromA, fromB] = await Promise.all([a.clusterSecret('nonce', 'key-of-a'), b.clusterSecret('nonce', 'key-of-b')]);
      expect(fromA).toBe(fromB);
      expect(['key-of-a', 'key-of-b']).toContain(fromA);
      expect(await b.clusterSecret('nonce', 'another')).toBe(fromA);
      expect(await b.clusterSecret('other', 'its-own')).toBe('its-own');
    } finally {
      await shared.cleanup();
    }
  });
});

describe('the cluster channel (postgres, two nodes on one schema)', () => {
  it("delivers one node's NOTIFYs to every node at commit, in order, and nothing of a rollback", async () => {
    const shared = await openSharedPostgresStores(2);
    try {
      const [a, b] = shared.stores as [Store, Store];
      const seen: ClusterMessage[][] = [[], []];
      a.channel!.subscribe((m) => seen[0]!.push(m));
      b.channel!.subscribe((m) => seen[1]!.push(m));
      const messages: ClusterMessage[] = Array.from({ length: 20 }, (_, i) => ({ t: 'resync', account: 'AC1', conference: `CF${i}` }));
      await a.transaction(async (tx) => {
        await tx.notifyCluster(messages.slice(0, 10));
        await tx.notifyCluster(messages.slice(10));
        // Nothing is told before the commit.
        expect(seen[1]).toEqual([]);
      });
      await expect(
        a.transaction(async (tx) => {
          await tx.notifyCluster([{ t: 'resync', account: 'AC1', conference: 'CFrolledback' }]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      // Commands and deaths are told by the database itself (triggers of migration 0005).
      const id = await b.insertCommand({ nodeId: 'node-a', kind: 'hangup', payload: '{}', replyTo: null });
      await until(() => expect(seen[0]!.length).toBe(21), 5000, 'the messages at node a');
      await until(() => expect(seen[1]!.length).toBe(21), 5000, 'the messages at node b');
      for (const got of seen) {
        expect(got.slice(0, 20)).toEqual(messages);
        expect(got[20]).toEqual({ t: 'command', node: 'node-a', id });
      }
      await a.registerNode({ id: 'node-x', address: '10.0.0.9', httpUrl: null, sipAddress: null, leaseMs: -1 });
      expect(await b.declareNodeDead('node-x')).toBe(true);
      await until(() => expect(seen[0]).toContainEqual({ t: 'node-dead', node: 'node-x' }), 5000, 'the death at node a');
    } finally {
      await shared.cleanup();
    }
  });
});
