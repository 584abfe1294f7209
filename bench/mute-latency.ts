/**
 * Mute latency: from the REST 200 of `POST …/Participants/{CallSid}` with `Muted=true` to the
 * first frame at a listener in which the muted participant is no longer heard.
 *
 *   npx tsx bench/mute-latency.ts [--rounds 200] [--background 300]
 *
 * A whole Conclave runs in this process (SQLite in memory, HTTP and SIP on 127.0.0.1, the media
 * worker as in production). Two SIP phones dial in over real UDP: a talker speaking 600 Hz and a
 * silent listener; `--background` more participants (simulated endpoints speaking tones, in
 * conferences of 10) keep the mixer busy. Each round unmutes the talker, waits until the
 * listener hears it again, then mutes it and notes when the 200 arrived; the latency is the
 * arrival of the first of three listener frames in a row without 600 Hz (Goertzel) minus that
 * instant. A negative figure means the silent frame arrived before the client had read the 200.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { DEFAULT_MEDIA_CONFIG } from '../src/config.js';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { openStore } from '../src/store/open-store.js';
import { SipPhone } from '../test/helpers/sip-phone.js';
import { goertzel } from '../test/media/goertzel.js';

const TALKER_HZ = 600;
const HEARD = 1500;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

async function main(): Promise<void> {
  const rounds = option('rounds', 200);
  const background = option('background', 300);
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const store = await openStore(':memory:');
  const app = await createApp(
    {
      http: { host: '127.0.0.1', port: 0 },
      database: { kind: 'sqlite', path: ':memory:' },
      credentialsFile: '/nonexistent',
      logLevel: 'silent',
      sip: { host: '127.0.0.1', port: 0, publicAddress: '127.0.0.1' },
      media: { ...DEFAULT_MEDIA_CONFIG, rtpPorts: { min: 30000, max: 40000 }, rtpTimeoutMs: 0 },
    },
    { accountSid, authToken },
    { store, logger: pino({ level: 'silent' }) },
  );
  const base = await app.listen();
  const auth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const post = async (path: string, form: Record<string, string>): Promise<{ status: number; body: string }> => {
    const res = await fetch(`${base}/2010-04-01/Accounts/${accountSid}${path}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: await res.text() };
  };
  const room = (name: string): string => `<Response><Dial><Conference beep="false">${name}</Conference></Dial></Response>`;

  // Background load: simulated endpoints speaking tones, 10 to a conference.
  for (let i = 0; i < background; i++) {
    const r = await post('/Calls.json', { To: `sim:bg${i};tone=${300 + (i % 10) * 100}`, From: '+15005550006', Twiml: room(`bg-${Math.floor(i / 10)}`) });
    if (r.status !== 201) throw new Error(r.body);
  }

  // The measured conference: a silent listener and a 600 Hz talker, dialled in over SIP.
  const listener = await SipPhone.open('listener', null, { answer: true });
  const talker = await SipPhone.open('talker', TALKER_HZ, { answer: true });
  const dial = async (phone: SipPhone, label: string): Promise<string> => {
    const joined = app.bus.next((e) => e.type === 'join' && 'participant' in e && e.participant.label === label && e.participant.status === 'connected');
    const r = await post('/Conferences/measured/Participants.json', { From: '+15005550006', To: phone.uri, Label: label, Beep: 'false' });
    if (r.status !== 201) throw new Error(r.body);
    const event = await joined;
    return 'participant' in event ? event.conference.sid : '';
  };
  const conferenceSid = await dial(listener, 'listener');
  await dial(talker, 'talker');
  const participant = `/Conferences/${conferenceSid}/Participants/talker.json`;

  const hears = (since: number): Promise<boolean> =>
    new Promise((resolve) => {
      const check = (): void => {
        const frames = listener.heard.filter((f) => f.at >= since);
        if (frames.some((f) => goertzel(f.pcm, TALKER_HZ) > HEARD)) resolve(true);
        else if (performance.now() - since > 3000) resolve(false);
        else setTimeout(check, 5);
      };
      check();
    });

  const latencies: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await post(participant, { Muted: 'false' });
    if (!(await hears(performance.now()))) throw new Error('the talker is not heard after unmute');
    const r = await post(participant, { Muted: 'true' });
    const ok = performance.now();
    if (r.status !== 200) throw new Error(r.body);
    // The first frame (from just before the 200: the mute may beat the client's read) without the talker.
    // A lone silent frame may be the talker's own jitter (an underrun): the mute is the first of
    // three silent frames in a row.
    const quiet = (f: (typeof listener.heard)[number] | undefined): boolean => f !== undefined && goertzel(f.pcm, TALKER_HZ) < HEARD / 5;
    for (;;) {
      const heard = listener.heard;
      const i = heard.findIndex((f, k) => f.at >= ok - 30 && quiet(f) && quiet(heard[k + 1]) && quiet(heard[k + 2]));
      if (i !== -1) {
        latencies.push(heard[i]!.at - ok);
        break;
      }
      if (performance.now() - ok > 3000) throw new Error('the talker was never silenced');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  const f = (ms: number): string => ms.toFixed(1);
  console.log(`mute latency, REST 200 → first silent frame at a listener (${rounds} rounds, ${background} background participants):`);
  console.log(`  min ${f(latencies[0]!)} ms  p50 ${f(at(0.5))} ms  p95 ${f(at(0.95))} ms  p99 ${f(at(0.99))} ms  max ${f(latencies.at(-1)!)} ms`);
  await listener.close();
  await talker.close();
  await app.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
