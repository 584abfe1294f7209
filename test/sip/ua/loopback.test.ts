/**
 * Two SipUserAgents talking over real UDP sockets on 127.0.0.1 (RFC 3261 §13–§15):
 * call setup, early media (183), BYE both ways, CANCEL, re-INVITE hold, OPTIONS, 488, digest
 * authentication.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildChallenge, verifyDigest } from '../../../src/sip/digest.js';
import { cseq, type SipMessage } from '../../../src/sip/message.js';
import { writeAnswer, writeOffer, type RemoteAudio } from '../../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../../src/sip/sdp/session-audio.js';
import { SipUdpTransport } from '../../../src/sip/udp-transport.js';
import type { SipCall } from '../../../src/sip/ua/call.js';
import type { IncomingCall } from '../../../src/sip/ua/incoming-call.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import { labelOf } from '../helpers/recording-transport.js';
import { until } from '../../helpers/until.js';

interface Peer {
  ua: SipUserAgent;
  transport: SipUdpTransport;
  uri: string;
  /** Labels of every message this peer sent: `INVITE`, `180`, `ACK`. */
  sent: string[];
  messages: SipMessage[];
  errors: unknown[];
}

const open: Peer[] = [];

async function peer(name: string, options: Partial<SipUserAgentOptions> = {}): Promise<Peer> {
  const transport = await SipUdpTransport.open({ host: '127.0.0.1', port: 0 });
  const sent: string[] = [];
  const messages: SipMessage[] = [];
  const errors: unknown[] = [];
  const send = transport.send.bind(transport);
  transport.send = (message, destination) => {
    sent.push(labelOf(message));
    messages.push(message);
    send(message, destination);
  };
  const ua = new SipUserAgent({ transport, address: transport.address, onError: (e) => errors.push(e), ...options });
  const p = { ua, transport, uri: `sip:${name}@127.0.0.1:${transport.address.port}`, sent, messages, errors };
  open.push(p);
  return p;
}

afterEach(async () => {
  for (const p of open.splice(0)) {
    p.ua.close();
    await p.transport.close();
  }
});

const aliceMedia = { address: '127.0.0.1', port: 40000, sessionId: '1', sessionVersion: 1 };
const bobMedia = { address: '127.0.0.1', port: 50000, sessionId: '2', sessionVersion: 1 };

/** Resolves after every event already queued (socket reads included) has run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));


function answering(onCall?: (call: SipCall) => void): Partial<SipUserAgentOptions> {
  return {
    onInvite: (incoming) => {
      incoming.ringing();
      const call = incoming.accept(writeAnswer(bobMedia, rtpAudio(incoming.offer)));
      onCall?.(call);
    },
  };
}

async function establish(bobOptions: Partial<SipUserAgentOptions> = {}) {
  let bobCall: SipCall | undefined;
  const bob = await peer('bob', { ...answering((c) => (bobCall = c)), ...bobOptions });
  const alice = await peer('alice');
  const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia), timeoutMs: 5000 });
  await call.next('answered');
  await until(() => bobCall?.state === 'active');
  return { alice, bob, call, bobCall: bobCall as SipCall };
}

describe('SipUserAgent over UDP loopback', () => {
  it('sets up a call: INVITE, 100, 180, 200, ACK, PCMU negotiated', async () => {
    let incoming: IncomingCall | undefined;
    let bobCall: SipCall | undefined;
    const bob = await peer('bob', {
      onInvite: (i) => {
        incoming = i;
        i.ringing();
        bobCall = i.accept(writeAnswer(bobMedia, rtpAudio(i.offer)));
      },
    });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia) });
    const provisional = call.next('provisional');
    const answered = await call.next('answered');
    expect((await provisional).status).toBe(180);
    expect(answered.remoteAudio).toMatchObject({ codec: 'PCMU', payloadType: 0, port: 50000, direction: 'sendrecv', onHold: false });
    expect(incoming?.offer).toMatchObject({ codec: 'PCMU', port: 40000 });
    expect(call.state).toBe('active');
    await until(() => bobCall?.state === 'active');
    expect(bob.sent).toEqual(['100', '180', '200']);
    expect(alice.sent).toEqual(['INVITE', 'ACK']);
    expect(call.dialog?.id.remoteTag).toBe(bobCall?.dialog?.id.localTag);
    expect(bob.ua.activeCalls).toHaveLength(1);
  });

  it('sends early media: a 183 with the SDP answer in the early dialog, then the 200 with the same answer', async () => {
    let answer: (() => void) | undefined;
    const bob = await peer('bob', {
      onInvite: (i) => {
        const sdp = writeAnswer(bobMedia, rtpAudio(i.offer));
        i.progress(sdp);
        answer = () => void i.accept(sdp);
      },
    });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia) });
    const early = await call.next('provisional');
    expect(early).toMatchObject({ status: 183, reason: 'Session Progress', remoteAudio: { codec: 'PCMU', port: 50000 } });
    expect(call.state).toBe('ringing');
    (answer as () => void)();
    const answered = await call.next('answered');
    expect(answered.remoteAudio).toEqual(early.remoteAudio);
    const [progress, ok] = bob.messages.filter((m) => m.kind === 'response' && m.status > 100);
    expect(progress?.headers.get('To')).toBe(ok?.headers.get('To')); // one To tag: the early dialog is the dialog
    expect(progress?.body.toString()).toBe(ok?.body.toString());
    expect(bob.sent).toEqual(['100', '183', '200']);
  });

  it('ends the call with BYE from the caller', async () => {
    const byes: SipCall[] = [];
    const { alice, bob, call, bobCall } = await establish({ onBye: (c) => byes.push(c) });
    const remoteEnd = bobCall.next('ended');
    const localEnd = call.next('ended');
    call.hangup();
    expect(await localEnd).toEqual({ by: 'local', reason: 'hangup' });
    expect(await remoteEnd).toEqual({ by: 'remote', reason: 'bye' });
    expect(byes).toEqual([bobCall]);
    await until(() => alice.messages.some((m) => m.kind === 'request' && m.method === 'BYE') && bob.sent.at(-1) === '200');
    expect(alice.ua.activeCalls).toEqual([]);
    expect(bob.ua.activeCalls).toEqual([]);
  });

  it('ends the call with BYE from the callee', async () => {
    const { alice, call, bobCall } = await establish();
    const ended = call.next('ended');
    bobCall.bye();
    expect(await ended).toEqual({ by: 'remote', reason: 'bye' });
    expect(bobCall.state).toBe('ended');
    await until(() => alice.sent.at(-1) === '200');
  });

  it('cancels before the answer: 200 for the CANCEL, 487 for the INVITE', async () => {
    const cancelled: IncomingCall[] = [];
    let incoming: IncomingCall | undefined;
    const bob = await peer('bob', {
      onInvite: (i) => {
        incoming = i;
        i.ringing();
      },
      onCancel: (i) => cancelled.push(i),
    });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia) });
    await call.next('provisional');
    const cancelEvent = new Promise((resolve) => incoming?.once('cancel', resolve));
    call.hangup();
    expect(await call.next('failed')).toEqual({ status: 487, reason: 'Request Terminated' });
    await cancelEvent;
    expect(cancelled).toEqual([incoming]);
    expect(incoming?.state).toBe('cancelled');
    expect(() => incoming?.accept('v=0')).toThrow(/cancelled/);
    await until(() => bob.sent.length >= 4 && alice.sent.length >= 3);
    expect(alice.sent).toEqual(['INVITE', 'CANCEL', 'ACK']);
    expect(bob.sent).toEqual(['100', '180', '200', '487']);
    const ok = bob.messages[2];
    expect(ok?.kind === 'response' && cseq(ok)?.method).toBe('CANCEL');
  });

  it('cancels on the ring timeout and reports 408', async () => {
    const bob = await peer('bob', { onInvite: (i) => i.ringing() });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia), timeoutMs: 50 });
    expect(await call.next('failed')).toEqual({ status: 408, reason: 'Request Timeout' });
    expect(alice.sent).toContain('CANCEL');
  });

  it('answers a re-INVITE with sendonly with recvonly and sees the hold', async () => {
    const offers: RemoteAudio[] = [];
    const { call, bobCall } = await establish({
      onReinvite: (_call, offer) => {
        offers.push(rtpAudio(offer));
        return writeAnswer({ ...bobMedia, sessionVersion: 2 }, rtpAudio(offer));
      },
    });
    const reinvite = bobCall.next('reinvite');
    const hold = writeOffer({ ...aliceMedia, sessionVersion: 2 }).replace('a=sendrecv', 'a=sendonly');
    const result = await call.reinvite(hold);
    expect(result.status).toBe(200);
    expect(result.remoteAudio?.direction).toBe('recvonly');
    expect((await reinvite).offer).toMatchObject({ direction: 'sendonly', onHold: true });
    expect(bobCall.onHold).toBe(true);
    expect(offers).toHaveLength(1);
    await until(() => bobCall.state === 'active');
    const resume = await call.reinvite(writeOffer({ ...aliceMedia, sessionVersion: 3 }));
    expect(resume.remoteAudio?.direction).toBe('sendrecv');
    expect(bobCall.onHold).toBe(false);
  });

  it('answers OPTIONS outside a dialog with 200, Allow and Accept', async () => {
    const bob = await peer('bob');
    const alice = await peer('alice');
    const response = await alice.ua.sendOptions(bob.uri, alice.uri);
    expect(response.status).toBe(200);
    expect(response.headers.get('Allow')).toContain('INVITE');
    expect(response.headers.get('Accept')).toBe('application/sdp');
  });

  it('rejects an offer without G.711 with 488 and never asks the application', async () => {
    let asked = false;
    const bob = await peer('bob', { onInvite: () => void (asked = true) });
    const alice = await peer('alice');
    const g729 = writeOffer(aliceMedia).replace(/m=audio 40000 RTP\/AVP .*/, 'm=audio 40000 RTP/AVP 18').replace(/a=(rtpmap|fmtp):(0|8|101) .*\r\n/g, '');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: g729 });
    expect(await call.next('failed')).toMatchObject({ status: 488 });
    expect(asked).toBe(false);
    expect(bob.sent).toContain('488');
  });

  it('passes a rejection from the application through', async () => {
    const bob = await peer('bob', { onInvite: (i) => i.reject(486) });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia) });
    expect(await call.next('failed')).toEqual({ status: 486, reason: 'Busy Here' });
  });

  it('answers a 401 challenge with digest credentials (qop=auth) and CSeq + 1', async () => {
    const nonce = 'f84f1cec41e6cbe5aea9c8e88d359';
    const seen: Array<{ seq: number | undefined; verified: boolean }> = [];
    const bob = await peer('bob', {
      onInvite: (i) => {
        const authorization = i.request.headers.get('Authorization');
        const verified =
          authorization !== undefined &&
          verifyDigest(authorization, { method: 'INVITE', password: (user) => (user === 'alice' ? 's3cret' : undefined), realm: 'conclave', nonce, uri: i.request.uri });
        seen.push({ seq: cseq(i.request)?.seq, verified });
        if (!verified) {
          i.reject(401, { headers: [['WWW-Authenticate', buildChallenge({ realm: 'conclave', nonce, opaque: 'xyz' })]] });
          return;
        }
        i.accept(writeAnswer(bobMedia, rtpAudio(i.offer)));
      },
    });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia), auth: { username: 'alice', password: 's3cret' } });
    await call.next('answered');
    expect(seen).toHaveLength(2);
    expect(seen[0]?.verified).toBe(false);
    expect(seen[1]).toEqual({ seq: (seen[0]?.seq ?? 0) + 1, verified: true });
    // The new INVITE leaves as the 401 arrives, before the transaction's ACK for the 401.
    expect([...alice.sent].sort()).toEqual(['ACK', 'ACK', 'INVITE', 'INVITE']);
    const ack = alice.messages.filter((m) => m.kind === 'request' && m.method === 'ACK').at(-1);
    expect(ack?.headers.get('Authorization')).toMatch(/^Digest /);
    await settle();
  });

  it('fails with 401 when the password is wrong (no endless retries)', async () => {
    let count = 0;
    const bob = await peer('bob', {
      onInvite: (i) => {
        count++;
        const authorization = i.request.headers.get('Authorization');
        if (authorization !== undefined && verifyDigest(authorization, { method: 'INVITE', password: 'right' })) i.accept(writeAnswer(bobMedia, rtpAudio(i.offer)));
        else i.reject(401, { headers: [['WWW-Authenticate', buildChallenge({ realm: 'conclave', nonce: 'n1' })]] });
      },
    });
    const alice = await peer('alice');
    const call = alice.ua.invite({ to: bob.uri, from: alice.uri, sdpOffer: writeOffer(aliceMedia), auth: { username: 'a', password: 'wrong' } });
    expect(await call.next('failed')).toMatchObject({ status: 401 });
    expect(count).toBe(2);
  });
});
