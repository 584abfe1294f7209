/**
 * TwiML that loops through the app, end to end: an empty `<Redirect/>` fetches the current
 * document again (`<Play>…</Play><Redirect/>`, Twilio's loop idiom), and a HoldUrl runs live —
 * each pass fetched when the one before has played, so a document that changes between fetches
 * is followed and one that ends is fetched again — until the participant is taken off hold.
 * What the simulated endpoints heard is read back from `SimulatedAudio.wav` (Goertzel).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeWav, sine } from '../audio/wav-helpers.js';
import { framesWithTone } from '../media/goertzel.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';

const LEVEL = 8000 / 32768;
/** Half a second of a tone, 8 kHz mono WAV. */
const tone = (hz: number): Uint8Array => encodeWav({ rate: 8000, encoding: 's16', channels: [sine(hz, 8000, 0.5, LEVEL)] });
const WAVS: Record<string, Uint8Array> = { '/t500.wav': tone(500), '/t1200.wav': tone(1200) };

/** The tones heard, in order, one entry per stretch (500 or 1200), from a recording. */
function stretches(pcm: Int16Array): number[] {
  const marks = [...framesWithTone(pcm, 500, 3000).map((f) => [f, 500]), ...framesWithTone(pcm, 1200, 3000).map((f) => [f, 1200])].sort((a, b) => a[0]! - b[0]!);
  const out: number[] = [];
  let last = -10;
  for (const [frame, hz] of marks) {
    if (out.at(-1) !== hz || frame! - last > 3) out.push(hz!);
    last = frame!;
  }
  return out;
}

describe('documents that loop', () => {
  let t: TestApp;
  let web: Receiver;
  let documents: Record<string, (n: number) => string>;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    documents = {};
    const counts = new Map<string, number>();
    web = await startReceiver((request, response) => {
      const path = request.path.split('?')[0]!;
      const wav = WAVS[path];
      if (wav) {
        response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
        response.end(wav);
        return;
      }
      const document = documents[path];
      if (!document) return answer(response, 404, 'text/plain', 'no such document');
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      answer(response, 200, 'text/xml', document(n));
    });
  });
  afterEach(async () => {
    await t.close();
    await web.close();
  });

  const fetches = (path: string): ReceivedRequest[] => web.requests.filter((r) => r.path.split('?')[0] === path);
  async function recording(callSid: string): Promise<Int16Array> {
    const res = await fetch(`${t.baseUrl}/2010-04-01/Accounts/${t.accountSid}/Calls/${callSid}/SimulatedAudio.wav`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` },
    });
    const wav = new Uint8Array(await res.arrayBuffer()).slice(44);
    return new Int16Array(wav.buffer, 0, Math.floor(wav.length / 2));
  }

  it('an empty <Redirect/> fetches the current document again, and follows what it has become', async () => {
    // The first pass plays 500 Hz, the second 1200 Hz, the third hangs up.
    documents['/loop'] = (n) =>
      n === 1
        ? `<Response><Play>${web.baseUrl}/t500.wav</Play><Redirect/></Response>`
        : n === 2
          ? `<Response><Play>${web.baseUrl}/t1200.wav</Play><Redirect method="GET"/></Response>`
          : '<Response><Hangup/></Response>';
    const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
      form: { To: 'sim:listener;record', From: '+15005550006', Url: `${web.baseUrl}/loop` },
    });
    const sid = created.json<{ sid: string }>().sid;
    await vi.waitFor(async () => expect((await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`)).json().status).toBe('completed'), {
      timeout: 10_000,
      interval: 50,
    });
    expect(fetches('/loop').map((r) => r.method)).toEqual(['POST', 'POST', 'GET']);
    expect(fetches('/loop').every((r) => r.params.CallSid === sid)).toBe(true);
    expect(stretches(await recording(sid))).toEqual([500, 1200]);
  });

  it('a HoldUrl runs live: each pass is fetched when the last has played, until the participant is off hold', async () => {
    // Odd passes play 500 Hz and redirect to themselves; even passes play 1200 Hz and simply end,
    // so the HoldUrl is fetched again.
    documents['/hold'] = (n) =>
      n % 2 === 1 ? `<Response><Play>${web.baseUrl}/t500.wav</Play><Redirect/></Response>` : `<Response><Play>${web.baseUrl}/t1200.wav</Play></Response>`;
    const room = '<Response><Dial><Conference beep="false">live-hold</Conference></Dial></Response>';
    const started = t.app.bus.next((e) => e.type === 'start');
    const amy = await placeCall(t, 'sim:amy;record', room);
    await placeCall(t, 'sim:ben;tone=600', room);
    const cf = (await started).conference.sid;
    const participant = `/2010-04-01/Accounts/${t.accountSid}/Conferences/${cf}/Participants/${amy}.json`;
    const held = await t.request('POST', participant, { form: { Hold: 'true', HoldUrl: `${web.baseUrl}/hold` } });
    expect(held.status).toBe(200);
    // Four passes: 500, 1200, 500, 1200 — the document followed as it changes, then fetched anew.
    const heard = await vi.waitFor(
      async () => {
        const order = stretches(await recording(amy));
        expect(order.length).toBeGreaterThanOrEqual(4);
        return order;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(heard.slice(0, 4)).toEqual([500, 1200, 500, 1200]);
    expect(fetches('/hold').length).toBeGreaterThanOrEqual(4);
    // The HoldUrl with HoldMethod's default, GET; a <Redirect/> with its own default, POST.
    expect(fetches('/hold').slice(0, 4).map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'POST']);
    expect(fetches('/hold').every((r) => r.params.CallSid === amy)).toBe(true);

    // Off hold: Amy hears Ben again, and the HoldUrl is no longer fetched.
    await t.request('POST', participant, { form: { Hold: 'false' } });
    const fetchedAtUnhold = fetches('/hold').length;
    await vi.waitFor(
      async () => {
        const pcm = await recording(amy);
        expect(framesWithTone(pcm.subarray(-8000), 600, 3000).length).toBeGreaterThan(40);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(fetches('/hold').length).toBeLessThanOrEqual(fetchedAtUnhold + 1);
  });
});
