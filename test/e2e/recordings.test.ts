/**
 * Recording end to end (issue 13), as an app sees it: a conference recorded from its start with
 * two tone participants (the WAV holds both tones for as long as the conference lasted, the MP3
 * decodes to the same), a call recorded in dual channels (each side on its own channel),
 * pausing `Twilio.CURRENT` with silence or skip, `<Record>` ended by a key, `<Dial record>`
 * reporting its RecordingUrl, the recording status callbacks' parameters, and delete.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { meanAmplitude } from '../media/goertzel.js';
import { aRecording } from '../helpers/fixtures.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { restException, twilioClient } from '../helpers/twilio-client.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver, type ReceivedRequest, type TwimlRoutes } from '../helpers/webhook-receiver.js';

interface Wav {
  channels: number;
  rate: number;
  /** One Int16Array per channel. */
  samples: Int16Array[];
}

/** A PCM16 WAV (44-byte header, as Conclave writes it), split into channels. */
function parseWav(bytes: Uint8Array): Wav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('RIFF');
  const channels = view.getUint16(22, true);
  const rate = view.getUint32(24, true);
  const dataSize = view.getUint32(40, true);
  const frames = Math.floor(dataSize / 2 / channels);
  const samples = Array.from({ length: channels }, () => new Int16Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) samples[c]![i] = view.getInt16(44 + (i * channels + c) * 2, true);
  return { channels, rate, samples };
}

describe('recordings', () => {
  let t: TestApp;
  let web: Receiver;
  let app: TwimlRoutes;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    ({ web, routes: app } = await startTwimlApp());
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const api = (): string => `/2010-04-01/Accounts/${t.accountSid}`;
  const callbacks = (path: string): ReceivedRequest[] => web.requests.filter((r) => r.path === path);
  async function media(sid: string, extension = ''): Promise<{ type: string | null; bytes: Uint8Array }> {
    const res = await fetch(`${t.baseUrl}${api()}/Recordings/${sid}${extension}`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    return { type: res.headers.get('content-type'), bytes: body };
  }
  async function completed(path: string, count = 1): Promise<ReceivedRequest[]> {
    await until(() => callbacks(path).filter((r) => r.params.RecordingStatus === 'completed').length >= count, 20_000, () => `${count} completed on ${path}; got ${JSON.stringify(callbacks(path).map((r) => r.params.RecordingStatus))}`);
    return callbacks(path).filter((r) => r.params.RecordingStatus === 'completed');
  }
  async function conferenceSid(name: string): Promise<string> {
    return until(async () => {
      const list = await t.request('GET', `${api()}/Conferences.json?FriendlyName=${name}&Status=in-progress`);
      return list.json<{ conferences: { sid: string }[] }>().conferences[0]?.sid;
    }, 10_000, `conference ${name} in progress`);
  }

  it('records a conference from its start to its end: both voices, as WAV and as MP3', async () => {
    const room = (label: string): string =>
      `<Response><Dial><Conference record="record-from-start" recordingStatusCallback="${web.baseUrl}/rec" recordingStatusCallbackEvent="in-progress completed" participantLabel="${label}">recorded</Conference></Dial></Response>`;
    await placeCall(t, 'sim:alice;tone=400', room('alice'));
    await placeCall(t, 'sim:bob;tone=600', room('bob'));
    const cf = await conferenceSid('recorded');
    await until(() => callbacks('/rec').some((r) => r.params.RecordingStatus === 'in-progress'), 10_000, 'the recording to start');
    const started = Date.now();
    await until(() => Date.now() - started > 3000, 5000, 'three seconds of conference', 100);
    expect((await t.request('POST', `${api()}/Conferences/${cf}.json`, { form: { Status: 'completed' } })).status).toBe(200);
    const [done] = await completed('/rec');
    const sid = String(done!.params.RecordingSid);
    expect(done!.params).toMatchObject({
      AccountSid: t.accountSid,
      ConferenceSid: cf,
      RecordingSource: 'Conference',
      RecordingChannels: '1',
      RecordingUrl: `${t.baseUrl}${api()}/Recordings/${sid}`,
      ErrorCode: '0',
    });
    const seconds = Number(done!.params.RecordingDuration);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThanOrEqual(5);

    const listed = (await t.request('GET', `${api()}/Conferences/${cf}/Recordings.json`)).json<{ recordings: { sid: string; status: string; duration: string; source: string }[] }>();
    expect(listed.recordings).toEqual([expect.objectContaining({ sid, status: 'completed', duration: String(seconds), source: 'Conference' })]);

    const wavMedia = await media(sid, '.wav');
    expect(wavMedia.type).toContain('audio/x-wav');
    const wav = parseWav(wavMedia.bytes);
    expect(wav).toMatchObject({ channels: 1, rate: 8000 });
    const pcm = wav.samples[0]!;
    expect(Math.abs(pcm.length / 8000 - seconds)).toBeLessThanOrEqual(1);
    expect(meanAmplitude(pcm, 400)).toBeGreaterThan(1000);
    expect(meanAmplitude(pcm, 600)).toBeGreaterThan(1000);

    const mp3 = await media(sid, '.mp3');
    expect(mp3.type).toContain('audio/mpeg');
    const dir = mkdtempSync(join(tmpdir(), 'conclave-mp3-'));
    writeFileSync(join(dir, 'r.mp3'), mp3.bytes);
    execFileSync('lame', ['--quiet', '--decode', join(dir, 'r.mp3'), join(dir, 'r.wav')]);
    const decoded = parseWav(new Uint8Array(readFileSync(join(dir, 'r.wav'))));
    const decodedSeconds = decoded.samples[0]!.length / decoded.rate;
    expect(Math.abs(decodedSeconds - pcm.length / 8000)).toBeLessThan(0.5);
    // Resampled by the decoder perhaps, the tones are still there.
    const mono = decoded.samples[0]!;
    expect(meanAmplitude(mono.subarray(0, Math.min(mono.length, decoded.rate)), 400 * (8000 / decoded.rate))).toBeGreaterThan(500);
  });

  it('Create Participant: ConferenceRecord records the conference its participant creates, Record=true the participant\'s own call', async () => {
    const participants = `${api()}/Conferences/panel/Participants.json`;
    const first = await t.request('POST', participants, {
      form: {
        From: '+15005550006',
        To: 'sim:first;tone=400',
        ConferenceRecord: 'record-from-start',
        ConferenceRecordingStatusCallback: `${web.baseUrl}/panel`,
        Record: 'true',
        RecordingStatusCallback: `${web.baseUrl}/leg`,
      },
    });
    expect(first.status, first.body).toBe(201);
    await t.request('POST', participants, { form: { From: '+15005550006', To: 'sim:second;tone=600' } });
    const cf = await conferenceSid('panel');
    const since = Date.now();
    await until(() => Date.now() - since > 2000, 4000, 'two seconds of conference', 100);
    await t.request('POST', `${api()}/Conferences/${cf}.json`, { form: { Status: 'completed' } });
    const [mix] = await completed('/panel');
    expect(mix!.params).toMatchObject({ ConferenceSid: cf, RecordingSource: 'Conference', CallSid: '' });
    const [leg] = await completed('/leg');
    expect(leg!.params).toMatchObject({ CallSid: first.json<{ call_sid: string }>().call_sid, RecordingSource: 'OutboundAPI' });
    const pcm = parseWav((await media(String(mix!.params.RecordingSid))).bytes).samples[0]!;
    expect(meanAmplitude(pcm, 400)).toBeGreaterThan(1000);
    expect(meanAmplitude(pcm, 600)).toBeGreaterThan(1000);
  });

  it('deletes recordings older than the retention, with their files', async () => {
    const old = aRecording(t.accountSid, {}, Date.now() - 3 * 86_400_000);
    const fresh = aRecording(t.accountSid, {}, Date.now());
    const storage = t.app.services.recordingStorage;
    for (const r of [old, fresh]) {
      await t.app.store.insertRecording(r);
      const sink = await storage.create(r.sid, 1);
      sink.append(new Int16Array(8000).fill(3000));
      await sink.finish({ trim: false });
    }
    expect(await t.app.services.recordings.deleteExpired(2)).toBe(1);
    expect((await t.request('GET', `${api()}/Recordings/${old.sid}.json`)).status).toBe(404);
    expect(await storage.read(old.sid, 'wav')).toBeUndefined();
    expect((await t.request('GET', `${api()}/Recordings/${fresh.sid}.json`)).status).toBe(200);
    expect((await media(fresh.sid)).bytes.length).toBe(44 + 16_000);
  });

  it('records a call in dual channels: what it says on the first, what it hears on the second', async () => {
    await placeCall(t, 'sim:host;tone=600', '<Response><Dial><Conference beep="false">dual</Conference></Dial></Response>');
    const created = await t.request('POST', `${api()}/Calls.json`, {
      form: {
        To: 'sim:guest;tone=400;hangup=4',
        From: '+15005550006',
        Twiml: '<Response><Dial><Conference beep="false">dual</Conference></Dial></Response>',
        Record: 'true',
        RecordingChannels: 'dual',
        RecordingStatusCallback: `${web.baseUrl}/dual`,
      },
    });
    expect(created.status).toBe(201);
    const [done] = await completed('/dual');
    expect(done!.params).toMatchObject({ CallSid: created.json<{ sid: string }>().sid, RecordingChannels: '2', RecordingSource: 'OutboundAPI', RecordingTrack: 'both' });
    const wav = parseWav((await media(String(done!.params.RecordingSid))).bytes);
    expect(wav.channels).toBe(2);
    const [says, hears] = wav.samples;
    expect(meanAmplitude(says!, 400)).toBeGreaterThan(1000);
    expect(meanAmplitude(says!, 600)).toBeLessThan(200);
    expect(meanAmplitude(hears!, 600)).toBeGreaterThan(1000);
    expect(meanAmplitude(hears!, 400)).toBeLessThan(200);
  });

  it('pauses Twilio.CURRENT: with silence the time is kept as silence, with skip it is left out', async () => {
    const lengths: Record<string, number> = {};
    for (const behavior of ['silence', 'skip']) {
      const call = await t.request('POST', `${api()}/Calls.json`, {
        form: { To: `sim:p${behavior};tone=500`, From: '+15005550006', Twiml: '<Response><Pause length="30"/></Response>', Record: 'true', Trim: 'do-not-trim', RecordingStatusCallback: `${web.baseUrl}/${behavior}` },
      });
      const callSid = call.json<{ sid: string }>().sid;
      await until(async () => (await t.request('GET', `${api()}/Calls/${callSid}/Recordings.json`)).json<{ recordings: unknown[] }>().recordings.length === 1, 10_000, 'the recording');
      const step = async (form: Record<string, string>, ms: number): Promise<void> => {
        const res = await t.request('POST', `${api()}/Calls/${callSid}/Recordings/Twilio.CURRENT.json`, { form });
        expect(res.status, res.body).toBe(200);
        const since = Date.now();
        await until(() => Date.now() - since >= ms, ms + 2000, 'time to pass', 50);
      };
      const since = Date.now();
      await until(() => Date.now() - since >= 1000, 3000, 'a second of tone', 50);
      await step({ Status: 'paused', PauseBehavior: behavior }, 2000);
      await step({ Status: 'in-progress' }, 1000);
      await step({ Status: 'stopped' }, 0);
      const [done] = await completed(`/${behavior}`);
      const pcm = parseWav((await media(String(done!.params.RecordingSid))).bytes).samples[0]!;
      lengths[behavior] = pcm.length / 8000;
      await t.request('POST', `${api()}/Calls/${callSid}.json`, { form: { Status: 'completed' } });
      const silentSeconds = Array.from({ length: Math.floor(pcm.length / 160) }, (_, i) => meanAmplitude(pcm.subarray(i * 160, i * 160 + 160), 500)).filter((a) => a < 100).length * 0.02;
      // silence: about 2 s of silence between two stretches of tone; skip: the pause left out.
      if (behavior === 'silence') expect(silentSeconds).toBeGreaterThan(1.5);
      else expect(silentSeconds).toBeLessThan(0.5);
    }
    // The stretches of tone around the pause last as long as the API calls take on a loaded
    // machine, so the lengths differ by the pause give or take that: compare them loosely.
    expect(lengths.silence!).toBeGreaterThan(lengths.skip!);
    // Nothing is active any more: 404.
    const none = await t.request('POST', `${api()}/Calls/CA${'0'.repeat(32)}/Recordings/Twilio.CURRENT.json`, { form: { Status: 'paused' } });
    expect(none.status).toBe(404);
  });

  it('the official twilio library starts, pauses, resumes and stops a call recording, and fetches it', async () => {
    const client = twilioClient(t);
    const call = await client.calls.create({ to: 'sim:lib;tone=550', from: '+15005550006', twiml: '<Response><Pause length="30"/></Response>' });
    await until(async () => (await client.calls(call.sid).fetch()).status === 'in-progress', 10_000, 'the call answered');
    const started = await client.calls(call.sid).recordings.create({ recordingChannels: 'dual', recordingStatusCallback: `${web.baseUrl}/lib`, recordingStatusCallbackEvent: ['in-progress', 'completed'] });
    expect(started).toMatchObject({ callSid: call.sid, status: 'in-progress', channels: 2, source: 'StartCallRecordingAPI', track: 'both' });
    expect((await client.calls(call.sid).recordings('Twilio.CURRENT').update({ status: 'paused', pauseBehavior: 'skip' })).status).toBe('paused');
    expect((await client.calls(call.sid).recordings(started.sid).update({ status: 'in-progress' })).status).toBe('in-progress');
    const since = Date.now();
    await until(() => Date.now() - since > 1500, 3000, 'some audio', 100);
    const stopped = await client.calls(call.sid).recordings(started.sid).update({ status: 'stopped' });
    expect(['stopped', 'processing', 'completed']).toContain(stopped.status);
    await completed('/lib');
    const fetched = await client.recordings(started.sid).fetch();
    expect(fetched).toMatchObject({ sid: started.sid, status: 'completed', callSid: call.sid, channels: 2 });
    expect(Number(fetched.duration)).toBeGreaterThanOrEqual(1);
    expect((await client.recordings.list({ callSid: call.sid })).map((r) => r.sid)).toEqual([started.sid]);
    // Stopped: nothing is active any more.
    expect((await restException(() => client.calls(call.sid).recordings('Twilio.CURRENT').update({ status: 'paused' }))).status).toBe(404);
    await client.calls(call.sid).update({ status: 'completed' });
  });

  it('<Record> ends on a key and tells the action RecordingUrl, RecordingDuration and Digits', async () => {
    app.set('/voice', () => `<Response><Say>Leave a message after the beep</Say><Record maxLength="20" finishOnKey="#" action="/recorded"/><Say>not reached</Say></Response>`);
    app.set('/recorded', () => '<Response><Hangup/></Response>');
    await t.request('POST', `${api()}/Calls.json`, { form: { To: 'sim:caller;tone=450;dtmf=%23;dtmfAt=4', From: '+15005550006', Url: `${web.baseUrl}/voice` } });
    const recorded = await until(() => callbacks('/recorded')[0], 20_000, 'the Record action');
    expect(recorded.params).toMatchObject({ Digits: '#' });
    expect(String(recorded.params.RecordingUrl)).toMatch(/\/Recordings\/RE[0-9a-f]{32}$/);
    const seconds = Number(recorded.params.RecordingDuration);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(4);
    const pcm = parseWav((await media(String(recorded.params.RecordingSid))).bytes).samples[0]!;
    expect(meanAmplitude(pcm, 450)).toBeGreaterThan(1000);
  });

  it('<Dial record> tells the action RecordingUrl; a recording can be deleted, with its media', async () => {
    app.set('/voice', () => `<Response><Dial record="record-from-answer" action="/after"><Number>sim:callee;tone=700;hangup=2</Number></Dial></Response>`);
    await t.request('POST', `${api()}/Calls.json`, { form: { To: 'sim:caller2;tone=350', From: '+15005550006', Url: `${web.baseUrl}/voice` } });
    const after = await until(() => callbacks('/after')[0], 20_000, 'the Dial action');
    expect(after.params).toMatchObject({ DialCallStatus: 'completed' });
    const sid = String(after.params.RecordingSid);
    expect(after.params.RecordingUrl).toBe(`${t.baseUrl}${api()}/Recordings/${sid}`);
    const pcm = parseWav((await media(sid)).bytes).samples[0]!;
    expect(meanAmplitude(pcm, 700)).toBeGreaterThan(500);
    expect(meanAmplitude(pcm, 350)).toBeGreaterThan(500);
    expect((await t.request('DELETE', `${api()}/Recordings/${sid}.json`)).status).toBe(204);
    expect((await t.request('GET', `${api()}/Recordings/${sid}.json`)).status).toBe(404);
    const gone = await fetch(`${t.baseUrl}${api()}/Recordings/${sid}.wav`, { headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` } });
    expect(gone.status).toBe(404);
  });
});
