/**
 * Conclave with a real third-party SIP phone: Debian's baresip, in a network namespace, against
 * a real Conclave (REST API, SIP UDP+TCP, RTP, mixer) on the host end of the veth. What a user
 * would hear is checked with a Goertzel filter, on both sides:
 *
 * - baresip speaks a 400 Hz WAV and records what it hears (sndfile `*-dec.wav`);
 * - `sim:bob;tone=600;record` is in the same conference and records what it hears
 *   (`…/Calls/{CallSid}/SimulatedAudio.wav`, growing while the call lasts).
 *
 * 1. baresip calls Conclave's number (PCMU, PCMA; UDP, TCP): each hears the other.
 * 2. Conclave dials baresip (Create Participant): it connects; a REST mute silences it for bob
 *    within a couple of frames of the 200, unmute restores it; a kick hangs baresip up (BYE).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip, type BaresipOptions } from './helpers/baresip.js';
import { NUMBER, startConclave, type Conclave } from './helpers/conclave.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { requireTools } from './helpers/tools.js';
import { frameLevels, meanLevel, readWav, toneLevel, writeToneWav } from './helpers/wav.js';

/** baresip's voice: 400 Hz at half scale (as Conclave receives it). */
const PHONE_HZ = 400;
/** bob's voice: `sim:…;tone=600` speaks at 8000/32768 ≈ 0.24 of full scale. */
const SIM_HZ = 600;
/** A tone is "heard" above this (full scale = 1) … */
const HEARD = 0.1;
/** … and "not heard" below this (−46 dBFS). */
const QUIET = 0.005;
const RATE = 8000;

let netns: Netns;
let scratch: string;
let tone400: string;
let conclave: Conclave | undefined;
const phones: Baresip[] = [];

beforeAll(async () => {
  requireTools('baresip', 'sox', 'ip');
  scratch = await mkdtemp(join(tmpdir(), 'conclave-interop-baresip-'));
  tone400 = join(scratch, 'tone400.wav');
  // Long enough for any test: baresip hangs up when its aufile source ends; the tests hang up first.
  await writeToneWav(tone400, { freq: PHONE_HZ, seconds: 30 });
  netns = await createNetns();
}, 30_000);

beforeEach(async () => {
  conclave = await startConclave(netns);
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await conclave?.close();
  conclave = undefined;
});

afterAll(async () => {
  await netns?.destroy();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function app(): Conclave {
  if (!conclave) throw new Error('no Conclave');
  return conclave;
}

let nextPort = 5060;
async function phone(options: Omit<BaresipOptions, 'netns' | 'audioSource' | 'sipPort'>): Promise<Baresip> {
  // A fresh SIP port per phone: no listener of an earlier test can linger on it.
  const p = await startBaresip({ netns, audioSource: tone400, sipPort: nextPort, sipTrace: true, ...options });
  nextPort += 2;
  phones.push(p);
  return p;
}

/** The audio bob recorded after `from` (a sample index), once at least `seconds` of it are there. */
async function bobHeard(bob: string, from: number, seconds: number): Promise<Float32Array> {
  const all = await app().recordingUntil(bob, from + Math.round(seconds * RATE));
  return all.subarray(from);
}

/** baresip's recording of what it received (sndfile `*-dec.wav`), after it has quit (files flushed). */
async function phoneHeard(p: Baresip): Promise<Float32Array> {
  await p.stop(true);
  const [file] = await p.recordings();
  expect(file, `no *-dec.wav recording\n${p.log}`).toBeDefined();
  const wav = await readWav(file as string);
  expect(wav.sampleRate).toBe(RATE);
  return wav.samples;
}

/** The level of `hz` in a phone's recording, without its first and last 0.4 s (call setup, hangup). */
function level(samples: Float32Array, hz: number): number {
  return toneLevel({ sampleRate: RATE, channels: 1, bitsPerSample: 16, samples, seconds: samples.length / RATE }, hz, 0.4).amplitude;
}

const fmt = (levels: number[]): string => levels.map((l) => l.toFixed(3)).join(' ');

describe('baresip calls Conclave', () => {
  const cases = [
    { codec: 'pcmu', transport: 'udp' },
    { codec: 'pcma', transport: 'udp' },
    { codec: 'pcmu', transport: 'tcp' },
  ] as const;
  for (const { codec, transport } of cases) {
    it(`dials ${NUMBER} over ${transport.toUpperCase()} with ${codec.toUpperCase()}, joins the conference, and hears and is heard by a sim`, async () => {
      const c = app();
      const bob = await c.placeSim(`sim:bob;tone=${SIM_HZ};record`);
      const alice = await phone({ name: 'alice', audioCodecs: codec });

      await alice.dial(c.uri(NUMBER, transport));
      const joined = await c.waitParticipant((e) => e.type === 'join' && e.participant.callSid !== bob.callSid && e.participant.status === 'connected');
      expect(joined.conference.sid).toBe(bob.conferenceSid);
      const established = await alice.waitEvent('CALL_ESTABLISHED');
      expect(established.direction).toBe('outgoing');
      const from = (await c.recording(bob.callSid)).length;

      // bob hears baresip's 400 Hz, never its own 600 Hz.
      const heard = await bobHeard(bob.callSid, from, 1.6);
      const tail = heard.subarray(heard.length - RATE); // the last second
      expect(meanLevel(tail, PHONE_HZ), fmt(frameLevels(tail, PHONE_HZ))).toBeGreaterThan(HEARD);
      expect(meanLevel(tail, SIM_HZ)).toBeLessThan(QUIET);

      const left = c.waitParticipant((e) => e.type === 'leave' && e.participant.callSid === joined.participant.callSid);
      await alice.hangup();
      await alice.waitEvent('CALL_CLOSED');
      await left;
      const call = await c.waitCall(joined.participant.callSid);
      expect(call).toMatchObject({ direction: 'inbound', status: 'completed', to: NUMBER });

      // baresip heard bob's 600 Hz, never its own 400 Hz; in the codec it asked for, over the transport it dialled.
      const received = await phoneHeard(alice);
      expect(received.length / RATE).toBeGreaterThan(1.2);
      expect(level(received, SIM_HZ), fmt(frameLevels(received, SIM_HZ))).toBeGreaterThan(HEARD);
      expect(level(received, PHONE_HZ)).toBeLessThan(QUIET);
      expect(alice.log).toContain(`audio: Set audio encoder: ${codec.toUpperCase()} 8000Hz`);
      expect(alice.log).toContain(`audio: Set audio decoder: ${codec.toUpperCase()} 8000Hz`);
      // SIP trace: the INVITE went over the transport dialled, to Conclave's SIP port.
      expect(alice.log).toMatch(new RegExp(`^${transport.toUpperCase()} \\S+ -> ${c.sipHost.replaceAll('.', '\\.')}:${c.sipPort}\\r?\\nINVITE sip:\\${NUMBER}@`, 'm'));
    }, 20_000);
  }
});

describe('Conclave calls baresip (Create Participant)', () => {
  it('connects an auto-answering baresip; mute silences it within a couple of frames, unmute restores; a kick sends BYE', async () => {
    const c = app();
    const bob = await c.placeSim(`sim:bob;tone=${SIM_HZ};record`);
    const carol = await phone({ name: 'carol', autoAnswer: true });
    const participants = `/Conferences/${bob.conferenceSid}/Participants`;

    const created = await c.request('POST', `${participants}.json`, { From: '+15005550006', To: carol.uri, Label: 'carol' });
    expect(created.status, created.body).toBe(201);
    const callSid = created.json<{ call_sid: string }>().call_sid;
    await c.waitParticipant((e) => e.type === 'join' && e.participant.callSid === callSid && e.participant.status === 'connected');
    const established = await carol.waitEvent('CALL_ESTABLISHED');
    expect(established.direction).toBe('incoming');
    const fetched = await c.request('GET', `${participants}/${callSid}.json`);
    expect(fetched.json()).toMatchObject({ call_sid: callSid, label: 'carol', status: 'connected', muted: false });

    // bob hears carol.
    const start = (await c.recording(bob.callSid)).length;
    const before = await bobHeard(bob.callSid, start, 1);
    expect(meanLevel(before.subarray(before.length - RATE / 2), PHONE_HZ), fmt(frameLevels(before, PHONE_HZ))).toBeGreaterThan(HEARD);

    // Mute: what bob records after the 200 has no 400 Hz after a couple of frames.
    const muted = await c.request('POST', `${participants}/${callSid}.json`, { Muted: 'true' });
    expect(muted.status, muted.body).toBe(200);
    expect(muted.json()).toMatchObject({ muted: true });
    const mutedAt = (await c.recording(bob.callSid)).length;
    const whileMuted = frameLevels(await bobHeard(bob.callSid, mutedAt, 0.6), PHONE_HZ);
    expect(whileMuted.slice(2).every((l) => l < QUIET), fmt(whileMuted)).toBe(true);

    // Unmute: heard again.
    const unmuted = await c.request('POST', `${participants}/${callSid}.json`, { Muted: 'false' });
    expect(unmuted.status, unmuted.body).toBe(200);
    expect(unmuted.json()).toMatchObject({ muted: false });
    const unmutedAt = (await c.recording(bob.callSid)).length;
    const afterUnmute = frameLevels(await bobHeard(bob.callSid, unmutedAt, 0.6), PHONE_HZ);
    const settled = afterUnmute.slice(2);
    expect(settled.reduce((a, b) => a + b, 0) / settled.length, fmt(afterUnmute)).toBeGreaterThan(HEARD);

    // Kick: 204, and baresip's call is closed by Conclave's BYE.
    const left = c.waitParticipant((e) => e.type === 'leave' && e.participant.callSid === callSid);
    const kicked = await c.request('DELETE', `${participants}/${callSid}.json`);
    expect(kicked.status, kicked.body).toBe(204);
    const closed = await carol.waitEvent('CALL_CLOSED');
    expect(closed.param).toBe('Connection reset by peer'); // baresip's words for a BYE received
    expect(carol.log).toMatch(new RegExp(`^UDP ${c.sipHost.replaceAll('.', '\\.')}:${c.sipPort} -> \\S+\\r?\\nBYE sip:carol`, 'm'));
    await left;
    expect(await c.waitCall(callSid)).toMatchObject({ direction: 'outbound-api', status: 'completed' });

    // carol heard bob throughout (her mute is one-way).
    const received = await phoneHeard(carol);
    expect(level(received, SIM_HZ), fmt(frameLevels(received, SIM_HZ))).toBeGreaterThan(HEARD);
    expect(level(received, PHONE_HZ)).toBeLessThan(QUIET);
  }, 25_000);
});
