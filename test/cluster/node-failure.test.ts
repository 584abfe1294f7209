/**
 * Issue 11 §1: several real `conclave serve` processes on one PostgreSQL schema, and what a user
 * sees when one of them fails.
 *
 * - A node killed with SIGKILL: a survivor declares it dead once its lease lapses and clears
 *   what it left — its calls are `completed` (one status callback each, sent by the survivor),
 *   its participants leave (`participant-leave` once each) and the conference rules apply (the
 *   conference goes on with the survivor's caller, now homed on the survivor, its callbacks
 *   numbered on from where they were; an endConferenceOnExit participant's leaving ends its
 *   conference). Started again, it is a new node; its old calls stay ended.
 * - A node frozen (SIGSTOP) past its lease: declared dead and cleared the same way meanwhile;
 *   thawed, it finds itself dead (fenced), ends what it still ran without telling anything a
 *   second time, and joins again as a new node that takes calls.
 * - A node whose PostgreSQL connections are terminated (picked by its own application_name):
 *   requests to it meanwhile get a clear 503 or succeed; it reconnects (its LISTEN connection
 *   included), so a mute and a hang-up asked through another node reach its calls; a cut shorter
 *   than its lease does not get it declared dead.
 * - A node cut from the database (through a TCP proxy that resets and refuses its connections)
 *   for longer than its lease: declared dead and cleared meanwhile, including a call that hung
 *   up by itself during the cut; back, it fences itself — nothing told twice — and rejoins.
 *
 * Three nodes starting at once on an empty schema are test/store/concurrent-start.test.ts's.
 *
 * Calls are `sim:` endpoints (they answer at once and, with `record`, keep what they heard);
 * callbacks go to a real webhook receiver.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { dropSchema, newSchemaName, nodeDatabaseUrl, startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { TEST_POSTGRES_URL } from '../helpers/stores.js';
import { meanAmplitude } from '../media/goertzel.js';
import { PostgresProxy } from '../store/postgres-server.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type ReceivedRequest, type Receiver } from '../helpers/webhook-receiver.js';

/** Short, so that a dead node is cleared within seconds (CONCLAVE_NODE_LEASE_MS). */
const LEASE_MS = 1500;
/** The node whose database connections are cut renews more slowly than the cut lasts. */
const CUT_LEASE_MS = 4000;
/** How long the connections of the node are terminated again and again. */
const CUT_MS = 1000;
const WAIT_MS = 20_000;
/** Each test waits for several of those in turn. */
const TEST_MS = 60_000;

describe('nodes on one PostgreSQL schema that are killed, frozen or cut from the database', () => {
  const schema = newSchemaName();
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  /** Every process started, for the clean-up whatever happens. */
  const started: NodeProcess[] = [];
  const proxies: PostgresProxy[] = [];
  let receiver: Receiver;
  let admin: pg.Client;
  let a: NodeProcess;
  let b: NodeProcess;

  const startNode = async (name: string, leaseMs = LEASE_MS): Promise<NodeProcess> => {
    const node = await startNodeProcess({
      accountSid,
      authToken,
      env: { CONCLAVE_DATABASE: nodeDatabaseUrl(schema, name), CONCLAVE_NODE_LEASE_MS: String(leaseMs) },
    });
    started.push(node);
    await node.logLine(['joined the nodes sharing this database']);
    return node;
  };

  /** The node id a process joined under last (it changes when the node rejoins after being fenced). */
  const nodeIdOf = (node: NodeProcess): string => {
    const joins = node.lines.filter((l) => l.includes('joined the nodes sharing this database') || l.includes('rejoined as a new node'));
    return (JSON.parse(joins.at(-1)!) as { node: string }).node;
  };

  const nodeStates = async (): Promise<Map<string, string>> => {
    const rows = (await admin.query<{ id: string; state: string }>(`select id, state from ${schema}.nodes`)).rows;
    return new Map(rows.map((r) => [r.id, r.state]));
  };

  const conferenceTwiml = (room: string, endOnExit = false): string =>
    `<Response><Dial><Conference beep="false" statusCallback="${receiver.baseUrl}/conference" statusCallbackEvent="start end join leave"` +
    `${endOnExit ? ' endConferenceOnExit="true"' : ''}>${room}</Conference></Dial></Response>`;

  /** A call through `node`'s API to a `sim:` endpoint; resolves with its SID once it is in its conference. */
  const callInto = async (node: NodeProcess, name: string, twiml: string): Promise<string> => {
    const created = await node.request('POST', '/Calls.json', { To: `sim:${name}`, From: '+15005550006', Twiml: twiml, StatusCallback: `${receiver.baseUrl}/status` });
    expect(created.status, created.body).toBe(201);
    const sid = String(created.json.sid);
    await until(() => joinOf(sid), WAIT_MS, `${name}'s participant-join`);
    return sid;
  };

  const conferenceCallbacks = (): ReceivedRequest[] => receiver.requests.filter((r) => r.path === '/conference');
  const joinOf = (callSid: string): ReceivedRequest | undefined =>
    conferenceCallbacks().find((r) => r.params.StatusCallbackEvent === 'participant-join' && r.params.CallSid === callSid);
  const leavesOf = (callSid: string): ReceivedRequest[] =>
    conferenceCallbacks().filter((r) => r.params.StatusCallbackEvent === 'participant-leave' && r.params.CallSid === callSid);
  const completedOf = (callSid: string): ReceivedRequest[] =>
    receiver.requests.filter((r) => r.path === '/status' && r.params.CallSid === callSid && r.params.CallStatus === 'completed');
  const callbacksOf = (conferenceSid: string): ReceivedRequest[] => conferenceCallbacks().filter((r) => r.params.ConferenceSid === conferenceSid);

  /**
   * Waits until the conference's start was told. A home node takes a conference's queued
   * callbacks out of the store before it sends them: one it is stopped between the two sends
   * late, or not at all, so every conference's callbacks are out before a node is stopped.
   */
  const startTold = (conferenceSid: string): Promise<ReceivedRequest> =>
    until(() => callbacksOf(conferenceSid).find((r) => r.params.StatusCallbackEvent === 'conference-start'), WAIT_MS, `the conference-start of ${conferenceSid}`);

  /** What `callSid`'s `sim:…;record` endpoint heard, read through `node`'s API (its SimulatedAudio.wav). */
  const recording = async (node: NodeProcess, callSid: string): Promise<Int16Array> => {
    const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    const response = await fetch(`${node.api}/Calls/${callSid}/SimulatedAudio.wav`, { headers: { authorization } });
    expect(response.status).toBe(200);
    const wav = new Uint8Array(await response.arrayBuffer()).slice(44);
    return new Int16Array(wav.buffer, 0, Math.floor(wav.length / 2));
  };

  /** The `seconds` of the recording made after this is called. */
  const recordingFromNow = async (node: NodeProcess, callSid: string, seconds: number): Promise<Int16Array> => {
    const from = (await recording(node, callSid)).length;
    const pcm = await until(async () => {
      const all = await recording(node, callSid);
      return all.length >= from + seconds * 8000 && all;
    }, WAIT_MS, `${seconds} s more of ${callSid}'s recording`, 100);
    return pcm.subarray(from);
  };

  const statusOf = async (node: NodeProcess, callSid: string): Promise<unknown> => (await node.request('GET', `/Calls/${callSid}.json`)).json.status;
  const hangUp = async (node: NodeProcess, callSid: string): Promise<void> => {
    const response = await node.request('POST', `/Calls/${callSid}.json`, { Status: 'completed' });
    expect(response.status, response.body).toBe(200);
  };

  beforeAll(async () => {
    receiver = await startReceiver((_request, response) => answer(response, 204, 'text/plain', ''));
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL, application_name: `admin-${schema}` });
    await admin.connect();
    // One after the other: the first creates the schema.
    a = await startNode('a');
    b = await startNode('b');
  }, 60_000);

  afterAll(async () => {
    // SIGKILL: a frozen process does not hear SIGTERM, and nothing here needs a clean stop.
    await Promise.all(started.map((node) => node.kill('SIGKILL')));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await receiver?.close();
    await admin?.end();
    await dropSchema(schema);
  }, 30_000);

  describe('a node killed with SIGKILL', () => {
    let bCalls: string[] = [];
    let bNodeId: string;

    it('is declared dead by the survivor, which ends its calls once, takes its conferences over and applies the conference rules', async () => {
      bNodeId = nodeIdOf(b);
      // `room`: two callers on B (its home: B took the first), then one on A.
      const b1 = await callInto(b, 'b1', conferenceTwiml('room'));
      const b2 = await callInto(b, 'b2', conferenceTwiml('room'));
      const a1 = await callInto(a, 'a1', conferenceTwiml('room'));
      // `ended-by-b`: B's caller, who ends it on leaving, then one on A.
      const b3 = await callInto(b, 'b3', conferenceTwiml('ended-by-b', true));
      const a2 = await callInto(a, 'a2', conferenceTwiml('ended-by-b'));
      bCalls = [b1, b2, b3];
      const room = String(joinOf(a1)!.params.ConferenceSid);
      const endedByB = String(joinOf(a2)!.params.ConferenceSid);
      expect(String(joinOf(b1)!.params.ConferenceSid)).toBe(room);
      await startTold(room);
      await startTold(endedByB);
      const homes = await admin.query<{ sid: string; home_node_id: string }>(`select sid, home_node_id from ${schema}.conferences`);
      expect(Object.fromEntries(homes.rows.map((r) => [r.sid, r.home_node_id]))).toEqual({ [room]: bNodeId, [endedByB]: bNodeId });

      const killedAt = Date.now();
      expect(await b.kill('SIGKILL')).toBeNull();
      await until(async () => (await Promise.all(bCalls.map((sid) => statusOf(a, sid)))).every((s) => s === 'completed'), WAIT_MS, "B's calls completed through A's API");
      const clearedMs = Date.now() - killedAt;
      console.log(`a node killed with SIGKILL (lease ${LEASE_MS} ms): its calls read completed through the survivor's API ${clearedMs} ms after the kill`);
      const declared = await a.logLine(['declared dead', bNodeId]);
      expect(declared).toContain('a node stopped renewing its lease');
      await a.logLine(['cleared a dead node', bNodeId]);

      // B's participants leave, once each; `ended-by-b` ends with B's end-on-exit caller, A's caller is taken out.
      await until(() => bCalls.every((sid) => leavesOf(sid).length > 0 && completedOf(sid).length > 0), WAIT_MS, "B's calls' participant-leave and completed callbacks");
      for (const sid of bCalls) expect(leavesOf(sid)[0]!.params.ReasonParticipantLeft).toBe('participant_hung_up');
      const end = await until(
        () => callbacksOf(endedByB).find((r) => r.params.StatusCallbackEvent === 'conference-end'),
        WAIT_MS,
        'the conference-end of ended-by-b',
      );
      expect(end.params).toMatchObject({ ReasonConferenceEnded: 'participant-with-end-conference-on-exit-left', CallSidEndingConference: b3 });
      await until(async () => (await statusOf(a, a2)) === 'completed', WAIT_MS, "A's caller in ended-by-b completed (its <Dial> is over)");

      // `room` goes on with A's caller and is homed on A now: a change through A is told, numbered on.
      expect((await a.request('GET', `/Conferences/${room}.json`)).json.status).toBe('in-progress');
      const listed = await a.request('GET', `/Conferences/${room}/Participants.json`);
      expect((listed.json.participants as Array<{ call_sid: string }>).map((p) => p.call_sid)).toEqual([a1]);
      const homed = await admin.query<{ home_node_id: string }>(`select home_node_id from ${schema}.conferences where sid = $1`, [room]);
      expect(homed.rows[0]!.home_node_id).toBe(nodeIdOf(a));
      const a3 = await callInto(a, 'a3', conferenceTwiml('room'));
      await hangUp(a, a1);
      await hangUp(a, a3);
      await until(() => callbacksOf(room).some((r) => r.params.StatusCallbackEvent === 'conference-end'), WAIT_MS, "room's conference-end");
      // The further callbacks came after the survivor had sent B's: nothing of B's came twice.
      await until(() => completedOf(a1).length > 0 && completedOf(a3).length > 0, WAIT_MS, "A's calls' completed callbacks");
      for (const sid of bCalls) {
        expect(completedOf(sid), `completed callbacks of ${sid}`).toHaveLength(1);
        expect(leavesOf(sid), `participant-leave callbacks of ${sid}`).toHaveLength(1);
      }
      for (const conference of [room, endedByB]) {
        const numbers = callbacksOf(conference).map((r) => Number(r.params.SequenceNumber));
        expect(numbers, `SequenceNumbers of ${conference}, in arrival order`).toEqual(numbers.map((_n, i) => i + 1));
      }
      // Everything `room` told, once each, in order, whichever node told it.
      const roomEvents = callbacksOf(room)
        .filter((r) => r.params.StatusCallbackEvent !== 'conference-start')
        .map((r) => `${String(r.params.StatusCallbackEvent)} ${String(r.params.CallSid ?? '')}`);
      expect(roomEvents).toEqual([
        `participant-join ${b1}`,
        `participant-join ${b2}`,
        `participant-join ${a1}`,
        `participant-leave ${b1}`,
        `participant-leave ${b2}`,
        `participant-join ${a3}`,
        `participant-leave ${a1}`,
        `participant-leave ${a3}`,
        'conference-end ',
      ]);
      expect(callbacksOf(room).filter((r) => r.params.StatusCallbackEvent === 'conference-start')).toHaveLength(1);
    }, TEST_MS);

    it('started again, is a new live node whose old calls stay completed, and takes new calls', async () => {
      b = await startNode('b');
      const newId = nodeIdOf(b);
      expect(newId).not.toBe(bNodeId);
      for (const sid of bCalls) expect(await statusOf(b, sid)).toBe('completed');
      const states = await nodeStates();
      expect(states.get(bNodeId)).toBe('dead');
      expect(states.get(newId)).toBe('live');
      expect(states.get(nodeIdOf(a))).toBe('live');

      const fresh = await callInto(b, 'b4', conferenceTwiml('after-restart'));
      expect(await statusOf(a, fresh)).toBe('in-progress');
      // A hang-up through A reaches the new B (its command path works).
      await hangUp(a, fresh);
      await until(() => completedOf(fresh).length > 0, WAIT_MS, 'the completed callback of the new call');
      expect(await statusOf(b, fresh)).toBe('completed');
      for (const sid of bCalls) expect(await statusOf(b, sid)).toBe('completed');
      for (const sid of bCalls) expect(completedOf(sid)).toHaveLength(1);
    }, TEST_MS);
  });

  it('a node frozen past its lease is cleared by the survivor; thawed, it fences itself without telling its calls twice, and rejoins', async () => {
    const frozenId = nodeIdOf(b);
    const f1 = await callInto(b, 'f1;tone=500', conferenceTwiml('frozen-room'));
    const a4 = await callInto(a, 'a4', conferenceTwiml('frozen-room'));
    const room = String(joinOf(a4)!.params.ConferenceSid);
    await startTold(room);

    process.kill(b.pid, 'SIGSTOP');
    const frozenAt = Date.now();
    await until(async () => (await statusOf(a, f1)) === 'completed', WAIT_MS, "the frozen node's call completed through A's API");
    console.log(`a node frozen with SIGSTOP (lease ${LEASE_MS} ms): its call read completed through the survivor's API ${Date.now() - frozenAt} ms after the freeze`);
    await a.logLine(['cleared a dead node', frozenId]);
    await until(() => completedOf(f1).length > 0 && leavesOf(f1).length > 0, WAIT_MS, "the frozen call's completed and participant-leave callbacks");
    const linesBefore = b.lines.length;

    process.kill(b.pid, 'SIGCONT');
    await b.logLine(['was declared dead by the others', `"node":"${frozenId}"`]);
    await b.logLine(['rejoined as a new node', `"former":"${frozenId}"`]);
    expect(b.lines.length).toBeGreaterThan(linesBefore);
    const rejoinedId = nodeIdOf(b);
    expect(rejoinedId).not.toBe(frozenId);
    const states = await nodeStates();
    expect(states.get(frozenId)).toBe('dead');
    expect(states.get(rejoinedId)).toBe('live');
    expect(await statusOf(b, f1)).toBe('completed');
    const listed = await a.request('GET', `/Conferences/${room}/Participants.json`);
    expect((listed.json.participants as Array<{ call_sid: string }>).map((p) => p.call_sid)).toEqual([a4]);

    // It takes new calls, in the conference that went on without it (homed on A now).
    const f2 = await callInto(b, 'f2', conferenceTwiml('frozen-room'));
    expect(String(joinOf(f2)!.params.ConferenceSid)).toBe(room);
    await hangUp(a, f2);
    await hangUp(b, a4);
    await until(() => completedOf(f2).length > 0 && completedOf(a4).length > 0, WAIT_MS, 'the completed callbacks of the calls made after the thaw');
    await until(() => callbacksOf(room).some((r) => r.params.StatusCallbackEvent === 'conference-end'), WAIT_MS, "frozen-room's conference-end");
    // Nothing of the frozen call was told again or brought back.
    expect(completedOf(f1)).toHaveLength(1);
    expect(leavesOf(f1)).toHaveLength(1);
    expect(await statusOf(b, f1)).toBe('completed');
    const joins = callbacksOf(room).filter((r) => r.params.StatusCallbackEvent === 'participant-join').map((r) => r.params.CallSid);
    expect(joins).toEqual([f1, a4, f2]);
    const numbers = callbacksOf(room).map((r) => Number(r.params.SequenceNumber));
    expect(numbers).toEqual(numbers.map((_n, i) => i + 1));
  }, TEST_MS);

  it('requests that reached a frozen node are answered at the thaw, and the node rejoins however long the calls they made last', async () => {
    const frozenId = nodeIdOf(b);
    const f3 = await callInto(b, 'f3', conferenceTwiml('thaw-room'));
    process.kill(b.pid, 'SIGSTOP');
    await until(async () => (await statusOf(a, f3)) === 'completed', WAIT_MS, "the frozen node's call completed through A's API");
    // Sent while it is frozen: they wait in its socket backlog and are read at the thaw, around
    // the time the node finds out that it was declared dead. Each call lasts a minute.
    const creating = Array.from({ length: 10 }, (_v, i) =>
      b.request('POST', '/Calls.json', { To: `sim:late${i}`, From: '+15005550006', Twiml: '<Response><Pause length="60"/></Response>', StatusCallback: `${receiver.baseUrl}/status` }),
    );
    await until(async () => (await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity')).rows[0]!.n > 0, WAIT_MS, 'a round trip to the database');
    process.kill(b.pid, 'SIGCONT');
    const created = await Promise.all(creating);
    for (const response of created) expect(response.status, response.body).toBe(201);
    const late = created.map((response) => String(response.json.sid));

    // It is a live node again at once, not once the calls taken at the thaw have ended.
    await b.logLine(['rejoined as a new node', `"former":"${frozenId}"`]);
    expect((await nodeStates()).get(nodeIdOf(b))).toBe('live');
    // Each of those calls, hung up through A unless it has ended already, is told completed once.
    for (const sid of late) if ((await statusOf(a, sid)) !== 'completed') await hangUp(a, sid);
    await until(() => late.every((sid) => completedOf(sid).length > 0), WAIT_MS, 'every late call told completed');
    // A further call on the rejoined node, told after them: nothing was told twice.
    const f4 = await callInto(b, 'f4', conferenceTwiml('thaw-room'));
    await hangUp(a, f4);
    await until(() => completedOf(f4).length > 0, WAIT_MS, 'the completed callback of the call after the thaw');
    for (const sid of [f3, ...late]) expect(completedOf(sid), `completed callbacks of ${sid}`).toHaveLength(1);
    expect((await nodeStates()).get(nodeIdOf(b))).toBe('live');
  }, TEST_MS);

  it('a node whose database connections are terminated reconnects: requests meanwhile get 503 or succeed, and a mute and a hang-up through another node reach its calls', async () => {
    const c = await startNode('c', CUT_LEASE_MS);
    const cId = nodeIdOf(c);
    const twiml = `<Response><Dial><Conference beep="false" statusCallback="${receiver.baseUrl}/conference" statusCallbackEvent="start end join leave mute">cut-room</Conference></Dial></Response>`;
    const talker = await callInto(c, 'talker;tone=600', twiml);
    const listener = await callInto(c, 'listener;record', twiml);
    const room = String(joinOf(listener)!.params.ConferenceSid);
    await startTold(room);
    // The listener hears the talker (its recording read through A: a command to C).
    const heard = await recordingFromNow(a, listener, 1);
    expect(meanAmplitude(heard, 600)).toBeGreaterThan(2000);

    const backendsOf = async (name: string): Promise<Array<{ pid: number; query: string }>> =>
      (await admin.query<{ pid: number; query: string }>('select pid, query from pg_stat_activity where application_name = $1', [`conclave-${schema}-${name}`])).rows;
    const listeningPid = (backends: Array<{ pid: number; query: string }>): number | undefined =>
      backends.find((backend) => backend.query.startsWith(`listen "conclave_participants_${schema}"`))?.pid;
    const before = await backendsOf('c');
    const cListener = listeningPid(before);
    const aListener = listeningPid(await backendsOf('a'));
    expect(cListener).toBeDefined();
    expect(aListener).toBeDefined();

    // Every connection of C terminated, again and again for CUT_MS (shorter than its lease),
    // while a client keeps asking C; each answer is a 200 or a clear 503.
    const answers: Array<{ status: number; code: unknown }> = [];
    const terminated = new Set<number>();
    const cutUntil = Date.now() + CUT_MS;
    const asking = (async () => {
      while (Date.now() < cutUntil) {
        const response = await c.request('GET', `/Conferences/${room}/Participants.json`);
        answers.push({ status: response.status, code: response.json.code });
      }
    })();
    while (Date.now() < cutUntil) {
      // Materialised first: in one WHERE the server may call pg_terminate_backend on rows
      // before it checks their application_name, terminating every session of the server.
      const killed = await admin.query<{ pid: number }>(
        'with ours as materialized (select pid from pg_stat_activity where application_name = $1) select pid from ours where pg_terminate_backend(pid)',
        [`conclave-${schema}-c`],
      );
      for (const { pid } of killed.rows) terminated.add(pid);
    }
    await asking;
    for (const pid of before.map((backend) => backend.pid)) expect(terminated.has(pid), `C's backend ${pid} terminated`).toBe(true);
    expect(answers.length).toBeGreaterThan(0);
    for (const answered of answers) {
      expect([200, 503]).toContain(answered.status);
      if (answered.status === 503) expect(answered.code).toBe(20503);
    }
    console.log(`during a ${CUT_MS} ms cut of its database connections, C answered ${answers.filter((r) => r.status === 200).length} requests 200 and ${answers.filter((r) => r.status === 503).length} 503`);

    // C listens again (a new connection), A's own were not touched.
    await until(async () => {
      const pid = listeningPid(await backendsOf('c'));
      return pid !== undefined && pid !== cListener;
    }, WAIT_MS, "C's new LISTEN connection");
    expect(listeningPid(await backendsOf('a'))).toBe(aListener);
    // The listener still hears the talker (read through A: a command to C, on its new connection).
    expect(meanAmplitude(await recordingFromNow(a, listener, 0.5), 600)).toBeGreaterThan(2000);

    // A mute through A: C hears of it (an event on its LISTEN connection) and its listener stops hearing the talker.
    const muted = await a.request('POST', `/Conferences/${room}/Participants/${talker}.json`, { Muted: 'true' });
    expect(muted.status, muted.body).toBe(200);
    await until(() => callbacksOf(room).find((r) => r.params.StatusCallbackEvent === 'participant-mute'), WAIT_MS, 'the participant-mute callback');
    const afterMute = await until(async () => {
      const pcm = await recordingFromNow(a, listener, 0.5);
      return meanAmplitude(pcm, 600) < 200 && pcm;
    }, WAIT_MS, 'the listener no longer hearing the muted talker');
    expect(meanAmplitude(afterMute, 600)).toBeLessThan(200);

    // A hang-up through A: C ends its call (a command on its LISTEN connection), told once.
    await hangUp(a, listener);
    expect(await statusOf(a, listener)).toBe('completed');
    await hangUp(a, talker);
    await until(() => completedOf(listener).length > 0 && completedOf(talker).length > 0, WAIT_MS, "C's calls' completed callbacks");
    await until(() => callbacksOf(room).some((r) => r.params.StatusCallbackEvent === 'conference-end'), WAIT_MS, "cut-room's conference-end");
    expect(completedOf(listener)).toHaveLength(1);
    expect(leavesOf(listener)).toHaveLength(1);
    expect(leavesOf(listener)[0]!.params.ReasonParticipantLeft).toBe('participant_updated_via_api');

    // A cut shorter than its lease: C was never declared dead and is the same node.
    expect((await nodeStates()).get(cId)).toBe('live');
    expect(nodeIdOf(c)).toBe(cId);
    expect(c.lines.some((line) => line.includes('was declared dead by the others'))).toBe(false);
    expect(a.lines.some((line) => line.includes('declared dead') && line.includes(cId))).toBe(false);
  }, TEST_MS);

  it('a node cut from the database for longer than its lease is declared dead; back, it fences itself and its calls are told ended once', async () => {
    const proxy = await PostgresProxy.start();
    proxies.push(proxy);
    const url = new URL(nodeDatabaseUrl(schema, 'd'));
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const d = await startNodeProcess({ accountSid, authToken, env: { CONCLAVE_DATABASE: url.toString(), CONCLAVE_NODE_LEASE_MS: String(LEASE_MS) } });
    started.push(d);
    await d.logLine(['joined the nodes sharing this database']);
    const dId = nodeIdOf(d);
    const d1 = await callInto(d, 'd1', conferenceTwiml('partitioned'));
    const a5 = await callInto(a, 'a5', conferenceTwiml('partitioned'));
    const room = String(joinOf(a5)!.params.ConferenceSid);
    await startTold(room);
    // A call that hangs up by itself while its node cannot reach the database.
    const d2 = await callInto(d, 'd2;hangup=1', conferenceTwiml('partitioned'));

    proxy.cut();
    const cutAt = Date.now();
    // Any of the live nodes may win the declaration.
    await until(() => started.some((node) => node !== d && node.lines.some((line) => line.includes('cleared a dead node') && line.includes(dId))), WAIT_MS, `a survivor clearing ${dId}`);
    console.log(`a node cut from the database (lease ${LEASE_MS} ms) was cleared by the survivor ${Date.now() - cutAt} ms after the cut`);
    const during = await d.request('GET', `/Calls/${d1}.json`);
    expect(during.status).toBe(503);
    expect(during.json.code).toBe(20503);
    proxy.restore();
    await d.logLine(['was declared dead by the others', `"node":"${dId}"`]);
    await d.logLine(['rejoined as a new node', `"former":"${dId}"`]);

    for (const sid of [d1, d2]) expect(await statusOf(a, sid)).toBe('completed');
    // The rejoined node takes calls; its completed callback comes after anything it owed before.
    const d3 = await callInto(d, 'd3', conferenceTwiml('partitioned'));
    await hangUp(a, d3);
    await hangUp(a, a5);
    await until(() => [d1, d2, d3, a5].every((sid) => completedOf(sid).length > 0), WAIT_MS, 'every completed callback');
    await until(() => callbacksOf(room).some((r) => r.params.StatusCallbackEvent === 'conference-end'), WAIT_MS, "partitioned's conference-end");
    for (const sid of [d1, d2]) {
      expect(completedOf(sid), `completed callbacks of ${sid}`).toHaveLength(1);
      expect(leavesOf(sid), `participant-leave callbacks of ${sid}`).toHaveLength(1);
    }
    const numbers = callbacksOf(room).map((r) => Number(r.params.SequenceNumber));
    expect(numbers).toEqual(numbers.map((_n, i) => i + 1));
  }, TEST_MS);
});
