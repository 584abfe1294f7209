/**
 * Issue 15 §1 on several nodes: each node streams every node's events. Two nodes on one
 * PostgreSQL schema; a stream read from node A sees the progress of a call that node B runs,
 * the conference it joins and a mute made through B's API, with the same parameters as B's
 * own stream — the call's progress relayed on the cluster channel, the conference events
 * carried there as every node already hears them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStream, type EventStreamClient, type StreamEvent } from '../helpers/event-stream.js';
import { startTestNodes, type TestNode, type TestNodes } from '../helpers/test-nodes.js';
import { until } from '../helpers/until.js';

describe('the live event stream on several nodes', () => {
  let cluster: TestNodes;
  let A: TestNode;
  let B: TestNode;
  const streams: EventStreamClient[] = [];

  beforeAll(async () => {
    cluster = await startTestNodes(2);
    [A, B] = cluster.nodes as [TestNode, TestNode];
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await cluster?.close();
  });

  async function open(node: TestNode): Promise<EventStreamClient> {
    const stream = await openEventStream(node.baseUrl, node.accountSid, { auth: `${node.accountSid}:${node.authToken}` });
    streams.push(stream);
    return stream;
  }
  const api = (node: TestNode): string => `/2010-04-01/Accounts/${node.accountSid}`;
  const without = (events: StreamEvent[]): unknown[] => events.map((e) => ({ event: e.event, data: e.data }));

  it('streams from node A what happens on node B, as B streams it', async () => {
    const fromA = await open(A);
    const fromB = await open(B);
    // Alone in it: the conference never starts (Twilio starts one at its second participant).
    const twiml = '<Response><Dial><Conference beep="false">across</Conference></Dial></Response>';
    const res = await B.request('POST', `${api(B)}/Calls.json`, { form: { To: 'sim:far;tone=500', From: '+15005550006', Twiml: twiml } });
    expect(res.status, res.body).toBe(201);
    const callSid = res.json<{ sid: string }>().sid;

    const joined = await fromA.next((e) => e.data.StatusCallbackEvent === 'participant-join' && e.data.CallSid === callSid, 'the join on node A');
    const cf = joined.data.ConferenceSid!;
    expect((await B.request('POST', `${api(B)}/Conferences/${cf}/Participants/${callSid}.json`, { form: { Muted: 'true' } })).status).toBe(200);
    await fromA.next((e) => e.data.StatusCallbackEvent === 'participant-mute' && e.data.CallSid === callSid, 'the mute on node A');
    expect((await B.request('POST', `${api(B)}/Calls/${callSid}.json`, { form: { Status: 'completed' } })).status).toBe(200);
    await fromA.next((e) => e.data.StatusCallbackEvent === 'conference-end' && e.data.ConferenceSid === cf, 'the conference ending on node A');
    await fromA.next((e) => e.event === 'call' && e.data.CallSid === callSid && e.data.CallStatus === 'completed', 'the call completed on node A');
    await until(() => fromB.events.length === fromA.events.length, 5000, 'node B streaming as many events');

    const calls = (events: StreamEvent[]): StreamEvent[] => events.filter((e) => e.event === 'call');
    expect(calls(fromA.events).map((e) => e.data.CallStatus)).toEqual(['queued', 'ringing', 'in-progress', 'completed']);
    // Each node numbers events itself; what they say is the same.
    expect(without(calls(fromA.events))).toEqual(without(calls(fromB.events)));
    const conference = (events: StreamEvent[]): StreamEvent[] => events.filter((e) => e.event === 'conference');
    expect(conference(fromA.events).map((e) => e.data.StatusCallbackEvent)).toEqual(['participant-join', 'participant-mute', 'participant-leave', 'conference-end']);
    expect(without(conference(fromA.events))).toEqual(without(conference(fromB.events)));
    expect(fromA.events.every((e) => e.id!.split('-')[0] !== fromB.events[0]!.id!.split('-')[0])).toBe(true);
  });
});
