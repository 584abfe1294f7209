/**
 * Self-test of the interop harness (test/interop/helpers): real third-party SIP peers in a
 * network namespace joined to the host by a veth pair.
 *
 * - baresip A calls baresip B (both in the namespace) with a 440 Hz tone; B's recording of
 *   what it received has 440 Hz (so WAV source, RTP, sndfile recording and Goertzel agree).
 * - baresip in the namespace calls a Conclave SipUserAgent listening on the host end of the
 *   veth, over UDP and over TCP (so the cross-namespace path and our TCP transport work).
 * - sipp's built-in `uac` scenario and a custom XML scenario run against that host-side UA.
 *
 * Missing tools fail with the Debian package to install; nothing is skipped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeAnswer } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import { SipCombinedTransport } from '../../src/sip/transport/combined-transport.js';
import type { SipCall } from '../../src/sip/ua/call.js';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import { SipUserAgent } from '../../src/sip/ua/user-agent.js';
import { startBaresip, type Baresip } from './helpers/baresip.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { OPTIONS_SCENARIO, runSipp } from './helpers/sipp.js';
import { requireTools } from './helpers/tools.js';
import { readWav, toneLevel, writeToneWav } from './helpers/wav.js';
import { until } from '../helpers/until.js';

let netns: Netns;
let scratch: string;
let tone440: string;
let tone1000: string;
const peers: Baresip[] = [];
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  requireTools('baresip', 'sipp', 'sox', 'ip');
  scratch = await mkdtemp(join(tmpdir(), 'conclave-interop-'));
  tone440 = join(scratch, 'tone440.wav');
  tone1000 = join(scratch, 'tone1000.wav');
  await Promise.all([
    writeToneWav(tone440, { freq: 440, seconds: 3 }),
    writeToneWav(tone1000, { freq: 1000, seconds: 30 }),
  ]);
  netns = await createNetns();
}, 30_000);

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await netns?.destroy();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function baresip(...args: Parameters<typeof startBaresip>): Promise<Baresip> {
  const peer = await startBaresip(...args);
  peers.push(peer);
  return peer;
}

/** A Conclave user agent on the host end of the veth that answers every call. */
async function hostUa(): Promise<{
  ua: SipUserAgent;
  transport: SipCombinedTransport;
  uri: string;
  calls: SipCall[];
  invites: IncomingCall[];
  /** `INVITE/tcp`, `ACK/udp`, `200/tcp`…: every message the UA received and how. */
  received: string[];
}> {
  const transport = await SipCombinedTransport.open({ host: netns.hostAddress, port: 0 });
  const received: string[] = [];
  const setHandler = transport.setMessageHandler.bind(transport);
  transport.setMessageHandler = (handler) =>
    setHandler((message, source) => {
      received.push(`${message.kind === 'request' ? message.method : message.status}/${source.transport ?? '?'}`);
      handler(message, source);
    });
  const calls: SipCall[] = [];
  const invites: IncomingCall[] = [];
  const media = { address: netns.hostAddress, port: 41000, sessionId: '1', sessionVersion: 1 };
  const ua = new SipUserAgent({
    transport,
    address: transport.address,
    onInvite: (incoming) => {
      invites.push(incoming);
      incoming.ringing();
      calls.push(incoming.accept(writeAnswer(media, rtpAudio(incoming.offer))));
    },
  });
  cleanups.push(() => transport.close(), () => ua.close());
  return { ua, transport, uri: `sip:conclave@${transport.address.host}:${transport.address.port}`, calls, invites, received };
}


describe('interop harness', () => {
  it('baresip A calls baresip B in the namespace; B records the 440 Hz tone', async () => {
    const b = await baresip({ netns, name: 'b', sipPort: 5070, audioSource: tone1000, autoAnswer: true });
    const a = await baresip({ netns, name: 'a', sipPort: 5060, audioSource: tone440 });
    await a.dial(b.uri);
    const established = await b.waitEvent('CALL_ESTABLISHED');
    expect(established.direction).toBe('incoming');
    // A's 3 s source ends, A hangs up, B sees the BYE.
    await b.waitEvent('CALL_CLOSED', { timeoutMs: 15_000 });
    await a.waitEvent('CALL_CLOSED');
    await Promise.all([a.stop(true), b.stop(true)]); // flush the recordings
    const [recording] = await b.recordings();
    expect(recording, b.log).toBeDefined();
    const wav = await readWav(recording as string);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.seconds).toBeGreaterThan(1.5);
    const level = toneLevel(wav, 440);
    expect(level.amplitude).toBeGreaterThan(0.35);
    expect(level.purity).toBeGreaterThan(0.9);
    expect(toneLevel(wav, 1000).amplitude).toBeLessThan(0.02);
  }, 30_000);

  for (const transport of ['udp', 'tcp'] as const) {
    it(`a Conclave UA on the host answers baresip in the namespace over ${transport.toUpperCase()}`, async () => {
      const host = await hostUa();
      const a = await baresip({ netns, name: 'a', sipPort: 5060, audioSource: tone1000 });
      await a.dial(transport === 'tcp' ? `${host.uri};transport=tcp` : host.uri);
      await a.waitEvent('CALL_ESTABLISHED');
      await until(() => host.calls[0]?.state === 'active');
      const call = host.calls[0] as SipCall;
      expect(rtpAudio(call.remoteAudio!).address).toBe(netns.nsAddress);
      expect(host.invites[0]?.offer.codec).toBe('PCMU');
      const ended = call.next('ended');
      await a.hangup();
      expect(await ended).toEqual({ by: 'remote', reason: 'bye' });
      await a.waitEvent('CALL_CLOSED');
      expect(host.received).toEqual([`INVITE/${transport}`, `ACK/${transport}`, `BYE/${transport}`]);
      expect(host.ua.activeCalls).toEqual([]);
    }, 20_000);
  }

  for (const transport of ['u1', 't1'] as const) {
    it(`sipp uac (built-in scenario, -t ${transport}) in the namespace calls the host-side UA`, async () => {
      const host = await hostUa();
      const target = `${host.transport.address.host}:${host.transport.address.port}`;
      const result = await runSipp({ netns, scenario: 'uac', target, transport, durationMs: 200 });
      expect(result.exitCode, `${result.command}\n${result.screen}\n${result.errors}\n${result.stderr}`).toBe(0);
      expect(result.successful).toBe(1);
      expect(result.failed).toBe(0);
      expect(host.invites).toHaveLength(1);
      await until(() => host.calls[0]?.state === 'ended');
      const via = transport === 't1' ? 'tcp' : 'udp';
      expect(host.received).toEqual([`INVITE/${via}`, `ACK/${via}`, `BYE/${via}`]);
    }, 30_000);
  }

  it('sipp runs a custom XML scenario (OPTIONS over TCP) against the host-side UA', async () => {
    const host = await hostUa();
    const result = await runSipp({
      netns,
      scenario: { xml: OPTIONS_SCENARIO },
      target: `${host.transport.address.host}:${host.transport.address.port}`,
      transport: 't1',
    });
    expect(result.exitCode, `${result.command}\n${result.screen}\n${result.errors}\n${result.stderr}`).toBe(0);
    expect(result.successful).toBe(1);
    expect(host.received).toEqual(['OPTIONS/tcp']);
  }, 30_000);
});
