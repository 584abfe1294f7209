/**
 * The UAC's failover over the servers DNS gave (RFC 3263 §4.3), between real user agents on
 * UDP and TCP sockets of 127.0.0.1: a silent server is left after `failoverAfterMs`, a 503 moves
 * on at once, each try is a new transaction (new branch, CSeq + 1, same Call-ID), the call
 * goes on with the server that answered; with nothing left, the last failure is the call's.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { cseq, topVia, type SipRequest } from '../../../src/sip/message.js';
import { parseSipMessage } from '../../../src/sip/parse-message.js';
import { writeAnswer, writeOffer } from '../../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../../src/sip/sdp/session-audio.js';
import { SipCombinedTransport, type CombinedTransportOptions } from '../../../src/sip/transport/combined-transport.js';
import type { SipDestination } from '../../../src/sip/transaction/transport.js';
import type { CallEvents, SipCall } from '../../../src/sip/ua/call.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import { until } from '../../helpers/until.js';

const media = { address: '127.0.0.1', port: 40000, sessionId: '1', sessionVersion: 1 };
const closers: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function agent(options: Partial<SipUserAgentOptions> = {}, transportOptions: CombinedTransportOptions = {}): Promise<{ ua: SipUserAgent; address: SipDestination; invites: SipRequest[] }> {
  const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0, ...transportOptions });
  const invites: SipRequest[] = [];
  const ua = new SipUserAgent({
    transport,
    address: transport.address,
    ...options,
    onInvite: (incoming) => {
      invites.push(incoming.request);
      return options.onInvite?.(incoming);
    },
  });
  closers.push(async () => {
    ua.close();
    await transport.close();
  });
  return { ua, address: transport.address, invites };
}

/** A UDP socket that reads every datagram and never answers. */
async function silentServer(): Promise<{ address: SipDestination; requests: SipRequest[] }> {
  const socket = dgram.createSocket('udp4');
  const requests: SipRequest[] = [];
  socket.on('message', (data) => {
    const parsed = parseSipMessage(data);
    if (parsed.ok && parsed.message.kind === 'request') requests.push(parsed.message);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { address: { host: '127.0.0.1', port: socket.address().port }, requests };
}

function outcome(call: SipCall): Promise<{ answered: true } | { failed: CallEvents['failed'] }> {
  return new Promise((resolve) => {
    call.on('answered', () => resolve({ answered: true }));
    call.on('failed', (failed) => resolve({ failed }));
  });
}

describe('UAC failover over DNS targets (RFC 3263 §4.3)', () => {
  it('leaves a silent server, then one answering 503, and the call goes on with the one that answers', async () => {
    const silent = await silentServer();
    const unavailable = await agent({ onInvite: (incoming) => incoming.reject(503) });
    const bob = await agent({ onInvite: (incoming) => void incoming.accept(writeAnswer(media, rtpAudio(incoming.offer))) });
    const alice = await agent();
    const call = alice.ua.invite({
      to: 'sip:bob@example.test',
      from: 'sip:alice@127.0.0.1',
      sdpOffer: writeOffer(media),
      targets: [silent.address, { ...unavailable.address, transport: 'tcp' }, { ...bob.address, transport: 'udp' }],
      failoverAfterMs: 300,
    });
    const retries: CallEvents['retrying'][] = [];
    call.on('retrying', (r) => retries.push(r));
    expect(await outcome(call)).toEqual({ answered: true });

    expect(retries.map((r) => [r.failed.port, r.status, r.next.port])).toEqual([
      [silent.address.port, 408, unavailable.address.port],
      [unavailable.address.port, 503, bob.address.port],
    ]);
    // Each server got its own transaction: a new branch and CSeq each time, one Call-ID.
    const tries = [silent.requests[0]!, unavailable.invites[0]!, bob.invites[0]!];
    expect(new Set(tries.map((r) => topVia(r)?.branch)).size).toBe(3);
    expect(tries.map((r) => cseq(r)!.seq)).toEqual([cseq(tries[0]!)!.seq, cseq(tries[0]!)!.seq + 1, cseq(tries[0]!)!.seq + 2]);
    expect(new Set(tries.map((r) => r.headers.get('Call-ID'))).size).toBe(1);
    expect(topVia(tries[1]!)?.transport).toBe('TCP');
    // The silent server heard nothing more once it was left behind, and the BYE goes to Bob.
    const heardBySilent = silent.requests.length;
    let bobEnded = false;
    bob.ua.activeCalls[0]!.on('ended', () => (bobEnded = true));
    call.hangup();
    await until(() => bobEnded, 5_000, 'the BYE to reach the server that answered');
    expect(silent.requests).toHaveLength(heardBySilent);
  });

  it('fails the call with the last failure when every server fails, and only then', async () => {
    const first = await agent({ onInvite: (incoming) => incoming.reject(503) });
    const second = await agent({ onInvite: (incoming) => incoming.reject(503) });
    const alice = await agent();
    const call = alice.ua.invite({ to: 'sip:bob@example.test', from: 'sip:alice@127.0.0.1', sdpOffer: writeOffer(media), targets: [first.address, second.address], failoverAfterMs: 300 });
    expect(await outcome(call)).toEqual({ failed: { status: 503, reason: 'Service Unavailable' } });
    expect([first.invites.length, second.invites.length]).toEqual([1, 1]);
  });

  it('moves on at once when the request cannot even be sent, and fails a call that has nowhere else to go', async () => {
    const bob = await agent({ onInvite: (incoming) => void incoming.accept(writeAnswer(media, rtpAudio(incoming.offer))) });
    // No TCP connection may be opened: a send over TCP throws (a transport error, §17.1.4).
    const alice = await agent({}, { tcp: { maxConnections: 0 } });
    const invite = (targets: SipDestination[]): SipCall => alice.ua.invite({ to: 'sip:bob@example.test', from: 'sip:alice@127.0.0.1', sdpOffer: writeOffer(media), targets, failoverAfterMs: 300 });
    const rescued = invite([{ ...bob.address, transport: 'tcp' }, { ...bob.address, transport: 'udp' }]);
    const retries: CallEvents['retrying'][] = [];
    rescued.on('retrying', (r) => retries.push(r));
    expect(await outcome(rescued)).toEqual({ answered: true });
    expect(retries).toEqual([{ failed: { ...bob.address, transport: 'tcp' }, status: 503, next: { ...bob.address, transport: 'udp' } }]);
    rescued.hangup();

    expect(await outcome(invite([{ ...bob.address, transport: 'tcp' }]))).toEqual({ failed: { status: 503, reason: 'Service Unavailable' } });
  });

  it('does not fail over a busy server (486 is an answer), nor once the call is being cancelled', async () => {
    const busy = await agent({ onInvite: (incoming) => incoming.reject(486) });
    const spare = await agent({ onInvite: (incoming) => void incoming.accept(writeAnswer(media, rtpAudio(incoming.offer))) });
    const alice = await agent();
    const call = alice.ua.invite({ to: 'sip:bob@example.test', from: 'sip:alice@127.0.0.1', sdpOffer: writeOffer(media), targets: [busy.address, spare.address], failoverAfterMs: 300 });
    expect(await outcome(call)).toMatchObject({ failed: { status: 486 } });

    const silent = await silentServer();
    // T1 = 20 ms: Timer B (64 * T1) ends the silent server's transaction within the test.
    const hasty = await agent({ timing: { t1: 20 } });
    const cancelled = hasty.ua.invite({
      to: 'sip:bob@example.test',
      from: 'sip:alice@127.0.0.1',
      sdpOffer: writeOffer(media),
      targets: [silent.address, spare.address],
      failoverAfterMs: 300,
      timeoutMs: 100,
    });
    const ended = outcome(cancelled);
    expect(await ended).toMatchObject({ failed: { status: 408 } });
    expect(spare.invites).toHaveLength(0);
  });
});
