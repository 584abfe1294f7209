/**
 * The keypad (issue 12) with real third-party SIP peers in a network namespace, against a real
 * Conclave (REST API, SIP, RTP, webhooks) on the host end of the veth:
 *
 * 1. sipp calls Conclave's number and presses keys as RFC 4733 telephone-events (a capture
 *    replayed with `play_pcap_audio`, keypad-pcap.ts): `<Gather numDigits="4" action="/pin">`
 *    posts the PIN to /pin; `<Dial hangupOnStar>` into a conference: `*` leaves it and the
 *    Dial's action runs.
 * 2. baresip calls the number and sends the PIN with its `sndcode` command (RFC 4733, which it
 *    always negotiates): the same Gather posts it.
 * 3. In-band keys: baresip 1.0.0 offers telephone-event in every SDP (no setting removes it;
 *    checked with its SIP trace), so the line without it is sipp's: an SDP with PCMU alone and
 *    the keys as Q.23 tones in the audio. Conclave's in-band detector gives the Gather its PIN.
 * 4. Conclave sends keys: `<Play digits="1234#"/>` on a call to an auto-answering baresip,
 *    which reports each telephone-event it receives (CALL_DTMF_START on ctrl_tcp, "received
 *    DTMF" in its log); and to a sipp UAS whose SDP answer has no telephone-event, with its media
 *    pointed at a socket of this test: the keys are in the audio, as tones (test/helpers/dtmf.ts
 *    decodes them independently of Conclave's detector).
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeMulaw } from '../../src/media/codec/g711.js';
import { parseRtp } from '../../src/media/rtp/rtp-packet.js';
import { keysInAudio } from '../helpers/dtmf.js';
import { until } from '../helpers/until.js';
import type { ReceivedRequest } from '../helpers/webhook-receiver.js';
import { startBaresip, type Baresip } from './helpers/baresip.js';
import { NUMBER, startConclave, type Conclave } from './helpers/conclave.js';
import { writeKeypadPcap, type KeypadStreamOptions } from './helpers/keypad-pcap.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { keypadUacScenario, plainAudioUasScenario, waitListening } from './helpers/scenarios.js';
import { runSipp, type SippResult } from './helpers/sipp.js';
import { requireTools } from './helpers/tools.js';
import { writeToneWav } from './helpers/wav.js';

const PIN_TWIML = '<Response><Gather numDigits="4" action="/pin"><Say>Enter your PIN</Say></Gather><Hangup/></Response>';
const HANGUP_TWIML = '<Response><Hangup/></Response>';

let netns: Netns;
let scratch: string;
let silence: string;
let conclave: Conclave | undefined;
const phones: Baresip[] = [];
const cleanups: Array<() => unknown> = [];
/** sipp runs still going when a test ends (it failed early): awaited after Conclave closes (its BYE ends them). */
const running: Array<Promise<unknown>> = [];

beforeAll(async () => {
  requireTools('sipp', 'baresip', 'sox', 'ip');
  scratch = await mkdtemp(join(tmpdir(), 'conclave-interop-keypad-'));
  silence = join(scratch, 'quiet.wav');
  // baresip's microphone: a faint tone (it hangs up when the file ends; every test ends first).
  await writeToneWav(silence, { freq: 400, seconds: 30, volume: 0.01 });
  netns = await createNetns();
}, 30_000);

beforeEach(async () => {
  conclave = await startConclave(netns);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await conclave?.close();
  conclave = undefined;
  await Promise.all(running.splice(0).map((r) => r.catch(() => undefined)));
}, 40_000);

afterAll(async () => {
  await netns?.destroy();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function app(): Conclave {
  if (!conclave) throw new Error('no Conclave');
  return conclave;
}

/** Serves `routes` by path (query dropped); any other path, the number's VoiceUrl, gets `voice`. */
function serve(c: Conclave, voice: string, routes: Record<string, string>): void {
  c.voice = (request: ReceivedRequest) => routes[request.path.split('?')[0] ?? ''] ?? voice;
}

/** The first webhook request to `path`, past or future. */
function requestTo(c: Conclave, path: string, timeoutMs = 15_000): Promise<ReceivedRequest> {
  const find = (): ReceivedRequest | undefined => c.web.requests.find((r) => r.path.split('?')[0] === path);
  return until(find, timeoutMs, () => `a request to ${path}; got ${c.web.requests.map((r) => r.path).join(', ')}`);
}

const explain = (r: SippResult): string => `${r.command}\n${r.screen}\n${r.errors}\n${r.stderr}`;

let nextSippPort = 5190;
const sippPort = (): number => (nextSippPort += 2);

/** sipp calls NUMBER and, once answered, replays the keypad stream; it ends on Conclave's BYE. */
async function sippPresses(c: Conclave, stream: KeypadStreamOptions): Promise<SippResult> {
  const pcap = join(scratch, `keys-${stream.mode}-${stream.keys.replace(/\W/g, 'x')}-${nextSippPort}.pcap`);
  await writeKeypadPcap(pcap, stream);
  const port = sippPort();
  const result = runSipp({
    netns,
    scenario: { xml: keypadUacScenario({ pcap, telephoneEvent: stream.mode === 'rfc4733' }) },
    target: `${c.sipHost}:${c.sipPort}`,
    service: NUMBER,
    transport: 'u1',
    localPort: port,
    timeoutMs: 15_000,
    extraArgs: ['-mi', netns.nsAddress, '-mp', String(port + 1000)],
  });
  running.push(result);
  return result;
}

/** A sipp UAS whose SDP answer has PCMU alone (plainAudioUasScenario), listening; its URI to call. */
async function sippAnswers(options: Parameters<typeof plainAudioUasScenario>[0]): Promise<{ uri: string; result: Promise<SippResult> }> {
  const port = sippPort();
  const result = runSipp({
    netns,
    scenario: { xml: plainAudioUasScenario(options) },
    target: `${app().sipHost}:${app().sipPort}`,
    transport: 'u1',
    localPort: port,
    timeoutMs: 15_000,
    extraArgs: ['-mi', netns.nsAddress, '-mp', String(port + 1000)],
  });
  running.push(result);
  // Conclave must not send its INVITE before sipp listens.
  await Promise.race([waitListening(netns, port, 'udp'), result.then((r) => Promise.reject(new Error(`sipp exited early\n${explain(r)}`)))]);
  return { uri: `sip:sipp@${netns.nsAddress}:${port}`, result };
}

let nextPhonePort = 5260;
async function phone(name: string, options: { autoAnswer?: boolean } = {}): Promise<Baresip> {
  const p = await startBaresip({ netns, name, audioSource: silence, sipPort: nextPhonePort, audioCodecs: 'pcmu', sipTrace: true, ...options });
  nextPhonePort += 2;
  phones.push(p);
  return p;
}

describe('sipp presses keys as RFC 4733 telephone-events', () => {
  it('<Gather numDigits="4" action="/pin"> posts the PIN sipp pressed', async () => {
    const c = app();
    serve(c, PIN_TWIML, { '/pin': HANGUP_TWIML });
    const sipp = sippPresses(c, { keys: '1234', mode: 'rfc4733' });

    const pin = await requestTo(c, '/pin');
    expect(pin.method).toBe('POST');
    expect(pin.params).toMatchObject({ Digits: '1234', FinishedOnKey: '', To: NUMBER, Direction: 'inbound', CallStatus: 'in-progress' });
    // The action's <Hangup/> ends the call: sipp gets the BYE and counts a successful call.
    const r = await sipp;
    expect(r.exitCode, explain(r)).toBe(0);
    expect(await c.waitCall(String(pin.params.CallSid))).toMatchObject({ status: 'completed' });
  }, 20_000);

  it('<Dial hangupOnStar="true" action="/after"><Conference>: "*" leaves the conference, the action runs', async () => {
    const c = app();
    serve(c, '<Response><Dial hangupOnStar="true" action="/after"><Conference beep="false">keypad-room</Conference></Dial></Response>', { '/after': HANGUP_TWIML });
    const sipp = sippPresses(c, { keys: '*', mode: 'rfc4733', leadInMs: 1500 });

    const joined = await c.waitParticipant((e) => e.type === 'join' && e.participant.status === 'connected');
    const after = await requestTo(c, '/after');
    expect(after.params).toMatchObject({ CallSid: joined.participant.callSid, DialCallStatus: 'completed', CallStatus: 'in-progress' });
    await c.waitParticipant((e) => e.type === 'leave' && e.participant.callSid === joined.participant.callSid);
    const r = await sipp;
    expect(r.exitCode, explain(r)).toBe(0);
    expect(await c.waitCall(joined.participant.callSid)).toMatchObject({ status: 'completed' });
  }, 20_000);
});

describe('baresip sends keys (sndcode, RFC 4733)', () => {
  it('<Gather numDigits="4" action="/pin"> posts the PIN baresip sent', async () => {
    const c = app();
    serve(c, PIN_TWIML, { '/pin': HANGUP_TWIML });
    const alice = await phone('alice');
    await alice.dial(c.uri());
    await alice.waitEvent('CALL_ESTABLISHED');
    // The Gather runs once the call is in progress (the caller hears "Enter your PIN").
    const call = await c.waitCallListed((x) => x.direction === 'inbound' && x.status === 'in-progress');
    const sent = await alice.command('sndcode', '2468');
    expect(sent.ok, JSON.stringify(sent)).not.toBe(false);

    const pin = await requestTo(c, '/pin');
    expect(pin.params).toMatchObject({ CallSid: call.sid, Digits: '2468', FinishedOnKey: '' });
    const closed = await alice.waitEvent('CALL_CLOSED');
    expect(closed.param).toBe('Connection reset by peer'); // the action's <Hangup/>: Conclave's BYE
    expect(alice.log).toMatch(/a=rtpmap:101 telephone-event\/8000/);
  }, 20_000);
});

describe('in-band keys (a line without telephone-event)', () => {
  it('sipp offers PCMU alone and presses the PIN as tones: the Gather posts it', async () => {
    const c = app();
    serve(c, PIN_TWIML, { '/pin': HANGUP_TWIML });
    const sipp = sippPresses(c, { keys: '9067', mode: 'inband' });

    const pin = await requestTo(c, '/pin');
    expect(pin.params).toMatchObject({ Digits: '9067', FinishedOnKey: '' });
    const r = await sipp;
    expect(r.exitCode, explain(r)).toBe(0);
  }, 20_000);

  it('a called sipp that answered with PCMU alone presses 1 as tones: the Gather of its call posts it', async () => {
    const c = app();
    serve(c, HANGUP_TWIML, {});
    const pcap = join(scratch, 'callee-presses-1.pcap');
    await writeKeypadPcap(pcap, { keys: '1', mode: 'inband' });
    const { uri, result } = await sippAnswers({ pcap });
    const created = await c.request('POST', '/Calls.json', {
      To: uri,
      From: '+15005550006',
      Twiml: `<Response><Gather numDigits="1" action="${c.web.baseUrl}/pressed"><Say>Press 1 to accept</Say></Gather><Hangup/></Response>`,
    });
    expect(created.status, created.body).toBe(201);
    const callSid = created.json<{ sid: string }>().sid;
    const pressed = await requestTo(c, '/pressed');
    expect(pressed.params).toMatchObject({ CallSid: callSid, Digits: '1', Direction: 'outbound-api' });
    const r = await result;
    expect(r.exitCode, explain(r)).toBe(0);
  }, 20_000);
});

describe('Conclave sends keys: <Play digits="1234#"/>', () => {
  it('to baresip as RFC 4733 telephone-events: it receives 1, 2, 3, 4, #', async () => {
    const c = app();
    const carol = await phone('carol', { autoAnswer: true });
    const created = await c.request('POST', '/Calls.json', { To: carol.uri, From: '+15005550006', Twiml: '<Response><Play digits="1234#"/><Hangup/></Response>' });
    expect(created.status, created.body).toBe(201);
    const callSid = created.json<{ sid: string }>().sid;
    await carol.waitEvent('CALL_ESTABLISHED');
    await carol.waitEvent('CALL_CLOSED');
    const keys = carol.events.filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param);
    expect(keys.join(''), carol.log).toBe('1234#');
    expect(carol.events.filter((e) => e.type === 'CALL_DTMF_END')).toHaveLength(5); // each key released
    expect(await c.waitCall(callSid)).toMatchObject({ status: 'completed' });
  }, 20_000);

  it('to a sipp UAS without telephone-event: the keys are tones in the audio it is sent', async () => {
    const c = app();
    const media = await bindRecorder(netns.hostAddress);
    cleanups.push(() => media.close());
    const { uri, result } = await sippAnswers({ media: { address: netns.hostAddress, port: media.port } });
    const created = await c.request('POST', '/Calls.json', { To: uri, From: '+15005550006', Twiml: '<Response><Play digits="1234#"/><Hangup/></Response>' });
    expect(created.status, created.body).toBe(201);
    const r = await result; // ends with Conclave's BYE, after the keys
    expect(r.exitCode, explain(r)).toBe(0);
    expect(media.payloadTypes()).toEqual([0]); // audio only: no telephone-event went to a line without it
    expect(keysInAudio(media.audio())).toBe('1234#');
  }, 20_000);
});

/** A UDP socket that keeps the RTP sent to it: payload types seen, and the PCMU audio decoded in order. */
async function bindRecorder(address: string): Promise<{ port: number; payloadTypes(): number[]; audio(): Int16Array; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  const packets: Array<{ pt: number; payload: Uint8Array }> = [];
  socket.on('message', (msg) => {
    const p = parseRtp(msg);
    if (p) packets.push({ pt: p.payloadType, payload: Uint8Array.from(p.payload) });
  });
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return {
    port: socket.address().port,
    payloadTypes: () => [...new Set(packets.map((p) => p.pt))],
    audio: () => {
      // In arrival order: nothing reorders packets on a veth.
      const audio = packets.filter((p) => p.pt === 0);
      const pcm = new Int16Array(audio.reduce((n, p) => n + p.payload.length, 0));
      let at = 0;
      for (const p of audio) at += decodeMulaw(p.payload, pcm.subarray(at, at + p.payload.length));
      return pcm;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
