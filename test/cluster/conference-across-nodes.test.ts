/**
 * Issue 11 §3, "one conference, one room, whichever nodes its calls are on": three nodes on one
 * PostgreSQL schema, each running some of a conference's calls (`sim:` endpoints placed through
 * the node that is to run them). What each call hears is read from its recording: everyone
 * hears every other talker whichever node runs it, nobody hears themselves (N-1 through the
 * trunks), a mute or a hold made through any node silences the caller on every node, and a
 * conference whose home node dies goes on among the survivors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNodes, type TestNode, type TestNodes } from '../helpers/test-nodes.js';
import { untilHearing as untilHears } from '../helpers/hearing.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver } from '../helpers/webhook-receiver.js';

type Json = Record<string, unknown>;

/** A tone heard at its level (8000) gives thousands; nothing gives a few tens. */
const HEARD = 2000;
const SILENT = 300;

describe('a conference whose calls run on several nodes', () => {
  let cluster: TestNodes;
  let A: TestNode;
  let B: TestNode;
  let C: TestNode;

  beforeAll(async () => {
    cluster = await startTestNodes(3);
    [A, B, C] = cluster.nodes as [TestNode, TestNode, TestNode];
  });

  afterAll(async () => {
    await cluster?.close();
  });

  const api = (node: TestNode): string => `/2010-04-01/Accounts/${node.accountSid}`;
  const room = (name: string, attributes = ''): string => `<Response><Dial><Conference beep="false"${attributes}>${name}</Conference></Dial></Response>`;

  /** Places a call through `node`'s API; that node runs it. */
  async function place(node: TestNode, to: string, twiml: string): Promise<string> {
    const res = await node.request('POST', `${api(node)}/Calls.json`, { form: { To: to, From: '+15005550006', Twiml: twiml } });
    expect(res.status, res.body).toBe(201);
    return res.json<{ sid: string }>().sid;
  }

  async function conferenceOf(node: TestNode, name: string, count: number): Promise<string> {
    return until(
      async () => {
        // Not yet started with one participant (init), started with two (in-progress).
        const res = await node.request('GET', `${api(node)}/Conferences.json?FriendlyName=${encodeURIComponent(name)}`);
        const sid = res.json<{ conferences: Json[] }>().conferences.find((c) => c.status !== 'completed')?.sid as string | undefined;
        if (sid === undefined) return false;
        const list = await node.request('GET', `${api(node)}/Conferences/${sid}/Participants.json?PageSize=100`);
        return list.json<{ participants: Json[] }>().participants.filter((p) => p.status === 'connected').length === count && sid;
      },
      15_000,
      `${count} participants connected in ${name}`,
      50,
    );
  }

  /** What the call heard so far, read through any node. */
  async function recording(via: TestNode, callSid: string): Promise<Int16Array> {
    const authorization = `Basic ${Buffer.from(`${via.accountSid}:${via.authToken}`).toString('base64')}`;
    const res = await fetch(`${via.baseUrl}${api(via)}/Calls/${callSid}/SimulatedAudio.wav`, { headers: { authorization } });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer()).slice(44);
    return new Int16Array(bytes.buffer, 0, Math.floor(bytes.length / 2));
  }

  async function untilHearing(callSid: string, heard: readonly number[], silent: readonly number[], via: TestNode = A): Promise<void> {
    await untilHears(() => recording(via, callSid), callSid, heard, silent, { heard: HEARD, silent: SILENT });
  }

  async function update(node: TestNode, conferenceSid: string, callSid: string, form: Record<string, string>): Promise<void> {
    const res = await node.request('POST', `${api(node)}/Conferences/${conferenceSid}/Participants/${callSid}.json`, { form });
    expect(res.status, res.body).toBe(200);
  }

  async function end(node: TestNode, conferenceSid: string): Promise<void> {
    const res = await node.request('POST', `${api(node)}/Conferences/${conferenceSid}.json`, { form: { Status: 'completed' } });
    expect(res.status, res.body).toBe(200);
  }

  it('everyone hears every other talker, on whichever node each runs, and never themselves', async () => {
    // Each talker records too: it must hear the others and not its own tone come back through a trunk.
    const a = await place(A, 'sim:a;tone=400;record', room('spread'));
    await conferenceOf(B, 'spread', 1);
    const b = await place(B, 'sim:b;tone=1000;record', room('spread'));
    const c = await place(C, 'sim:c;tone=1700;record', room('spread'));
    const cf = await conferenceOf(B, 'spread', 3);
    expect((await A.store.findConference(A.accountSid, cf))?.homeNodeId).toBe(A.id());
    await untilHearing(a, [1000, 1700], [400]);
    await untilHearing(b, [400, 1700], [1000], B);
    // C's is relayed through the home (A): B's voice reaches C by way of A's room.
    await untilHearing(c, [400, 1000], [1700], C);
    await end(C, cf);
  });

  it('a mute or a hold made through any node silences the caller on every node; the held one hears music', async () => {
    const a = await place(A, 'sim:ma;record', room('flags'));
    const b = await place(B, 'sim:mb;tone=1000;record', room('flags'));
    const c = await place(C, 'sim:mc;tone=1700;record', room('flags'));
    const cf = await conferenceOf(A, 'flags', 3);
    await untilHearing(a, [1000, 1700], []);

    // Muted through C, run on B, heard on A.
    await update(C, cf, b, { Muted: 'true' });
    await untilHearing(a, [1700], [1000]);
    await untilHearing(c, [], [1000], C);
    await update(A, cf, b, { Muted: 'false' });
    await untilHearing(a, [1000, 1700], []);

    // Held through A, run on C: nobody hears it; it no longer hears the room.
    await update(A, cf, c, { Hold: 'true' });
    await untilHearing(a, [1000], [1700]);
    await untilHearing(b, [], [1700], B);
    await untilHearing(c, [], [1000], C);
    await update(B, cf, c, { Hold: 'false' });
    await untilHearing(a, [1000, 1700], []);
    await untilHearing(c, [1000], [], C);
    await end(A, cf);
  });

  it('the calls of a node leave the room when their conference is ended through another node, and its trunk closes', async () => {
    const a = await place(A, 'sim:ea;tone=400', room('ending'));
    const b = await place(B, 'sim:eb;record', room('ending'));
    const cf = await conferenceOf(C, 'ending', 2);
    await untilHearing(b, [400], [], B);
    await end(C, cf);
    for (const sid of [a, b]) {
      await until(async () => (await A.request('GET', `${api(A)}/Calls/${sid}.json`)).json<Json>().status === 'completed', 10_000, `${sid} completed`);
    }
    // No trunk of that conference is left on either node.
    await until(() => [A, B].every((node) => node.app.media.findRoom(cf) === undefined), 10_000, 'the rooms of the ended conference gone');
  });

  it('a node that could not hear a change (an event too large for NOTIFY: a very long conference name) re-reads the conference and applies it', async () => {
    // Every event of this conference is over PostgreSQL's 8000-byte NOTIFY payload: the nodes
    // are told to re-read it instead, and B's call must still enter, be muted, and leave.
    const name = `long-${'x'.repeat(8000)}`;
    // Over the 4000 characters inline TwiML may have: fetched from a URL.
    const web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', room(name)));
    const placeUrl = async (node: TestNode, to: string): Promise<string> => {
      const res = await node.request('POST', `${api(node)}/Calls.json`, { form: { To: to, From: '+15005550006', Url: `${web.baseUrl}/room` } });
      expect(res.status, res.body).toBe(201);
      return res.json<{ sid: string }>().sid;
    };
    const a = await placeUrl(A, 'sim:la;record');
    const cf = await until(async () => {
      const res = await A.request('GET', `${api(A)}/Conferences.json?PageSize=100`);
      return res.json<{ conferences: Json[] }>().conferences.find((c) => c.friendly_name === name && c.status !== 'completed')?.sid as string | undefined;
    }, 15_000, 'the long-named conference');
    const b = await placeUrl(B, 'sim:lb;tone=1000');
    await untilHearing(a, [1000], []);
    await update(A, cf, b, { Muted: 'true' });
    await untilHearing(a, [], [1000]);
    await update(A, cf, b, { Muted: 'false' });
    await untilHearing(a, [1000], []);
    // A kick through A: B hears of it only by re-reading, and its call ends (nothing follows the Dial).
    const kicked = await A.request('DELETE', `${api(A)}/Conferences/${cf}/Participants/${b}.json`);
    expect(kicked.status, kicked.body).toBe(204);
    await until(async () => (await B.request('GET', `${api(B)}/Calls/${b}.json`)).json<Json>().status === 'completed', 10_000, 'the kicked call completed');
    await untilHearing(a, [], [1000]);
    await end(A, cf);
    await web.close();
  });

  it('a conference whose home node stops cleanly goes on among the other nodes\' calls', async () => {
    const home = await cluster.addNode();
    await place(home, 'sim:sh;tone=400', room('handover'));
    await conferenceOf(A, 'handover', 1);
    const b = await place(B, 'sim:sb;tone=1000;record', room('handover'));
    const c = await place(C, 'sim:sc;tone=1700;record', room('handover'));
    const cf = await conferenceOf(A, 'handover', 3);
    await untilHearing(b, [400, 1700], [1000], B);

    await home.close();
    const moved = await until(async () => {
      const conference = await A.store.findConference(A.accountSid, cf);
      return conference?.homeNodeId !== home.id() && conference;
    }, 20_000, 'the conference moved to a live node');
    expect(moved.status).toBe('in-progress');
    await untilHearing(b, [1700], [400, 1000], B);
    await untilHearing(c, [1000], [400, 1700], C);
    await end(B, cf);
  });

  it('a change made while a conference had no home (its home stopped cleanly) is called back by the new home', async () => {
    const home = await cluster.addNode();
    const web = await startReceiver((_request, response) => answer(response, 204, 'text/plain', ''));
    const twiml = `<Response><Dial><Conference beep="false" statusCallback="${web.baseUrl}/cb" statusCallbackEvent="start end join leave mute">left-home</Conference></Dial></Response>`;
    await place(home, 'sim:lh', twiml);
    await conferenceOf(A, 'left-home', 1);
    const b1 = await place(B, 'sim:lb1', twiml);
    await place(B, 'sim:lb2', twiml);
    const cf = await conferenceOf(A, 'left-home', 3);
    expect((await A.store.findConference(A.accountSid, cf))?.homeNodeId).toBe(home.id());
    await home.close();
    // Made before the others noticed: its callback is queued for the home that left.
    await update(A, cf, b1, { Muted: 'true' });
    await until(async () => (await A.store.findConference(A.accountSid, cf))?.homeNodeId === B.id(), 10_000, 'the home to move to B');
    await until(() => web.requests.some((r) => r.params.StatusCallbackEvent === 'participant-mute'), 10_000, 'the mute callback, from the new home');
    await end(A, cf);
    await web.close();
  });

  it('a conference whose home node dies goes on among the calls of the surviving nodes', async () => {
    const home = await cluster.addNode();
    const h = await place(home, 'sim:h;tone=400', room('orphan'));
    await conferenceOf(A, 'orphan', 1);
    const b = await place(B, 'sim:ob;tone=1000;record', room('orphan'));
    const c = await place(C, 'sim:oc;tone=1700;record', room('orphan'));
    const cf = await conferenceOf(A, 'orphan', 3);
    expect((await A.store.findConference(A.accountSid, cf))?.homeNodeId).toBe(home.id());
    await untilHearing(b, [400, 1700], [1000], B);

    await cluster.crash(home);
    // The dead node's call leaves; the conference moves to a survivor, whose room links them again.
    await until(async () => (await A.request('GET', `${api(A)}/Calls/${h}.json`)).json<Json>().status === 'completed', 20_000, 'the dead node\'s call completed');
    const moved = await until(async () => {
      const conference = await A.store.findConference(A.accountSid, cf);
      return conference?.homeNodeId !== home.id() && conference;
    }, 20_000, 'the conference moved to a live node');
    expect(moved.status).toBe('in-progress');
    expect([B.id(), C.id()]).toContain(moved.homeNodeId);
    await untilHearing(b, [1700], [400, 1000], B);
    await untilHearing(c, [1000], [400, 1700], C);
    await end(B, cf);
  });
});
