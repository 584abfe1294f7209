/**
 * Issue 11 §1, the case that hurt most: ONE node on PostgreSQL, killed with -9 and started
 * again. The calls it ran are not live any more, yet the store says `in-progress`; the new
 * process is another node (a new id), which finds the old one's lease lapsed and clears it as
 * any survivor would: the calls complete (each `completed` callback once), the participants
 * leave, the conference ends — and a caller of the same name afterwards starts a new
 * conference instead of joining a room full of ghosts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { dropSchema, newSchemaName, nodeDatabaseUrl, startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const CALLS = 20;
const LEASE_MS = 1500;

describe('a single node on PostgreSQL restarted after kill -9', () => {
  const schema = newSchemaName();
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  let receiver: Receiver;
  const processes: NodeProcess[] = [];

  const start = async (): Promise<NodeProcess> => {
    const node = await startNodeProcess({
      accountSid,
      authToken,
      env: { CONCLAVE_DATABASE: nodeDatabaseUrl(schema), CONCLAVE_NODE_LEASE_MS: String(LEASE_MS) },
    });
    processes.push(node);
    return node;
  };

  beforeAll(async () => {
    receiver = await startReceiver((_request, response) => answer(response, 204, 'text/plain', ''));
  });

  afterAll(async () => {
    await Promise.all(processes.map((node) => node.close()));
    await receiver?.close();
    await dropSchema(schema);
  }, 60_000);

  it('clears the calls of its former self: completed once each, participants gone, the conference ended; a new caller starts afresh', async () => {
    const first = await start();
    const room = `<Response><Dial><Conference statusCallback="${receiver.baseUrl}/conference" statusCallbackEvent="start end join leave">ghosts</Conference></Dial></Response>`;
    const callSids: string[] = [];
    for (let i = 0; i < CALLS; i++) {
      const created = await first.request('POST', '/Calls.json', {
        To: `sim:caller${i}`,
        From: '+15005550006',
        Twiml: room,
        StatusCallback: `${receiver.baseUrl}/status`,
        StatusCallbackEvent: 'completed',
      });
      expect(created.status, created.body).toBe(201);
      callSids.push(String(created.json.sid));
    }
    const conferenceSid = await until(async () => {
      const list = await first.request('GET', '/Conferences.json?FriendlyName=ghosts&Status=in-progress');
      const sid = (list.json.conferences as Array<{ sid: string }>)[0]?.sid;
      if (sid === undefined) return false;
      const participants = await first.request('GET', `/Conferences/${sid}/Participants.json?PageSize=50`);
      return (participants.json.participants as unknown[]).length === CALLS && sid;
    }, 20_000, `${CALLS} participants in the conference`);

    expect(await first.kill('SIGKILL')).toBeNull();
    const killedAt = Date.now();
    const second = await start();

    // Every old call completed, by the new process, within the lease and a few checks.
    await until(async () => {
      const statuses = await Promise.all(callSids.map(async (sid) => (await second.request('GET', `/Calls/${sid}.json`)).json.status));
      return statuses.every((status) => status === 'completed');
    }, 20_000, 'the dead process\'s calls completed');
    const clearedMs = Date.now() - killedAt;
    expect(clearedMs).toBeLessThan(15_000);
    const conference = await second.request('GET', `/Conferences/${conferenceSid}.json`);
    expect(conference.json.status).toBe('completed');
    const left = await second.request('GET', `/Conferences/${conferenceSid}/Participants.json`);
    expect(left.json.participants).toEqual([]);

    // Each call's completed callback once; each participant's leave once; the conference's end once.
    await until(() => receiver.requests.some((r) => r.path === '/conference' && r.params.StatusCallbackEvent === 'conference-end'), 10_000, 'conference-end');
    const completed = receiver.requests.filter((r) => r.path === '/status' && r.params.CallStatus === 'completed').map((r) => r.params.CallSid);
    expect(completed.sort()).toEqual([...callSids].sort());
    const leaves = receiver.requests.filter((r) => r.path === '/conference' && r.params.StatusCallbackEvent === 'participant-leave').map((r) => r.params.CallSid);
    expect(leaves.sort()).toEqual([...callSids].sort());
    expect(receiver.requests.filter((r) => r.path === '/conference' && r.params.StatusCallbackEvent === 'conference-end')).toHaveLength(1);

    // A caller of the same conference name now starts a new conference.
    const fresh = await second.request('POST', '/Calls.json', { To: 'sim:newcomer', From: '+15005550006', Twiml: room });
    expect(fresh.status, fresh.body).toBe(201);
    const newSid = await until(async () => {
      const list = await second.request('GET', '/Conferences.json?FriendlyName=ghosts');
      const live = (list.json.conferences as Array<{ sid: string; status: string }>).find((c) => c.status !== 'completed');
      return live?.sid;
    }, 10_000, 'a new conference');
    expect(newSid).not.toBe(conferenceSid);
    const participants = await second.request('GET', `/Conferences/${newSid}/Participants.json`);
    expect((participants.json.participants as Array<{ call_sid: string }>).map((p) => p.call_sid)).toEqual([fresh.json.sid]);
  }, 90_000);
});
