/**
 * MP3 heard end to end, through the public API only: a real Conclave (port 0, SQLite) fetches
 * MP3 files that lame made at test time from a real HTTP server, and simulated endpoints with
 * `;record` hear them — a `<Play>` of an MP3 in a call's TwiML, and an MP3 HoldUrl played to a
 * held participant. What they heard is read back from `…/Calls/{CallSid}/SimulatedAudio.wav`
 * and checked with the Goertzel filter, polling until the tone is there.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { framesWithTone, meanAmplitude as amplitude } from '../media/goertzel.js';
import { encodeWav, lameMp3, sine } from '../audio/wav-helpers.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

/** Level of the tones in the MP3s (8000 of 32768, as the WAV tests of simulated-audio use). */
const LEVEL = 8000 / 32768;
/** 1 s of 1 kHz as most MP3s come: 44.1 kHz stereo, 128 kbit/s. */
const PLAY_MP3 = lameMp3(encodeWav({ rate: 44100, encoding: 's16', channels: [sine(1000, 44100, 1, LEVEL), sine(1000, 44100, 1, LEVEL)] }), ['-b', '128']);
/** 1 s of 800 Hz as telephone prompts may come: 8 kHz mono, so it loops with no resampling edge. */
const HOLD_MP3 = lameMp3(encodeWav({ rate: 8000, encoding: 's16', channels: [sine(800, 8000, 1, LEVEL)] }), ['-b', '32', '--resample', '8']);

describe('MP3 heard by simulated endpoints', () => {
  let t: TestApp;
  let web: Receiver;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    web = await startReceiver((request, response) => {
      const path = request.path.split('?')[0]!;
      const body = path === '/tone.mp3' ? PLAY_MP3 : path === '/hold.mp3' ? HOLD_MP3 : undefined;
      if (body === undefined) return answer(response, 404, 'text/plain', 'not found');
      response.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': body.length });
      response.end(body);
    });
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const calls = (): string => `/2010-04-01/Accounts/${t.accountSid}/Calls`;

  /** What a `;record` endpoint has heard so far, as a user fetches it. */
  async function recording(callSid: string): Promise<Int16Array> {
    const res = await fetch(`${t.baseUrl}${calls()}/${callSid}/SimulatedAudio.wav`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    const wav = new Uint8Array(await res.arrayBuffer()).slice(44);
    return new Int16Array(wav.buffer, 0, Math.floor(wav.length / 2));
  }

  it('plays an MP3 with <Play> to the callee', async () => {
    const sid = await placeCall(t, 'sim:carol;record', `<Response><Play>${web.baseUrl}/tone.mp3</Play><Pause length="10"/></Response>`);
    // Poll until the whole second of tone has been heard and is over, however long the fetch took.
    const tone = await vi.waitFor(
      async () => {
        const pcm = await recording(sid);
        const frames = framesWithTone(pcm, 1000, 3000);
        expect(frames.length).toBeGreaterThan(0);
        expect(frames.at(-1)!).toBeLessThan(pcm.length / 160 - 10);
        return frames;
      },
      { timeout: 15_000, interval: 100 },
    );
    // 1 s is 50 frames of 20 ms: one stretch, played once, at the MP3's level.
    expect(tone.length).toBeGreaterThanOrEqual(45);
    expect(tone.at(-1)! - tone[0]!).toBeLessThan(55);
    const pcm = await recording(sid);
    const middle = pcm.subarray((tone[0]! + 10) * 160, (tone.at(-1)! - 10) * 160);
    expect(amplitude(middle, 1000)).toBeGreaterThan(7000);
    expect(amplitude(middle, 500)).toBeLessThan(100);
  });

  it('plays an MP3 HoldUrl to a held participant, looped, instead of the room', async () => {
    const room = '<Response><Dial><Conference beep="false">mp3-hold</Conference></Dial></Response>';
    const started = t.app.bus.next((e) => e.type === 'start');
    const amy = await placeCall(t, 'sim:amy;record', room);
    await placeCall(t, 'sim:ben;tone=600', room);
    const cf = (await started).conference.sid;
    // Ben is heard first, so what follows the hold is told apart from the room.
    await vi.waitFor(async () => expect(amplitude((await recording(amy)).slice(-4000), 600)).toBeGreaterThan(4000), { timeout: 15_000, interval: 100 });

    const held = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}/Participants/${amy}.json`, {
      form: { Hold: 'true', HoldUrl: `${web.baseUrl}/hold.mp3` },
    });
    expect(held.status, held.body).toBe(200);
    // Wait until every frame of the last 1.5 s (the 1 s file and a loop) is the hold tone.
    const frames = (pcm: Int16Array): Int16Array[] => Array.from({ length: Math.floor(pcm.length / 160) }, (_, i) => pcm.subarray(i * 160, i * 160 + 160));
    const tail = await vi.waitFor(
      async () => {
        const last = (await recording(amy)).slice(-12_000);
        expect(last.length).toBe(12_000);
        expect(frames(last).every((f) => amplitude(f, 800) > 5000)).toBe(true);
        return last;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(amplitude(tail, 800)).toBeGreaterThan(7000);
    expect(amplitude(tail, 600)).toBeLessThan(200);
  });
});
