/**
 * Recordings on several nodes (issue 13): two nodes on one PostgreSQL schema sharing one
 * recordings directory, as a deployment's nodes share theirs. A conference whose callers run on
 * both nodes is recorded by its home node with every caller's voice; every node lists the
 * recording, serves its media and deletes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNodes, type TestNode, type TestNodes } from '../helpers/test-nodes.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { meanAmplitude } from '../media/goertzel.js';

describe('recordings on several nodes', () => {
  let cluster: TestNodes;
  let A: TestNode;
  let B: TestNode;
  let web: Receiver;

  beforeAll(async () => {
    cluster = await startTestNodes(2);
    [A, B] = cluster.nodes as [TestNode, TestNode];
    web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', '<Response/>'));
  });
  afterAll(async () => {
    await cluster?.close();
    await web?.close();
  });

  const api = (node: TestNode): string => `/2010-04-01/Accounts/${node.accountSid}`;
  const auth = (node: TestNode): string => `Basic ${Buffer.from(`${node.accountSid}:${node.authToken}`).toString('base64')}`;

  it('records a conference spread over two nodes, and every node serves the recording', async () => {
    const room = `<Response><Dial><Conference beep="false" record="record-from-start" recordingStatusCallback="${web.baseUrl}/rec">spread</Conference></Dial></Response>`;
    const place = async (node: TestNode, to: string): Promise<void> => {
      const res = await node.request('POST', `${api(node)}/Calls.json`, { form: { To: to, From: '+15005550006', Twiml: room } });
      expect(res.status, res.body).toBe(201);
    };
    await place(A, 'sim:onA;tone=400');
    const conference = await until(async () => {
      const list = await A.request('GET', `${api(A)}/Conferences.json?FriendlyName=spread`);
      return list.json<{ conferences: { sid: string }[] }>().conferences[0]?.sid;
    }, 10_000, 'the conference');
    await place(B, 'sim:onB;tone=600');
    const recordingSid = await until(async () => {
      const list = await B.request('GET', `${api(B)}/Conferences/${conference}/Recordings.json`);
      return list.json<{ recordings: { sid: string }[] }>().recordings[0]?.sid;
    }, 15_000, 'the recording listed through the other node');
    const since = Date.now();
    await until(() => Date.now() - since > 3000, 5000, 'three seconds of conference', 100);
    expect((await B.request('POST', `${api(B)}/Conferences/${conference}.json`, { form: { Status: 'completed' } })).status).toBe(200);
    const done = await until(() => web.requests.find((r) => r.path === '/rec'), 20_000, 'the completed callback');
    expect(done.params).toMatchObject({ RecordingSid: recordingSid, RecordingStatus: 'completed', ConferenceSid: conference });

    for (const node of [A, B]) {
      const res = await fetch(`${node.baseUrl}${api(node)}/Recordings/${recordingSid}.wav`, { headers: { authorization: auth(node) } });
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer()).slice(44);
      const pcm = new Int16Array(bytes.buffer, 0, Math.floor(bytes.length / 2));
      // Both voices, the one run by the other node through its trunk.
      expect(meanAmplitude(pcm, 400)).toBeGreaterThan(800);
      expect(meanAmplitude(pcm, 600)).toBeGreaterThan(800);
    }
    expect((await B.request('DELETE', `${api(B)}/Recordings/${recordingSid}.json`)).status).toBe(204);
    expect((await fetch(`${A.baseUrl}${api(A)}/Recordings/${recordingSid}.wav`, { headers: { authorization: auth(A) } })).status).toBe(404);
  });

  it("starts, pauses and stops a call's recording through the node that does not run the call", async () => {
    const call = await A.request('POST', `${api(A)}/Calls.json`, { form: { To: 'sim:far;tone=450', From: '+15005550006', Twiml: '<Response><Pause length="30"/></Response>' } });
    const callSid = call.json<{ sid: string }>().sid;
    await until(async () => (await B.request('GET', `${api(B)}/Calls/${callSid}.json`)).json<{ status: string }>().status === 'in-progress', 10_000, 'the call answered');
    const started = await B.request('POST', `${api(B)}/Calls/${callSid}/Recordings.json`, { form: { RecordingStatusCallback: `${web.baseUrl}/far` } });
    expect(started.status, started.body).toBe(201);
    expect(started.json()).toMatchObject({ status: 'in-progress', call_sid: callSid, source: 'StartCallRecordingAPI' });
    const since = Date.now();
    await until(() => Date.now() - since > 1500, 3000, 'some audio recorded', 100);
    const paused = await B.request('POST', `${api(B)}/Calls/${callSid}/Recordings/Twilio.CURRENT.json`, { form: { Status: 'paused' } });
    expect(paused.status, paused.body).toBe(200);
    expect(paused.json()).toMatchObject({ status: 'paused' });
    const stopped = await B.request('POST', `${api(B)}/Calls/${callSid}/Recordings/${started.json<{ sid: string }>().sid}.json`, { form: { Status: 'stopped' } });
    expect(stopped.status, stopped.body).toBe(200);
    await until(() => web.requests.find((r) => r.path === '/far'), 15_000, 'the completed callback');
    // Nothing active any more, whichever node is asked.
    expect((await B.request('POST', `${api(B)}/Calls/${callSid}/Recordings/Twilio.CURRENT.json`, { form: { Status: 'paused' } })).status).toBe(404);
    await A.request('POST', `${api(A)}/Calls/${callSid}.json`, { form: { Status: 'completed' } });
  });
});
