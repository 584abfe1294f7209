/**
 * SipUserAgent driven by hand over a recording transport and a manual clock: the timer-driven
 * parts of §13.3.1.4 (2xx retransmission, BYE when the ACK never comes), §12.2.2 (481, CSeq
 * order), §8.2 (501), OPTIONS in a dialog, and the UAC's re-ACK of a retransmitted 2xx.
 */
import { describe, expect, it } from 'vitest';
import { buildChallenge, verifyDigest } from '../../../src/sip/digest.js';
import { callId, createRequest, cseq, fromHeader, responseTo, toHeader, topVia, type SipRequest, type SipResponse } from '../../../src/sip/message.js';
import { parseSipMessage } from '../../../src/sip/parse-message.js';
import { serializeSipMessage } from '../../../src/sip/serialize-message.js';
import { writeAnswer, writeOffer } from '../../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../../src/sip/sdp/session-audio.js';
import type { SipCall } from '../../../src/sip/ua/call.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { RecordingTransport } from '../helpers/recording-transport.js';

const PEER = { host: '10.0.0.2', port: 5062 };
const ME = { host: '10.0.0.1', port: 5060 };
const media = { address: '10.0.0.1', port: 30000, sessionId: '9', sessionVersion: 1 };

function wire<T extends SipRequest | SipResponse>(message: T): T {
  const result = parseSipMessage(serializeSipMessage(message));
  if (!result.ok) throw new Error(result.error);
  return result.message as T;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(options: Partial<SipUserAgentOptions> = {}) {
  const timers = new ManualTimers();
  const transport = new RecordingTransport(false, timers);
  const calls: SipCall[] = [];
  const ua = new SipUserAgent({
    transport,
    address: ME,
    timers,
    onInvite: (incoming) => void calls.push(incoming.accept(writeAnswer(media, rtpAudio(incoming.offer)))),
    ...options,
  });
  return { timers, transport, ua, calls };
}

function invite(over: { toTag?: string; cseq?: number; branch?: string; method?: string; body?: string } = {}): SipRequest {
  const method = over.method ?? 'INVITE';
  const request = createRequest(method, 'sip:bridge@10.0.0.1', [
    ['Via', `SIP/2.0/UDP 10.0.0.2:5062;branch=${over.branch ?? 'z9hG4bKinv1'}`],
    ['Max-Forwards', '70'],
    ['From', '<sip:alice@example.com>;tag=a1'],
    ['To', `<sip:bridge@10.0.0.1>${over.toTag ? `;tag=${over.toTag}` : ''}`],
    ['Call-ID', 'call-9@10.0.0.2'],
    ['CSeq', `${over.cseq ?? 1} ${method}`],
    ['Contact', '<sip:alice@10.0.0.2:5062>'],
  ]);
  const body = over.body ?? (method === 'INVITE' ? writeOffer({ address: '10.0.0.2', port: 20000, sessionId: '1', sessionVersion: 1 }) : undefined);
  if (body !== undefined) {
    request.headers.append('Content-Type', 'application/sdp');
    request.body = Buffer.from(body);
  }
  return wire(request);
}

function ack(toTag: string, seq = 1): SipRequest {
  return wire(createRequest('ACK', 'sip:bridge@10.0.0.1', [
    ['Via', 'SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKack1'],
    ['Max-Forwards', '70'],
    ['From', '<sip:alice@example.com>;tag=a1'],
    ['To', `<sip:bridge@10.0.0.1>;tag=${toTag}`],
    ['Call-ID', 'call-9@10.0.0.2'],
    ['CSeq', `${seq} ACK`],
  ]));
}

async function answered(env: ReturnType<typeof setup>): Promise<{ toTag: string; call: SipCall }> {
  env.ua.receive(invite(), PEER);
  await flush();
  const ok = env.transport.sent.find((s) => s.message.kind === 'response' && s.message.status === 200)?.message as SipResponse;
  return { toTag: toHeader(ok)?.tag as string, call: env.calls[0] as SipCall };
}

const last = (transport: RecordingTransport): SipResponse => transport.sent.at(-1)?.message as SipResponse;

describe('SipUserAgent as UAS (manual timers)', () => {
  it('retransmits the 2xx at T1, 2T1, 4T1… capped at T2 until the ACK', async () => {
    const env = setup();
    const { toTag, call } = await answered(env);
    expect(call.state).toBe('connecting');
    expect(env.transport.labels()).toEqual(['100', '200']);
    env.timers.advance(16_000);
    expect(env.transport.times('200')).toEqual([0, 500, 1500, 3500, 7500, 11_500, 15_500]);
    const confirmed = call.next('confirmed');
    env.ua.receive(ack(toTag), PEER);
    await confirmed;
    expect(call.state).toBe('active');
    env.timers.advance(60_000);
    expect(env.transport.times('200')).toHaveLength(7);
    expect(env.transport.labels()).not.toContain('BYE');
  });

  it('sends BYE and ends the call when no ACK comes within 64*T1', async () => {
    const env = setup();
    const { call } = await answered(env);
    const ended = call.next('ended');
    env.timers.advance(32_000);
    expect(await ended).toEqual({ by: 'local', reason: 'ack-timeout' });
    const bye = env.transport.sent.find((s) => s.message.kind === 'request' && s.message.method === 'BYE');
    expect(bye?.at).toBe(32_000);
    expect(bye?.destination).toEqual(PEER);
    const request = bye?.message as SipRequest;
    expect(request.uri).toBe('sip:alice@10.0.0.2:5062');
    expect(toHeader(request)?.tag).toBe('a1');
    expect(env.ua.activeCalls).toEqual([]);
  });

  it('defers a hangup before the ACK until the ACK arrives (§15)', async () => {
    const env = setup();
    const { toTag, call } = await answered(env);
    call.hangup();
    expect(env.transport.labels()).not.toContain('BYE');
    env.ua.receive(ack(toTag), PEER);
    expect(env.transport.labels().at(-1)).toBe('BYE');
  });

  it('answers 481 for a request in an unknown dialog, and for BYE outside a dialog', () => {
    const env = setup();
    env.ua.receive(invite({ method: 'BYE', toTag: 'nope', cseq: 2, branch: 'z9hG4bKbye' }), PEER);
    expect(last(env.transport).status).toBe(481);
    env.ua.receive(invite({ method: 'BYE', cseq: 3, branch: 'z9hG4bKbye2' }), PEER);
    expect(last(env.transport).status).toBe(481);
    env.ua.receive(invite({ method: 'CANCEL', branch: 'z9hG4bKnotx' }), PEER);
    expect(last(env.transport).status).toBe(481);
  });

  it('answers 501 with Allow for an unknown method, in or out of a dialog', async () => {
    const env = setup();
    env.ua.receive(invite({ method: 'FROB', branch: 'z9hG4bKfrob' }), PEER);
    expect(last(env.transport).status).toBe(501);
    expect(last(env.transport).headers.get('Allow')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS');
    const { toTag } = await answered(env);
    env.ua.receive(invite({ method: 'INFO', toTag, cseq: 2, branch: 'z9hG4bKinfo' }), PEER);
    expect(last(env.transport).status).toBe(501);
  });

  it('answers OPTIONS inside a dialog and rejects an out-of-order CSeq with 500', async () => {
    const env = setup();
    const { toTag } = await answered(env);
    env.ua.receive(ack(toTag), PEER);
    env.ua.receive(invite({ method: 'OPTIONS', toTag, cseq: 5, branch: 'z9hG4bKo5' }), PEER);
    expect(last(env.transport)).toMatchObject({ status: 200 });
    expect(last(env.transport).headers.get('Accept')).toBe('application/sdp');
    env.ua.receive(invite({ method: 'OPTIONS', toTag, cseq: 4, branch: 'z9hG4bKo4' }), PEER);
    expect(last(env.transport)).toMatchObject({ status: 500 });
  });

  it('answers 488 for an INVITE without SDP, and 500 when the application throws', async () => {
    const env = setup({ onInvite: () => Promise.reject(new Error('boom')) });
    env.ua.receive(invite({ body: '' }), PEER);
    expect(last(env.transport).status).toBe(488);
    env.ua.receive(invite({ branch: 'z9hG4bKinv2' }), PEER);
    await flush();
    expect(last(env.transport).status).toBe(500);
  });

  it('answers 420 with Unsupported for an INVITE requiring an extension', () => {
    const env = setup();
    const request = invite();
    request.headers.append('Require', '100rel');
    env.ua.receive(request, PEER);
    expect(last(env.transport)).toMatchObject({ status: 420 });
    expect(last(env.transport).headers.get('Unsupported')).toBe('100rel');
  });

  it('answers 200 to a CANCEL that arrives after the 2xx, without a 487', async () => {
    const env = setup();
    await answered(env);
    env.ua.receive(invite({ method: 'CANCEL' }), PEER);
    expect(env.transport.labels()).toEqual(['100', '200', '200']);
    expect(cseq(last(env.transport))?.method).toBe('CANCEL');
  });

  it('answers an in-dialog INVITE with 488 when there is no re-INVITE handler', async () => {
    const env = setup();
    const { toTag } = await answered(env);
    env.ua.receive(ack(toTag), PEER);
    env.ua.receive(invite({ toTag, cseq: 2, branch: 'z9hG4bKre' }), PEER);
    await flush();
    expect(last(env.transport).status).toBe(488);
  });
});

describe('SipUserAgent as UAC (manual timers)', () => {
  function outgoing() {
    const env = setup();
    const call = env.ua.invite({ to: 'sip:bob@10.0.0.2:5062', from: 'sip:bridge@10.0.0.1', sdpOffer: writeOffer(media), timeoutMs: 30_000 });
    const sentInvite = env.transport.sent[0]?.message as SipRequest;
    return { ...env, call, sentInvite };
  }

  function ok(request: SipRequest, tag = 'b1'): SipResponse {
    const response = responseTo(request, 200, tag);
    response.headers.append('Contact', '<sip:bob@10.0.0.2:5062>');
    response.headers.append('Content-Type', 'application/sdp');
    response.body = Buffer.from(writeOffer({ address: '10.0.0.2', port: 20000, sessionId: '3', sessionVersion: 1 }));
    return wire(response);
  }

  it('ACKs the 2xx directly with the INVITE CSeq and re-ACKs its retransmissions', async () => {
    const { transport, ua, call, sentInvite, timers } = outgoing();
    expect(transport.sent[0]?.destination).toEqual(PEER);
    const answeredEvent = call.next('answered');
    ua.receive(ok(sentInvite), PEER);
    await answeredEvent;
    const acks = () => transport.sent.filter((s) => s.message.kind === 'request' && s.message.method === 'ACK');
    expect(acks()).toHaveLength(1);
    const first = acks()[0]?.message as SipRequest;
    expect(cseq(first)).toEqual({ seq: cseq(sentInvite)?.seq, method: 'ACK' });
    expect(first.uri).toBe('sip:bob@10.0.0.2:5062');
    ua.receive(ok(sentInvite), PEER);
    expect(acks()).toHaveLength(2);
    timers.advance(40_000); // past Timer M: the 2xx now matches no transaction
    ua.receive(ok(sentInvite), PEER);
    expect(acks()).toHaveLength(3);
    expect(transport.labels().filter((l) => l === 'INVITE')).toHaveLength(1);
    call.hangup();
    ua.receive(ok(sentInvite), PEER); // a late retransmission after BYE: ACK only
    expect(acks()).toHaveLength(4);
    expect(transport.labels().filter((l) => l === 'BYE')).toHaveLength(1);
  });

  it('waits for a provisional before sending CANCEL (§9.1)', () => {
    const { transport, ua, call, sentInvite } = outgoing();
    call.hangup();
    expect(transport.labels()).toEqual(['INVITE']);
    const trying = wire(responseTo(sentInvite, 100));
    ua.receive(trying, PEER);
    expect(transport.labels()).toEqual(['INVITE', 'CANCEL']);
    const cancel = transport.sent[1]?.message as SipRequest;
    expect(cancel.headers.get('Via')).toBe(sentInvite.headers.get('Via'));
    expect(cseq(cancel)).toEqual({ seq: cseq(sentInvite)?.seq, method: 'CANCEL' });
  });

  it('answers a 407 with Proxy-Authorization on a new INVITE (new branch, CSeq + 1)', () => {
    const env = setup();
    env.ua.invite({ to: 'sip:bob@10.0.0.2:5062', from: 'sip:bridge@10.0.0.1', sdpOffer: writeOffer(media), auth: { username: 'u', password: 'p' } });
    const first = env.transport.sent[0]?.message as SipRequest;
    const challenge = responseTo(first, 407, 'px');
    challenge.headers.append('Proxy-Authenticate', buildChallenge({ realm: 'proxy', nonce: 'n407' }));
    env.ua.receive(wire(challenge), PEER);
    const retry = env.transport.sent.find((s, i) => i > 0 && s.message.kind === 'request' && s.message.method === 'INVITE')?.message as SipRequest;
    expect(cseq(retry)?.seq).toBe((cseq(first)?.seq ?? 0) + 1);
    expect(topVia(retry)?.branch).not.toBe(topVia(first)?.branch);
    expect(callId(retry)).toBe(callId(first));
    expect(fromHeader(retry)?.tag).toBe(fromHeader(first)?.tag);
    const credentials = retry.headers.get('Proxy-Authorization') as string;
    expect(verifyDigest(credentials, { method: 'INVITE', password: 'p', realm: 'proxy', nonce: 'n407', uri: retry.uri })).toBe(true);
    // The 407 is ACKed before the retry goes out (§17.1.1 Figure 5: ACK sent, then resp. to TU).
    expect(env.transport.labels()).toEqual(['INVITE', 'ACK', 'INVITE']);
  });

  it('fails with 408 when nothing answers (Timer B)', async () => {
    const { timers, call } = outgoing();
    const failed = call.next('failed');
    timers.advance(32_000);
    expect(await failed).toEqual({ status: 408, reason: 'Request Timeout' });
  });

  it('ACKs and BYEs a 2xx whose SDP answer is unusable', async () => {
    const { transport, ua, call, sentInvite } = outgoing();
    const response = ok(sentInvite);
    response.body = Buffer.from('v=0\r\n');
    const failed = call.next('failed');
    ua.receive(response, PEER);
    expect((await failed).status).toBe(488);
    expect(transport.labels()).toEqual(['INVITE', 'ACK', 'BYE']);
  });
});
