/**
 * Simulated endpoints with a voice and an ear, through the public API only: `sim:` callees that
 * speak a tone and record what they hear, fetched as a WAV from `…/SimulatedAudio.wav`; `<Play>`
 * of a WAV and `<Say>` heard by the caller; talk detection told as `participant-speech-start`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { framesWithTone, meanAmplitude as amplitude } from '../media/goertzel.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/until.js';

/** A PCM16 mono WAV of a sine, for `<Play>`. */
function toneWav(hz: number, seconds: number, rate = 16000): Buffer {
  const n = Math.round(seconds * rate);
  const out = Buffer.alloc(44 + n * 2);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + n * 2, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  return out;
}

function samplesOf(wav: Uint8Array): Int16Array {
  const copy = new Uint8Array(wav.subarray(44));
  return new Int16Array(copy.buffer, 0, Math.floor(copy.length / 2));
}

describe('simulated endpoints that speak and listen', () => {
  let t: TestApp;
  let web: Receiver;
  const docs = new Map<string, { type: string; body: string | Buffer }>();

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    docs.clear();
    web = await startReceiver((request, response) => {
      const doc = docs.get(request.path.split('?')[0]!);
      if (!doc) return answer(response, 204, 'text/plain', '');
      response.writeHead(200, { 'content-type': doc.type });
      response.end(doc.body);
    });
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const calls = (): string => `/2010-04-01/Accounts/${t.accountSid}/Calls`;

  const place = (to: string, twiml: string): Promise<string> => placeCall(t, to, twiml);

  /** The listener's recording so far, as fetched by a user. */
  async function fetchRecording(callSid: string): Promise<Int16Array> {
    const res = await fetch(`${t.baseUrl}${calls()}/${callSid}/SimulatedAudio.wav`, { headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    return samplesOf(new Uint8Array(await res.arrayBuffer()));
  }

  /**
   * Polls the recording until it holds `seconds` more audio than it did when called, so what is
   * checked was recorded after the caller's condition (a talker heard) held, however slowly the
   * machine got there.
   */
  async function recordingFromNow(callSid: string, seconds: number): Promise<Int16Array> {
    const from = (await fetchRecording(callSid)).length;
    return until(async () => {
      const pcm = await fetchRecording(callSid);
      return pcm.length >= from + seconds * 8000 && pcm;
    }, 20_000, `${seconds} s more of ${callSid}'s recording`, 100);
  }

  /** Polls the recording until it holds `seconds` of audio in all. */
  function recording(callSid: string, seconds: number): Promise<Int16Array> {
    return until(async () => {
      const pcm = await fetchRecording(callSid);
      return pcm.length >= seconds * 8000 && pcm;
    }, 20_000, `${seconds} s of ${callSid}'s recording`, 100);
  }

  /** Resolves when the mixer's talk detection hears someone other than `except` (`speech-start`). */
  const speechFrom = (except?: string): Promise<unknown> =>
    t.app.bus.next((e) => e.type === 'speech-start' && 'participant' in e && e.participant.callSid !== except);

  it('two tone endpoints in a conference hear each other, never themselves; the recording is fetchable', async () => {
    const conference = '<Response><Dial><Conference beep="false">sim-room</Conference></Dial></Response>';
    const started = t.app.bus.next((e) => e.type === 'start');
    const a = await place('sim:alice;tone=400;record', conference);
    const bobSpeaks = speechFrom(a);
    await place('sim:bob;tone=600;record', conference);
    await started;
    await bobSpeaks;
    const heard = await recordingFromNow(a, 1.2);
    const tail = heard.subarray(heard.length - 8000); // the last second, all after Bob was heard
    expect(amplitude(tail, 600)).toBeGreaterThan(4000);
    expect(amplitude(tail, 400)).toBeLessThan(200);

    const missing = await t.request('GET', `${calls()}/CA00000000000000000000000000000000/SimulatedAudio.wav`);
    expect(missing.status).toBe(404);
  });

  it('a play= endpoint speaks its WAV, looped, to the others', async () => {
    docs.set('/voice.wav', { type: 'audio/wav', body: toneWav(800, 0.3, 44100) });
    const conference = '<Response><Dial><Conference beep="false">voices</Conference></Dial></Response>';
    const started = t.app.bus.next((e) => e.type === 'start');
    const listener = await place('sim:lis;record', conference);
    const talkerSpeaks = speechFrom(listener);
    await place(`sim:talker;play=${encodeURIComponent(`${web.baseUrl}/voice.wav`)}`, conference);
    await started;
    await talkerSpeaks;
    const heard = await recordingFromNow(listener, 1.2);
    // The 0.3 s file loops: the last second is the tone throughout.
    expect(amplitude(heard.subarray(heard.length - 8000), 800)).toBeGreaterThan(6000);
  });

  it('plays a WAV with <Play> and speaks with <Say> to the callee', async () => {
    docs.set('/tone.wav', { type: 'audio/wav', body: toneWav(1000, 0.6) });
    const sid = await place('sim:carol;record', `<Response><Play>${web.baseUrl}/tone.wav</Play><Say>Hello from Conclave</Say><Pause length="5"/></Response>`);
    // The 0.6 s tone (30 frames), from whenever the TwiML and the WAV had been fetched...
    let tone: number[] = [];
    for (let seconds = 1; seconds < 10; seconds += 0.5) {
      const pcm = await recording(sid, seconds);
      tone = framesWithTone(pcm, 1000, 3000);
      if (tone.length > 0 && tone.at(-1)! < pcm.length / 160 - 10) break; // heard, and over
    }
    expect(tone.length).toBeGreaterThanOrEqual(25);
    expect(tone.at(-1)! - tone[0]!).toBeLessThan(32); // one stretch, played once
    // ...then the words: the 1.75 s after the tone are speech, not silence.
    const after = (tone.at(-1)! + 1) * 160;
    const later = (await recording(sid, (after + 14000) / 8000)).subarray(after, after + 14000);
    let energy = 0;
    for (const s of later) energy += Math.abs(s);
    expect(energy / later.length).toBeGreaterThan(200);
  });

  it('plays AnnounceUrl to the whole conference and HoldUrl to a held participant', async () => {
    docs.set('/announce.xml', { type: 'text/xml', body: `<Response><Play>${web.baseUrl}/chime.wav</Play></Response>` });
    docs.set('/chime.wav', { type: 'audio/wav', body: toneWav(1000, 1) });
    docs.set('/hold.wav', { type: 'audio/wav', body: toneWav(800, 1, 8000) });
    const room = '<Response><Dial><Conference beep="false">announced</Conference></Dial></Response>';
    const started = t.app.bus.next((e) => e.type === 'start');
    const a = await place('sim:amy;record', room);
    await place('sim:ben;tone=600', room);
    const cf = (await started).conference.sid;
    const ended = t.app.bus.next((e) => e.type === 'announcement');
    const before = (await recording(a, 0.1)).length;
    const announced = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}.json`, { form: { AnnounceUrl: `${web.baseUrl}/announce.xml` } });
    expect(announced.status, announced.body).toBe(200);
    expect(await ended).toMatchObject({ outcome: 'end' });
    const heard = (await recording(a, before / 8000 + 0.2)).subarray(before);
    // Somewhere after the request, a tenth of a second of nothing but the chime (8000 = its level).
    const windows: number[] = [];
    for (let i = 0; i + 800 <= heard.length; i += 400) windows.push(amplitude(heard.subarray(i, i + 800), 1000));
    expect(Math.max(...windows)).toBeGreaterThan(6000);

    const held = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}/Participants/${a}.json`, {
      form: { Hold: 'true', HoldUrl: `${web.baseUrl}/hold.wav` },
    });
    expect(held.status, held.body).toBe(200);
    // Wait until every frame of the last half second is the hold WAV (8000 = its level): a window
    // that still straddles the moment of the hold would hold a few frames of the room.
    const frames = (pcm: Int16Array): Int16Array[] => Array.from({ length: Math.floor(pcm.length / 160) }, (_, i) => pcm.subarray(i * 160, i * 160 + 160));
    const tail = await until(async () => {
      const pcm = await recording(a, 0.5);
      const last = pcm.subarray(pcm.length - 4000);
      return frames(last).every((f) => amplitude(f, 800) > 7000) && last;
    }, 10_000, 'the hold music in every frame of the last half second', 100);
    expect(amplitude(tail, 600)).toBeLessThan(200);
  });

  it('tells talk detection as participant-speech-start to a speaker subscriber', async () => {
    const events: string[] = [];
    const receiver = await startReceiver((request, response) => {
      events.push(String(request.params.StatusCallbackEvent));
      answer(response, 204, 'text/plain', '');
    });
    try {
      const room = `<Response><Dial><Conference beep="false" statusCallback="${receiver.baseUrl}/cb" statusCallbackEvent="start speaker">talk</Conference></Dial></Response>`;
      await place('sim:dave;tone=500', room);
      await place('sim:erin', room);
      const speaking = t.app.bus.next((e) => e.type === 'speech-start');
      await speaking;
      await t.app.callbacks.idle();
      while (!events.includes('participant-speech-start')) await receiver.received(events.length + 1);
      expect(events).toContain('conference-start');
    } finally {
      await receiver.close();
    }
  });
});
