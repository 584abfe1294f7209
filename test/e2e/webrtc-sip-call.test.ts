/**
 * A WebRTC SIP call end to end, as JsSIP places one but over UDP: a werift RTCPeerConnection
 * (the browser: ICE, DTLS-SRTP; test/helpers/webrtc-peer.ts) puts its offer in an INVITE to an
 * owned number, whose TwiML joins a conference with a `sim:` caller speaking a tone. Conclave
 * answers with its ICE-lite, DTLS-passive SDP (webrtc-audio.ts): the browser connects to the
 * media leg, hears the sim's tone, and the sim's recording hears the browser's. A re-INVITE
 * holding the call (sendonly) is answered recvonly with our same credentials. Then for each
 * codec the browser may offer alone: Opus and PCMU.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readWebRtcAudio } from '../../src/sip/sdp/webrtc-audio.js';
import { SipCombinedTransport } from '../../src/sip/transport/combined-transport.js';
import type { SipCall } from '../../src/sip/ua/call.js';
import { SipUserAgent } from '../../src/sip/ua/user-agent.js';
import { simulatedAudio, untilHearing } from '../helpers/hearing.js';
import { ownNumber, placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { WebRtcTestPeer, type TestPeerCodec } from '../helpers/webrtc-peer.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const NUMBER = '+15005550123';
const LEVELS = { heard: 1500, silent: 400 };
const ROOM = '<Response><Dial><Conference beep="false">webrtc-room</Conference></Dial></Response>';

describe('a WebRTC peer calls a number over SIP', () => {
  let t: TestApp;
  let web: Receiver;
  const cleanup: Array<() => Promise<void> | void> = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', ROOM));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await t.close();
    await web.close();
  });

  /** A SIP user agent on UDP, as the browser's JsSIP would be (here without the WebSocket). */
  async function userAgent(): Promise<SipUserAgent> {
    const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });
    const ua = new SipUserAgent({ transport, address: transport.address });
    cleanup.push(async () => {
      ua.close();
      await transport.close();
    });
    return ua;
  }

  /** The browser's INVITE with its WebRTC offer; resolves with the call and Conclave's answer. */
  async function callIn(codec: TestPeerCodec): Promise<{ peer: WebRtcTestPeer & { offerSdp: string }; call: SipCall; answerSdp: string }> {
    const peer = await WebRtcTestPeer.create({ codec, telephoneEvent: codec === 'opus' ? 110 : 101 });
    cleanup.push(() => peer.close());
    const ua = await userAgent();
    const call = ua.invite({ to: `sip:${NUMBER}@127.0.0.1:${t.app.sipAddress()!.port}`, from: 'sip:browser@127.0.0.1', sdpOffer: peer.offerSdp, timeoutMs: 15_000 });
    cleanup.push(() => {
      if (!call.ended) call.hangup();
    });
    const answerSdp = await new Promise<string>((resolve, reject) => {
      call.on('answered', (a) => resolve(a.sdp));
      call.on('failed', (f) => reject(new Error(`the INVITE failed: ${f.status} ${f.reason}`)));
    });
    await peer.connect(answerSdp);
    return { peer, call, answerSdp };
  }

  it("answers Chrome-like Opus with ICE-lite and DTLS passive; each hears the other's tone; a hold re-INVITE is answered in kind", async () => {
    const sim = await placeCall(t, 'sim:sam;tone=440;record', ROOM);
    const { peer, call, answerSdp } = await callIn('opus');
    expect(answerSdp).toMatch(/^a=ice-lite$/m);
    expect(answerSdp).toMatch(/^a=setup:passive$/m);
    const ours = readWebRtcAudio(answerSdp);
    if (!ours.ok) throw new Error(ours.reason);
    expect(ours.audio).toMatchObject({ codec: 'opus', payloadType: 111, telephoneEvent: 110 });

    peer.sendTone(1000);
    await untilHearing(async () => peer.received(), 'the browser', [440], [], LEVELS);
    await untilHearing(() => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, sim), 'the sim', [1000], [], LEVELS);

    // JsSIP's hold: a re-INVITE with the same offer, sendonly and one version on.
    const version = Number(/^o=\S+ \S+ (\d+)/m.exec(peer.offerSdp)![1]);
    const held = peer.offerSdp.replace(/^a=sendrecv$/m, 'a=sendonly').replace(/^(o=\S+ \S+ )\d+/m, `$1${version + 1}`);
    const reinvite = await call.reinvite(held);
    expect(reinvite.status).toBe(200);
    const heldAnswer = readWebRtcAudio(call.remoteSdp!);
    if (!heldAnswer.ok) throw new Error(heldAnswer.reason);
    expect(heldAnswer.audio).toMatchObject({ direction: 'recvonly', ice: ours.audio.ice, fingerprint: ours.audio.fingerprint, sessionVersion: ours.audio.sessionVersion + 1 });

    call.hangup();
    await until(async () => (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls.json?Status=in-progress`)).json<{ calls: unknown[] }>().calls.length === 1, 10_000, 'the browser call completed (the sim stays)');
  }, 60_000);

  it('takes a PCMU-only WebRTC offer (werift, an older client) and the media flows both ways', async () => {
    const sim = await placeCall(t, 'sim:sue;tone=600;record', ROOM);
    const { peer, answerSdp } = await callIn('PCMU');
    expect(readWebRtcAudio(answerSdp)).toMatchObject({ ok: true, audio: { codec: 'PCMU', payloadType: 0, telephoneEvent: 101 } });
    peer.sendTone(1000);
    await untilHearing(async () => peer.received(), 'the browser', [600], [], LEVELS);
    await untilHearing(() => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, sim), 'the sim', [1000], [], LEVELS);
  }, 60_000);
});
