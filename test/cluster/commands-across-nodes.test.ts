/**
 * Issue 11 §2, "a change made anywhere takes effect where the call is": three nodes on one
 * PostgreSQL schema (test-nodes.ts). The calls are `sim:` endpoints placed through node B, so B
 * runs their media; the changes are made through node A's API (and C's), and what B's calls
 * hear, what both nodes' APIs answer and what the webhook receiver gets is asserted — as a user
 * of a deployment behind a load balancer would see it, whichever node their request reached.
 *
 * Most audible checks have their talkers and listener on B, so that what they assert is the
 * change reaching the call's node; one has them on different nodes, heard through the
 * conference trunks (conference-trunks.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav, sine } from '../audio/wav-helpers.js';
import { meanAmplitude } from '../media/goertzel.js';
import { TEST_POSTGRES_URL } from '../helpers/stores.js';
import { startTestNodes, type TestNode, type TestNodes } from '../helpers/test-nodes.js';
import { untilHearing as untilHears } from '../helpers/hearing.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';

type Json = Record<string, unknown>;

/** A PCM16 mono WAV of a sine at 8 kHz at the level of a `sim:…;tone=` voice (8000). */
const toneWav = (hz: number, seconds: number): Uint8Array => encodeWav({ rate: 8000, encoding: 's16', channels: [sine(hz, 8000, seconds, 8000 / 32768)] });

/**
 * The tones of the tests: two talkers, hold music, two announcements, and what plays after a
 * conference — multiples of 50 Hz, the Goertzel bins of a 160-sample frame, so one does not leak
 * into another's bin.
 */
const TALKER = 400;
const OTHER_TALKER = 600;
const HOLD_MUSIC = 800;
const CHIME = 1000;
const WHISPER = 1200;
const AFTER = 1500;

/** A tone heard at its level (8000) gives ~8000 (less while mixed with another); nothing gives a few tens. */
const HEARD = 3000;
const SILENT = 300;
/** The window a "hears now" check looks at: the last half second of the recording. */
const WINDOW = 4000;

const ALL_EVENTS = 'start end join leave mute hold modify speaker announcement';

describe('a change made through any node takes effect on the node that runs the call', () => {
  let cluster: TestNodes;
  let A: TestNode;
  let B: TestNode;
  let C: TestNode;
  let web: Receiver;
  let db: pg.Client;

  beforeAll(async () => {
    cluster = await startTestNodes(3);
    [A, B, C] = cluster.nodes as [TestNode, TestNode, TestNode];
    const docs = new Map<string, { type: string; body: Uint8Array }>([
      ['/hold.wav', { type: 'audio/wav', body: toneWav(HOLD_MUSIC, 1) }],
      ['/chime.wav', { type: 'audio/wav', body: toneWav(CHIME, 1.5) }],
      ['/whisper.wav', { type: 'audio/wav', body: toneWav(WHISPER, 1.5) }],
      ['/after.wav', { type: 'audio/wav', body: toneWav(AFTER, 1) }],
    ]);
    web = await startReceiver((request, response) => {
      const path = request.path.split('?')[0]!;
      if (path === '/announce.xml') return answer(response, 200, 'text/xml', `<Response><Play>${web.baseUrl}/chime.wav</Play></Response>`);
      if (path === '/after.xml') return answer(response, 200, 'text/xml', `<Response><Play loop="0">${web.baseUrl}/after.wav</Play></Response>`);
      // A hold document that plays a second of silence: fetched again each second while it plays.
      if (path === '/race.xml') return answer(response, 200, 'text/xml', '<Response><Pause length="1"/></Response>');
      if (path === '/whisper.xml') return answer(response, 200, 'text/xml', `<Response><Play>${web.baseUrl}/whisper.wav</Play></Response>`);
      const doc = docs.get(path);
      if (!doc) return answer(response, 204, 'text/plain', '');
      response.writeHead(200, { 'content-type': doc.type });
      response.end(doc.body);
    });
    db = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await cluster?.close();
    await web?.close();
  });

  const api = (node: TestNode): string => `/2010-04-01/Accounts/${node.accountSid}`;

  /** Places a call through `node`'s API; its node runs it. */
  async function place(node: TestNode, to: string, twiml: string, form: Record<string, string> = {}): Promise<string> {
    const res = await node.request('POST', `${api(node)}/Calls.json`, { form: { To: to, From: '+15005550006', Twiml: twiml, ...form } });
    expect(res.status, res.body).toBe(201);
    return res.json<{ sid: string }>().sid;
  }

  const room = (name: string, attributes = ''): string => `<Response><Dial><Conference beep="false"${attributes}>${name}</Conference></Dial></Response>`;

  /** The conference's SID once `count` participants are connected, as `node` lists them. */
  async function conferenceOf(node: TestNode, name: string, count: number, status = 'in-progress'): Promise<string> {
    let seen = 'no conference';
    return until(
      async () => {
        const res = await node.request('GET', `${api(node)}/Conferences.json?FriendlyName=${encodeURIComponent(name)}`);
        const conference = res.json<{ conferences: Json[] }>().conferences[0];
        if (!conference) return false;
        const participants = await participantsOf(node, conference.sid as string);
        seen = `${conference.status as string}: ${participants.map((p) => `${p.call_sid as string} ${p.status as string}`).join(', ')}`;
        return conference.status === status && participants.filter((p) => p.status === 'connected').length === count && (conference.sid as string);
      },
      15_000,
      () => `${name} ${status} with ${count} participants connected (last: ${seen})`,
      50,
    );
  }

  async function participantsOf(node: TestNode, conferenceSid: string): Promise<Json[]> {
    const res = await node.request('GET', `${api(node)}/Conferences/${conferenceSid}/Participants.json?PageSize=100`);
    expect(res.status, res.body).toBe(200);
    return res.json<{ participants: Json[] }>().participants;
  }

  async function participant(node: TestNode, conferenceSid: string, callSid: string): Promise<Json> {
    const res = await node.request('GET', `${api(node)}/Conferences/${conferenceSid}/Participants/${callSid}.json`);
    expect(res.status, res.body).toBe(200);
    return res.json();
  }

  /**
   * The participant as `node` answers it, once it matches `expected`. A node other than the one
   * the change went through may answer a single participant from its read cache for a few
   * milliseconds after the change has committed (the cache is invalidated by a NOTIFY: store/
   * participant-cache.ts); lists are always read from the database.
   */
  async function participantSeen(node: TestNode, conferenceSid: string, callSid: string, expected: Json): Promise<Json> {
    let last: Json = {};
    await until(
      async () => {
        last = await participant(node, conferenceSid, callSid);
        return Object.entries(expected).every(([key, value]) => last[key] === value);
      },
      5_000,
      () => `node ${node.index} to answer ${callSid} with ${JSON.stringify(expected)} (last: ${JSON.stringify(last)})`,
    );
    return last;
  }

  async function updateParticipant(node: TestNode, conferenceSid: string, callSid: string, form: Record<string, string>): Promise<Json> {
    const res = await node.request('POST', `${api(node)}/Conferences/${conferenceSid}/Participants/${callSid}.json`, { form });
    expect(res.status, res.body).toBe(200);
    return res.json();
  }

  async function call(node: TestNode, callSid: string): Promise<Json> {
    const res = await node.request('GET', `${api(node)}/Calls/${callSid}.json`);
    expect(res.status, res.body).toBe(200);
    return res.json();
  }

  /** What a `sim:…;record` endpoint has heard so far, fetched through `node` (whichever runs the call). */
  async function recording(node: TestNode, callSid: string): Promise<Int16Array> {
    const authorization = `Basic ${Buffer.from(`${node.accountSid}:${node.authToken}`).toString('base64')}`;
    const res = await fetch(`${node.baseUrl}${api(node)}/Calls/${callSid}/SimulatedAudio.wav`, { headers: { authorization } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const samples = new Uint8Array(await res.arrayBuffer()).slice(44);
    return new Int16Array(samples.buffer, 0, Math.floor(samples.length / 2));
  }

  /** Waits until the last half second `callSid` heard (read through `via`) has `heard` and not `silent`. */
  async function untilHearing(callSid: string, heard: readonly number[], silent: readonly number[], via: TestNode = A): Promise<void> {
    await untilHears(() => recording(via, callSid), callSid, heard, silent, { heard: HEARD, silent: SILENT });
  }

  async function conference(node: TestNode, conferenceSid: string): Promise<Json> {
    const res = await node.request('GET', `${api(node)}/Conferences/${conferenceSid}.json`);
    expect(res.status, res.body).toBe(200);
    return res.json();
  }

  async function end(node: TestNode, conferenceSid: string): Promise<void> {
    const res = await node.request('POST', `${api(node)}/Conferences/${conferenceSid}.json`, { form: { Status: 'completed' } });
    expect(res.status, res.body).toBe(200);
  }

  /** The webhook requests to `path`, in the order they arrived. */
  const callbacksTo = (path: string): ReceivedRequest[] => web.requests.filter((r) => r.path === path);

  /** Every change committed so far has been told by every node that had something to tell. */
  async function settled(): Promise<void> {
    for (const node of cluster.nodes) if (!node.app.services.commands.closed) await node.app.callbacks.idle();
  }

  /** The rows of `node_commands` addressed to the node, whatever their state. */
  async function commandsFor(nodeId: string): Promise<Json[]> {
    return (await db.query(`select seq, kind, state from ${cluster.schema}.node_commands where node_id = $1`, [nodeId])).rows as Json[];
  }

  /** The loudest 0.1 s of `hz` in `pcm`. */
  function loudest(pcm: Int16Array, hz: number): number {
    let max = 0;
    for (let i = 0; i + 800 <= pcm.length; i += 400) max = Math.max(max, meanAmplitude(pcm.subarray(i, i + 800), hz));
    return max;
  }

  /** Waits until `callSid` has heard `hz` in some 0.1 s after sample `from`; resolves with where (samples after `from`). */
  async function untilHeardSince(callSid: string, from: number, hz: number): Promise<number> {
    return until(async () => {
      const pcm = (await recording(A, callSid)).subarray(from);
      for (let i = 0; i + 800 <= pcm.length; i += 400) if (meanAmplitude(pcm.subarray(i, i + 800), hz) > HEARD) return i + 800;
      return false;
    }, 15_000, `${callSid} to hear ${hz} Hz`, 100);
  }

  it('the calls placed through B run on B, and their conference is homed there', async () => {
    const talker = await place(B, `sim:t0;tone=${TALKER}`, room('home'));
    const listener = await place(B, 'sim:l0;record', room('home'));
    const cf = await conferenceOf(A, 'home', 2);
    expect((await A.store.findCall(talker))?.nodeId).toBe(B.id());
    expect((await A.store.findCall(listener))?.nodeId).toBe(B.id());
    expect((await A.store.findConference(A.accountSid, cf))?.homeNodeId).toBe(B.id());
    await untilHearing(listener, [TALKER], []);
    await end(A, cf);
  });

  it('mute and unmute through A: the answer says so, both nodes list it, and B\'s listener stops and starts hearing the talker', async () => {
    const talker = await place(B, `sim:t1;tone=${TALKER}`, room('mute'));
    await place(B, `sim:o1;tone=${OTHER_TALKER}`, room('mute'));
    const listener = await place(B, 'sim:l1;record', room('mute'));
    const cf = await conferenceOf(A, 'mute', 3);
    await untilHearing(listener, [TALKER, OTHER_TALKER], []);

    expect(await updateParticipant(A, cf, talker, { Muted: 'true' })).toMatchObject({ call_sid: talker, muted: true });
    await participantSeen(B, cf, talker, { muted: true });
    for (const node of [A, B]) {
      const mutedList = await node.request('GET', `${api(node)}/Conferences/${cf}/Participants.json?Muted=true`);
      expect(mutedList.json<{ participants: Json[] }>().participants.map((p) => p.call_sid)).toEqual([talker]);
    }
    // The other talker goes on being heard: the listener's recording runs, only the muted one is gone.
    await untilHearing(listener, [OTHER_TALKER], [TALKER]);

    expect(await updateParticipant(A, cf, talker, { Muted: 'false' })).toMatchObject({ muted: false });
    await participantSeen(B, cf, talker, { muted: false });
    await untilHearing(listener, [TALKER, OTHER_TALKER], []);
    await end(A, cf);
  });

  it('hold and unhold through A and C: HoldUrl music, or the default, plays on B; the held one is not heard', async () => {
    const talker = await place(B, `sim:t2;tone=${TALKER}`, room('hold'));
    const other = await place(B, `sim:o2;tone=${OTHER_TALKER}`, room('hold'));
    const listener = await place(B, 'sim:l2;record', room('hold'));
    const cf = await conferenceOf(A, 'hold', 3);
    await untilHearing(listener, [TALKER, OTHER_TALKER], []);

    // The listener on hold hears its HoldUrl's music, played by B (a command from A), and not the room.
    const held = await updateParticipant(A, cf, listener, { Hold: 'true', HoldUrl: `${web.baseUrl}/hold.wav` });
    expect(held).toMatchObject({ call_sid: listener, hold: true });
    await participantSeen(B, cf, listener, { hold: true });
    await untilHearing(listener, [HOLD_MUSIC], [TALKER, OTHER_TALKER]);
    expect(await updateParticipant(A, cf, listener, { Hold: 'false' })).toMatchObject({ hold: false });
    await untilHearing(listener, [TALKER, OTHER_TALKER], [HOLD_MUSIC]);

    // A talker on hold (the default music, through C) is heard by nobody.
    expect(await updateParticipant(C, cf, talker, { Hold: 'true' })).toMatchObject({ hold: true });
    const onHold = await B.request('GET', `${api(B)}/Conferences/${cf}/Participants.json?Hold=true`);
    expect(onHold.json<{ participants: Json[] }>().participants.map((p) => p.call_sid)).toEqual([talker]);
    await untilHearing(listener, [OTHER_TALKER], [TALKER]);
    expect(await updateParticipant(A, cf, talker, { Hold: 'false' })).toMatchObject({ hold: false });
    await untilHearing(listener, [TALKER, OTHER_TALKER], []);
    expect((await participantsOf(B, cf)).map((p) => [p.call_sid, p.hold])).toEqual(
      expect.arrayContaining([[talker, false], [other, false], [listener, false]]),
    );
    await end(A, cf);
  });

  it('a hold through A racing an unhold through C: the HoldUrl plays on B exactly when the participant ends up held', async () => {
    const racers: string[] = [];
    for (let i = 0; i < 12; i++) racers.push(await place(B, `sim:race${i}`, room('race')));
    const clock = await place(B, 'sim:clock;record', room('race'));
    const cf = await conferenceOf(A, 'race', racers.length + 1);
    const holdUrl = (sid: string): string => `/race.xml?p=${sid}`;
    const fetches = (sid: string): number => web.requests.filter((r) => r.path.startsWith(`${holdUrl(sid)}&`)).length;

    await Promise.all(
      racers.map((sid) =>
        Promise.all([
          updateParticipant(A, cf, sid, { Hold: 'true', HoldUrl: `${web.baseUrl}${holdUrl(sid)}` }),
          updateParticipant(C, cf, sid, { Hold: 'false' }),
        ]),
      ),
    );
    // As stored (the list is read from the database), whichever of the two committed last.
    const listed = await participantsOf(B, cf);
    const held = new Map(racers.map((sid) => [sid, listed.find((p) => p.call_sid === sid)?.hold === true]));
    // B has heard every change and carried out every command by now.
    await B.app.callbacks.idle();
    await B.app.services.commands.idle();
    await until(() => racers.every((sid) => !held.get(sid) || fetches(sid) > 0), 10_000, 'the HoldUrl of every held participant to be fetched');
    const before = new Map(racers.map((sid) => [sid, fetches(sid)]));
    const from = (await recording(A, clock)).length;
    await until(async () => (await recording(A, clock)).length >= from + 2.5 * 8000, 15_000, '2.5 s more of the conference', 100);
    // Fetched again and again while held; never again once not held (the unhold won).
    expect(racers.map((sid) => [held.get(sid), fetches(sid) > before.get(sid)!])).toEqual(racers.map((sid) => [held.get(sid), held.get(sid)]));
    await end(A, cf);
  });

  it('a WaitUrl through A plays on B to a participant waiting for its conference, until the conference starts', async () => {
    const waiting = await place(B, 'sim:w2;record', room('waiting', ' startConferenceOnEnter="false" waitUrl=""'));
    const cf = await conferenceOf(A, 'waiting', 1, 'init');
    await until(async () => (await recording(A, waiting)).length >= WINDOW, 15_000, 'half a second of the waiting call', 100);
    await untilHearing(waiting, [], [HOLD_MUSIC, TALKER]);
    const changed = await updateParticipant(A, cf, waiting, { WaitUrl: `${web.baseUrl}/hold.wav`, WaitMethod: 'GET' });
    expect(changed).toMatchObject({ call_sid: waiting, status: 'connected' });
    await untilHearing(waiting, [HOLD_MUSIC], []);
    // The conference starts (a participant that starts it joins through C's API, on C): the wait music stops on B.
    await place(C, 'sim:starter', room('waiting'));
    await until(async () => (await conference(B, cf)).status === 'in-progress', 10_000, 'the conference to start');
    await untilHearing(waiting, [], [HOLD_MUSIC]);
    await end(A, cf);
  });

  it('coaching through A: only the coached call hears the coach; labels and other flags are answered and seen on both nodes', async () => {
    const coach = await place(B, `sim:t3;tone=${TALKER}`, room('coach'));
    await place(B, `sim:o3;tone=${OTHER_TALKER}`, room('coach'));
    const coached = await place(B, 'sim:l3a;record', room('coach'));
    const bystander = await place(B, 'sim:l3b;record', room('coach'));
    const cf = await conferenceOf(A, 'coach', 4);
    await untilHearing(bystander, [TALKER, OTHER_TALKER], []);

    const coaching = await updateParticipant(A, cf, coach, { Coaching: 'true', CallSidToCoach: coached });
    expect(coaching).toMatchObject({ coaching: true, call_sid_to_coach: coached });
    await participantSeen(B, cf, coach, { coaching: true, call_sid_to_coach: coached });
    await untilHearing(bystander, [OTHER_TALKER], [TALKER]);
    await untilHearing(coached, [TALKER, OTHER_TALKER], []);

    expect(await updateParticipant(A, cf, coach, { Coaching: 'false' })).toMatchObject({ coaching: false, call_sid_to_coach: null });
    await participantSeen(B, cf, coach, { coaching: false, call_sid_to_coach: null });
    await untilHearing(bystander, [TALKER, OTHER_TALKER], []);

    // Dialled in through B with a label; changed through A by that label; read back through both.
    const created = await B.request('POST', `${api(B)}/Conferences/${cf}/Participants.json`, { form: { From: '+15005550006', To: 'sim:lab', Label: 'moderator' } });
    expect(created.status, created.body).toBe(201);
    const labelled = created.json<{ call_sid: string }>().call_sid;
    await until(async () => (await participantsOf(A, cf)).some((p) => p.label === 'moderator' && p.status === 'connected'), 15_000, 'the labelled participant connected');
    const changed = await updateParticipant(A, cf, 'moderator', { EndConferenceOnExit: 'true', BeepOnExit: 'true', Muted: 'true' });
    expect(changed).toMatchObject({ call_sid: labelled, label: 'moderator', end_conference_on_exit: true, muted: true });
    for (const node of [A, B]) {
      await participantSeen(node, cf, 'moderator', { call_sid: labelled, label: 'moderator', end_conference_on_exit: true, muted: true });
    }
    // Its end-on-exit, set through A, ends the conference when B's call hangs up.
    const hungUp = await A.request('POST', `${api(A)}/Calls/${labelled}.json`, { form: { Status: 'completed' } });
    expect(hungUp.json()).toMatchObject({ status: 'completed' });
    await until(async () => (await conference(B, cf)).status === 'completed', 10_000, 'the conference ended by its end-on-exit participant');
    expect((await conference(A, cf)).reason_conference_ended).toBe('participant-with-end-conference-on-exit-left');
  });

  it('an AnnounceUrl through A is heard by every call on B; a participant\'s AnnounceUrl only by that call', async () => {
    await place(B, `sim:t4;tone=${TALKER}`, room('announce'));
    const first = await place(B, 'sim:l4a;record', room('announce'));
    const second = await place(B, 'sim:l4b;record', room('announce'));
    const cf = await conferenceOf(A, 'announce', 3);
    await untilHearing(second, [TALKER], []);

    let from = await Promise.all([first, second].map(async (sid) => (await recording(A, sid)).length));
    const announced = await A.request('POST', `${api(A)}/Conferences/${cf}.json`, { form: { AnnounceUrl: `${web.baseUrl}/announce.xml` } });
    expect(announced.status, announced.body).toBe(200);
    expect(announced.json()).toMatchObject({ sid: cf, status: 'in-progress' });
    await untilHeardSince(first, from[0]!, CHIME);
    await untilHeardSince(second, from[1]!, CHIME);

    from = await Promise.all([first, second].map(async (sid) => (await recording(A, sid)).length));
    const whispered = await updateParticipant(A, cf, first, { AnnounceUrl: `${web.baseUrl}/whisper.xml` });
    expect(whispered).toMatchObject({ call_sid: first });
    const heardAt = await untilHeardSince(first, from[0]!, WHISPER);
    // The other listener's recording over the same stretch (and 1.5 s more, the whisper's length) holds none of it.
    const other = await until(async () => {
      const pcm = await recording(A, second);
      return pcm.length >= from[1]! + heardAt + 12_000 && pcm;
    }, 15_000, 'the other listener\'s recording past the whisper', 100);
    expect(loudest(other.subarray(from[1]!), WHISPER)).toBeLessThan(SILENT);
    expect(loudest(other.subarray(from[1]!), TALKER)).toBeGreaterThan(HEARD);
    await end(A, cf);
  });

  it('a kick through A takes B\'s call out (one participant-leave); its TwiML goes on after <Dial> or the call ends', async () => {
    const callback = ` statusCallback="${web.baseUrl}/kick" statusCallbackEvent="join leave"`;
    const stays = await place(B, `sim:s5;tone=${TALKER}`, room('kick', callback));
    const goesOn = await place(B, 'sim:k5a;record', `<Response><Dial><Conference beep="false"${callback}>kick</Conference></Dial><Play loop="0">${web.baseUrl}/after.wav</Play></Response>`);
    const ends = await place(B, 'sim:k5b', room('kick', callback));
    const cf = await conferenceOf(A, 'kick', 3);
    await untilHearing(goesOn, [TALKER], []);

    for (const kicked of [goesOn, ends]) {
      const res = await A.request('DELETE', `${api(A)}/Conferences/${cf}/Participants/${kicked}.json`);
      expect(res.status, res.body).toBe(204);
    }
    for (const node of [A, B]) expect((await participantsOf(node, cf)).map((p) => p.call_sid)).toEqual([stays]);
    // B's call left the room and plays what its TwiML says next.
    await untilHearing(goesOn, [AFTER], [TALKER]);
    expect(await call(B, goesOn)).toMatchObject({ status: 'in-progress' });
    await until(async () => (await call(A, ends)).status === 'completed', 10_000, 'the kicked call with nothing after <Dial> to end');
    expect(await call(B, ends)).toMatchObject({ status: 'completed' });

    await settled();
    const leaves = callbacksTo('/kick').filter((r) => r.params.StatusCallbackEvent === 'participant-leave');
    expect(leaves.map((r) => [r.params.CallSid, r.params.ReasonParticipantLeft]).sort()).toEqual(
      [[goesOn, 'participant_updated_via_api'], [ends, 'participant_updated_via_api']].sort(),
    );
    expect(await conference(B, cf)).toMatchObject({ status: 'in-progress' });

    // A participant B is still dialling is kicked through A: B cancels its call.
    const dialled = await B.request('POST', `${api(B)}/Conferences/${cf}/Participants.json`, { form: { From: '+15005550006', To: 'sim:k5c;ring=30' } });
    expect(dialled.status, dialled.body).toBe(201);
    const ringing = dialled.json<{ call_sid: string }>().call_sid;
    await until(async () => (await call(A, ringing)).status === 'ringing', 10_000, 'the dialled participant to ring');
    const kicked = await A.request('DELETE', `${api(A)}/Conferences/${cf}/Participants/${ringing}.json`);
    expect(kicked.status, kicked.body).toBe(204);
    await until(async () => (await call(B, ringing)).status === 'canceled', 10_000, 'the ringing call to be canceled');
    expect((await participantsOf(A, cf)).map((p) => p.call_sid)).toEqual([stays]);
    expect(B.app.services.calls.live(ringing)).toBeUndefined();

    // And a ringing call on B canceled through C (Status=canceled): the answer says canceled.
    const another = await place(B, 'sim:k5d;ring=30', room('kick'));
    await until(async () => (await call(C, another)).status === 'ringing', 10_000, 'the call to ring');
    const canceled = await C.request('POST', `${api(C)}/Calls/${another}.json`, { form: { Status: 'canceled' } });
    expect(canceled.status, canceled.body).toBe(200);
    expect(canceled.json()).toMatchObject({ sid: another, status: 'canceled' });

    await A.request('POST', `${api(A)}/Calls/${goesOn}.json`, { form: { Status: 'completed' } });
    await end(A, cf);
  });

  it('ending the conference through A completes B\'s calls (and C\'s); both nodes show it completed', async () => {
    const onB = [await place(B, 'sim:e6a;record', room('ending')), await place(B, `sim:e6b;tone=${TALKER}`, room('ending'))];
    const onC = await place(C, 'sim:e6c', room('ending'));
    const cf = await conferenceOf(A, 'ending', 3);
    const ended = await A.request('POST', `${api(A)}/Conferences/${cf}.json`, { form: { Status: 'completed' } });
    expect(ended.status, ended.body).toBe(200);
    expect(ended.json()).toMatchObject({ sid: cf, status: 'completed', reason_conference_ended: 'conference-ended-via-api' });
    for (const node of [A, B, C]) {
      expect(await conference(node, cf)).toMatchObject({ status: 'completed' });
      expect(await participantsOf(node, cf)).toEqual([]);
    }
    for (const sid of [...onB, onC]) {
      await until(async () => (await call(A, sid)).status === 'completed', 10_000, `${sid} to complete`);
      expect(await call(B, sid)).toMatchObject({ status: 'completed' });
    }
    // B ran them: nothing of theirs is left live there.
    await until(() => onB.every((sid) => B.app.services.calls.live(sid) === undefined), 10_000, 'B to end its calls');
  });

  it('a redirect and a hang-up through A of calls on B answer with the committed state', async () => {
    const talker = await place(B, `sim:t7;tone=${TALKER}`, room('redirect'));
    const moved = await place(B, 'sim:r7;record', room('redirect'));
    const cf = await conferenceOf(A, 'redirect', 2);
    await untilHearing(moved, [TALKER], []);

    const redirected = await A.request('POST', `${api(A)}/Calls/${moved}.json`, { form: { Url: `${web.baseUrl}/after.xml`, Method: 'GET' } });
    expect(redirected.status, redirected.body).toBe(200);
    expect(redirected.json()).toMatchObject({ sid: moved, status: 'in-progress' });
    await untilHearing(moved, [AFTER], [TALKER]);
    for (const node of [A, B]) expect((await participantsOf(node, cf)).map((p) => p.call_sid)).toEqual([talker]);

    const again = await C.request('POST', `${api(C)}/Calls/${moved}.json`, { form: { Twiml: `<Response><Play loop="0">${web.baseUrl}/hold.wav</Play></Response>` } });
    expect(again.status, again.body).toBe(200);
    await untilHearing(moved, [HOLD_MUSIC], [AFTER]);

    for (const [node, sid] of [[A, moved], [C, talker]] as const) {
      const hungUp = await node.request('POST', `${api(node)}/Calls/${sid}.json`, { form: { Status: 'completed' } });
      expect(hungUp.status, hungUp.body).toBe(200);
      expect(hungUp.json()).toMatchObject({ sid, status: 'completed' });
      expect(hungUp.json<Json>().end_time).not.toBeNull();
      expect(await call(B, sid)).toMatchObject({ status: 'completed' });
      expect(B.app.services.calls.live(sid)).toBeUndefined();
    }
    const late = await A.request('POST', `${api(A)}/Calls/${moved}.json`, { form: { Twiml: '<Response><Hangup/></Response>' } });
    expect(late.status, late.body).toBe(400);
  });

  it('across nodes: a talker on C, heard on B through the home A, is muted, held and kicked through other nodes', async () => {
    const anchor = await place(A, 'sim:x11', room('across'));
    await conferenceOf(B, 'across', 1, 'init');
    const talker = await place(C, `sim:t11;tone=${TALKER};record`, room('across'));
    const other = await place(B, `sim:o11;tone=${OTHER_TALKER}`, room('across'));
    const listener = await place(B, 'sim:l11;record', room('across'));
    const cf = await conferenceOf(A, 'across', 4);
    expect((await B.store.findConference(B.accountSid, cf))?.homeNodeId).toBe(A.id());
    expect((await B.store.findCall(talker))?.nodeId).toBe(C.id());
    await untilHearing(listener, [TALKER, OTHER_TALKER], [], C);
    await untilHearing(talker, [OTHER_TALKER], [TALKER], B);

    expect(await updateParticipant(A, cf, talker, { Muted: 'true' })).toMatchObject({ muted: true });
    await untilHearing(listener, [OTHER_TALKER], [TALKER]);
    expect(await updateParticipant(B, cf, talker, { Muted: 'false' })).toMatchObject({ muted: false });
    await untilHearing(listener, [TALKER, OTHER_TALKER], []);

    // Held through B: C plays its HoldUrl to it, and B's listener no longer hears it.
    expect(await updateParticipant(B, cf, talker, { Hold: 'true', HoldUrl: `${web.baseUrl}/hold.wav` })).toMatchObject({ hold: true });
    await untilHearing(talker, [HOLD_MUSIC], [OTHER_TALKER], A);
    await untilHearing(listener, [OTHER_TALKER], [TALKER, HOLD_MUSIC]);
    expect(await updateParticipant(A, cf, talker, { Hold: 'false' })).toMatchObject({ hold: false });
    await untilHearing(listener, [TALKER, OTHER_TALKER], []);
    await untilHearing(talker, [OTHER_TALKER], [HOLD_MUSIC], A);

    // A conference-wide announcement through C is played by the home (A) and reaches B and C.
    const from = await Promise.all([listener, talker].map(async (sid) => (await recording(A, sid)).length));
    const announced = await C.request('POST', `${api(C)}/Conferences/${cf}.json`, { form: { AnnounceUrl: `${web.baseUrl}/announce.xml` } });
    expect(announced.status, announced.body).toBe(200);
    await untilHeardSince(listener, from[0]!, CHIME);
    await untilHeardSince(talker, from[1]!, CHIME);

    const kicked = await B.request('DELETE', `${api(B)}/Conferences/${cf}/Participants/${talker}.json`);
    expect(kicked.status, kicked.body).toBe(204);
    await untilHearing(listener, [OTHER_TALKER], [TALKER]);
    await until(async () => (await call(B, talker)).status === 'completed', 10_000, 'the kicked call on C to end');

    await end(C, cf);
    for (const sid of [anchor, other, listener]) await until(async () => (await call(C, sid)).status === 'completed', 10_000, `${sid} to complete`);
  });

  it('hang-ups of one call on B through A, B and C at once all answer completed; its completed callback is sent once', async () => {
    for (let i = 0; i < 3; i++) {
      const sid = await place(B, `sim:h${i}`, '<Response><Pause length="30"/></Response>', { StatusCallback: `${web.baseUrl}/hangups`, StatusCallbackEvent: 'completed' });
      await until(async () => (await call(A, sid)).status === 'in-progress', 10_000, 'the call to be answered');
      const answers = await Promise.all([A, B, C].map((node) => node.request('POST', `${api(node)}/Calls/${sid}.json`, { form: { Status: 'completed' } })));
      expect(answers.map((res) => [res.status, res.json<Json>().status])).toEqual([[200, 'completed'], [200, 'completed'], [200, 'completed']]);
      await settled();
      expect(callbacksTo('/hangups').filter((r) => r.params.CallSid === sid).map((r) => r.params.CallStatus)).toEqual(['completed']);
    }
  });

  it('SimulatedAudio.wav of a call on B through A and C is what B recorded; a call without ;record is a 404 there too', async () => {
    const talker = await place(B, `sim:t8;tone=${TALKER}`, room('wav'));
    const listener = await place(B, 'sim:l8;record', room('wav'));
    const cf = await conferenceOf(A, 'wav', 2);
    await untilHearing(listener, [TALKER], [], C);
    await until(async () => (await recording(A, listener)).length > 8000, 15_000, 'a second of recording', 100);
    const [viaA, viaB, viaC] = [await recording(A, listener), await recording(B, listener), await recording(C, listener)];
    // Fetched one after the other from a recording that grows: each holds the one before.
    expect(viaA.length).toBeGreaterThan(8000);
    expect(viaB.length).toBeGreaterThanOrEqual(viaA.length);
    expect(viaC.length).toBeGreaterThanOrEqual(viaB.length);
    const firstDifference = (a: Int16Array, b: Int16Array): number => a.findIndex((v, i) => v !== b[i]);
    expect(firstDifference(viaA, viaB)).toBe(-1);
    expect(firstDifference(viaB, viaC)).toBe(-1);
    const none = await A.request('GET', `${api(A)}/Calls/${talker}/SimulatedAudio.wav`);
    expect(none.status, none.body).toBe(404);
    // Once the call has ended, B keeps what it heard, and A still fetches it from B.
    const hungUp = await A.request('POST', `${api(A)}/Calls/${listener}.json`, { form: { Status: 'completed' } });
    expect(hungUp.json()).toMatchObject({ status: 'completed' });
    const whole = await recording(A, listener);
    expect(whole.length).toBeGreaterThanOrEqual(viaC.length);
    expect(firstDifference(viaC, whole)).toBe(-1);
    const again = await recording(C, listener);
    expect([again.length, firstDifference(again, whole)]).toEqual([whole.length, -1]);
    await end(A, cf);
  });

  it('conference callbacks of changes made through A, B and C arrive once each, numbered 1, 2, 3… in order', async () => {
    const callback = ` statusCallback="${web.baseUrl}/numbered" statusCallbackEvent="${ALL_EVENTS}"`;
    // C's call comes first, so C is the conference's home and sends its callbacks; B runs the
    // other two calls; the changes come through all three.
    const p3 = await place(C, 'sim:p3', room('numbered', callback));
    await conferenceOf(A, 'numbered', 1, 'init');
    const p1 = await place(B, `sim:p1;tone=${TALKER}`, room('numbered', callback));
    const p2 = await place(B, 'sim:p2;record', room('numbered', callback));
    const cf = await conferenceOf(A, 'numbered', 3);
    expect((await A.store.findConference(A.accountSid, cf))?.homeNodeId).toBe(C.id());

    await updateParticipant(A, cf, p1, { Muted: 'true' });
    await updateParticipant(B, cf, p1, { Muted: 'false' });
    await updateParticipant(C, cf, p2, { Hold: 'true' });
    await updateParticipant(A, cf, p2, { Hold: 'false' });
    await updateParticipant(B, cf, p3, { BeepOnExit: 'true' });
    await updateParticipant(C, cf, p1, { Coaching: 'true', CallSidToCoach: p2 });
    const announced = await A.request('POST', `${api(A)}/Conferences/${cf}.json`, { form: { AnnounceUrl: `${web.baseUrl}/announce.xml` } });
    expect(announced.status, announced.body).toBe(200);
    // At the same instant through all three: the store orders them, whichever commits first.
    await Promise.all([
      updateParticipant(A, cf, p1, { Muted: 'true' }),
      updateParticipant(B, cf, p2, { Muted: 'true' }),
      updateParticipant(C, cf, p3, { Muted: 'true' }),
    ]);
    await until(() => callbacksTo('/numbered').some((r) => r.params.StatusCallbackEvent === 'announcement-end'), 15_000, 'announcement-end');
    expect((await C.request('DELETE', `${api(C)}/Conferences/${cf}/Participants/${p3}.json`)).status).toBe(204);
    await end(B, cf);
    await until(() => callbacksTo('/numbered').some((r) => r.params.StatusCallbackEvent === 'conference-end'), 15_000, 'conference-end');
    await settled();

    const received = callbacksTo('/numbered');
    expect(received.every((r) => r.params.ConferenceSid === cf)).toBe(true);
    const numbers = received.map((r) => Number(r.params.SequenceNumber));
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    const told = (event: string, callSid?: string): number =>
      received.filter((r) => r.params.StatusCallbackEvent === event && (callSid === undefined || r.params.CallSid === callSid)).length;
    expect(told('conference-start')).toBe(1);
    for (const sid of [p1, p2, p3]) {
      expect(told('participant-join', sid)).toBe(1);
      expect(told('participant-leave', sid)).toBe(1);
      expect(told('participant-mute', sid)).toBe(sid === p1 ? 2 : 1);
    }
    expect(told('participant-unmute', p1)).toBe(1);
    expect(told('participant-hold', p2)).toBe(1);
    expect(told('participant-unhold', p2)).toBe(1);
    expect(told('participant-modify', p3)).toBe(1);
    expect(told('participant-modify', p1)).toBe(1);
    expect(told('announcement-end')).toBe(1);
    expect(told('conference-end')).toBe(1);
    const speech = received.filter((r) => String(r.params.StatusCallbackEvent).startsWith('participant-speech')).length;
    expect(received).toHaveLength(1 + 3 + 3 + 4 + 1 + 1 + 1 + 2 + 1 + 1 + speech);
  });

  it('after B stops, a hang-up through A of a call B ran answers at once with it completed; no command is left for B', async () => {
    const leaving = await cluster.addNode();
    const stays = await place(A, `sim:s9;tone=${TALKER}`, room('stopped'));
    const ran = await place(leaving, 'sim:r9;record', room('stopped'));
    await conferenceOf(A, 'stopped', 2);
    await until(async () => (await recording(A, ran)).length > 0, 10_000, 'the stopping node\'s call to record');
    const node = leaving.id();
    await leaving.close();
    const began = performance.now();
    const hungUp = await A.request('POST', `${api(A)}/Calls/${ran}.json`, { form: { Status: 'completed' } });
    expect(hungUp.status, hungUp.body).toBe(200);
    expect(hungUp.json()).toMatchObject({ sid: ran, status: 'completed' });
    expect(performance.now() - began).toBeLessThan(1000);
    expect(await commandsFor(node)).toEqual([]);
    expect((await A.store.findNode(node))?.state).toBe('left');
    // What it recorded went with it: a 404 at once, not a request to a node that is gone.
    const wavStarted = performance.now();
    const gone = await A.request('GET', `${api(A)}/Calls/${ran}/SimulatedAudio.wav`);
    expect(gone.status, gone.body).toBe(404);
    expect(performance.now() - wavStarted).toBeLessThan(1000);
    expect(await commandsFor(node)).toEqual([]);
    await A.request('POST', `${api(A)}/Calls/${stays}.json`, { form: { Status: 'completed' } });
  });

  it('a hang-up through A of a call on a node that vanished answers once the node is declared dead: completed, told once, nothing left pending', async () => {
    const vanishing = await cluster.addNode();
    const callback = ` statusCallback="${web.baseUrl}/vanished" statusCallbackEvent="join leave end"`;
    const stays = await place(B, 'sim:s10;record', room('vanished', callback));
    const ran = await place(vanishing, `sim:r10;tone=${OTHER_TALKER}`, room('vanished', callback), { StatusCallback: `${web.baseUrl}/vanished-call`, StatusCallbackEvent: 'completed' });
    const cf = await conferenceOf(A, 'vanished', 2);
    // Its call is heard on B through its trunk: it has settled in, nothing of it is still on its way.
    await untilHearing(stays, [OTHER_TALKER], []);
    const node = vanishing.id();
    await cluster.crash(vanishing);
    const began = performance.now();
    const hungUp = await A.request('POST', `${api(A)}/Calls/${ran}.json`, { form: { Status: 'completed' } });
    const tookMs = performance.now() - began;
    expect(hungUp.status, hungUp.body).toBe(200);
    expect(hungUp.json()).toMatchObject({ sid: ran, status: 'completed' });
    // Within a lease and its checks (1.5 s + a quarter), not the 10 s a request waits for an answer.
    expect(tookMs).toBeLessThan(5000);
    expect(await commandsFor(node)).toEqual([]);
    expect((await A.store.findNode(node))?.state).toBe('dead');
    for (const n of [A, B, C]) expect((await participantsOf(n, cf)).map((p) => p.call_sid)).toEqual([stays]);

    await settled();
    expect(callbacksTo('/vanished-call').filter((r) => r.params.CallSid === ran).map((r) => r.params.CallStatus)).toEqual(['completed']);
    const leaves = callbacksTo('/vanished').filter((r) => r.params.StatusCallbackEvent === 'participant-leave');
    expect(leaves.map((r) => r.params.CallSid)).toEqual([ran]);
    expect(await conference(B, cf)).toMatchObject({ status: 'in-progress' });
    await untilHearing(stays, [], [OTHER_TALKER]);
    await end(A, cf);
  });
});
