/**
 * Recordings when things go wrong, with a real server process: killed with SIGKILL in the middle
 * of a recording, the next start makes the file playable up to the kill and the recording ends
 * `completed` with that audio (told to its callback); a recordings directory that cannot be
 * written leaves the call going on and the recording `absent` with an error code.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { until } from '../helpers/until.js';
import { startReceiver, answer, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';
import { meanAmplitude } from '../media/goertzel.js';

describe('recordings and faults', () => {
  const nodes: NodeProcess[] = [];
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  async function receiver(): Promise<Receiver> {
    const web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', '<Response/>'));
    receivers.push(web);
    return web;
  }
  async function start(env: Record<string, string>, owner?: { accountSid: string; authToken: string }): Promise<NodeProcess> {
    const node = await startNodeProcess({ env, ...owner });
    nodes.push(node);
    return node;
  }
  const statuses = (web: Receiver): ReceivedRequest[] => web.requests.filter((r) => r.path === '/recording');

  it('kill -9 mid-recording: the next start keeps the audio up to the kill and completes the recording', async () => {
    const web = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'conclave-crash-'));
    const env = { CONCLAVE_DATABASE: join(dir, 'conclave.db') };
    const first = await start(env);
    const call = await first.request('POST', '/Calls.json', {
      To: 'sim:talker;tone=500',
      From: '+15005550006',
      Twiml: '<Response><Pause length="60"/></Response>',
      Record: 'true',
      Trim: 'do-not-trim',
      RecordingStatusCallback: `${web.baseUrl}/recording`,
      RecordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
    });
    expect(call.status).toBe(201);
    await until(() => statuses(web).some((r) => r.params.RecordingStatus === 'in-progress'), 20_000, 'the recording to start');
    const since = Date.now();
    await until(() => Date.now() - since > 5000, 7000, 'five seconds recorded', 100);
    await first.kill('SIGKILL');
    nodes.splice(nodes.indexOf(first), 1);

    const second = await start(env, first);
    const done = await until(() => statuses(web).find((r) => r.params.RecordingStatus === 'completed'), 20_000, 'the recording completed by the next start');
    // Up to the kill, less what had not reached the disk: files are written once a second.
    const seconds = Number(done.params.RecordingDuration);
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThanOrEqual(6);
    expect(done.params.CallSid).toBe(call.json.sid);
    const media = await fetch(`${second.api}/Recordings/${String(done.params.RecordingSid)}.wav`, {
      headers: { authorization: `Basic ${Buffer.from(`${first.accountSid}:${first.authToken}`).toString('base64')}` },
    });
    expect(media.status).toBe(200);
    const bytes = new Uint8Array(await media.arrayBuffer());
    const pcm = new Int16Array(bytes.buffer.slice(44, 44 + Math.floor((bytes.length - 44) / 2) * 2));
    expect(pcm.length / 8000).toBeGreaterThanOrEqual(3);
    expect(meanAmplitude(pcm, 500)).toBeGreaterThan(1000);
    await second.logLine(['left in-progress by a process that stopped abruptly']);
  });

  it('an unwritable recordings directory: the call goes on, the recording ends absent with an error code and a log line', async () => {
    const web = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'conclave-nodisk-'));
    // A directory under a regular file can never be made.
    writeFileSync(join(dir, 'file'), 'not a directory');
    const node = await start({ CONCLAVE_DATABASE: join(dir, 'conclave.db'), CONCLAVE_RECORDINGS_DIR: join(dir, 'file', 'recordings') });
    const call = await node.request('POST', '/Calls.json', {
      To: 'sim:unrecorded',
      From: '+15005550006',
      Twiml: '<Response><Pause length="30"/></Response>',
      Record: 'true',
      RecordingStatusCallback: `${web.baseUrl}/recording`,
      RecordingStatusCallbackEvent: 'absent',
    });
    const absent = await until(() => statuses(web)[0], 20_000, 'the absent callback');
    expect(absent.params).toMatchObject({ RecordingStatus: 'absent', CallSid: call.json.sid });
    expect(Number(absent.params.ErrorCode)).toBeGreaterThan(0);
    await node.logLine(['could not start']);
    expect((await node.request('GET', `/Calls/${String(call.json.sid)}.json`)).json.status).toBe('in-progress');
    const listed = await node.request('GET', `/Calls/${String(call.json.sid)}/Recordings.json`);
    expect(listed.json.recordings).toEqual([expect.objectContaining({ status: 'absent', error_code: expect.any(Number) })]);
  });
});
