/**
 * The control plane's WebRTC legs (webrtc-media.ts) on real media workers, with werift's
 * RTCPeerConnection as the browser (test/helpers/webrtc-peer.ts): our offer answered by the
 * browser connects (ICE-lite, DTLS with us as the server) and carries audio both ways with a
 * simulated caller in a room; the browser's offer answered by us does too. Unusable SDP is
 * refused before any leg opens; an answer that leaves the DTLS role open is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaPlane } from '../../src/endpoints/media/media-plane.js';
import type { MediaLeg } from '../../src/endpoints/media/media-leg.js';
import { answerWebRtc, newIceCredentials, offerWebRtc, WebRtcOfferRefused } from '../../src/endpoints/webrtc/webrtc-media.js';
import { tonesAtTheEnd } from '../helpers/hearing.js';
import { until } from '../helpers/until.js';
import { WebRtcTestPeer } from '../helpers/webrtc-peer.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const HEARD = 1500;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function openPlane(): MediaPlane {
  const plane = new MediaPlane({ host: '127.0.0.1', workers: 1, rtpTimeoutMs: 0 }, quiet);
  cleanup.push(() => plane.close());
  return plane;
}

/** A recording sim speaking 440 Hz in room `r` with `leg`; what the sim heard, on demand. */
async function withSim(plane: MediaPlane, leg: MediaLeg): Promise<() => Promise<Int16Array>> {
  const sim = await plane.openSimLeg('sim', { tone: { frequencyHz: 440, amplitude: 8000 } }, true);
  const room = plane.room('r');
  const flags = { muted: false, hold: false, waiting: false, canHear: true, coachOf: null };
  await Promise.all([sim.enter(room, flags), leg.enter(room, flags)]);
  return async () => {
    const wav = await plane.recording('sim');
    return wav ? new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.byteLength)) : new Int16Array(0);
  };
}

async function hearEachOther(peer: WebRtcTestPeer, simHeard: () => Promise<Int16Array>): Promise<void> {
  peer.sendTone(1000);
  await until(() => (tonesAtTheEnd(peer.received(), [440]).get(440) ?? 0) > HEARD, 15_000, 'the browser hearing the sim');
  let sim = new Int16Array(0);
  await until(
    async () => {
      const more = await simHeard();
      const joined = new Int16Array(sim.length + more.length);
      joined.set(sim);
      joined.set(more, sim.length);
      sim = joined;
      return (tonesAtTheEnd(sim, [1000]).get(1000) ?? 0) > HEARD;
    },
    15_000,
    'the sim hearing the browser',
  );
}

describe('WebRTC media legs of the control plane', () => {
  it('offers to a browser, takes its answer, and the two hear each other through a room', async () => {
    const plane = openPlane();
    const offered = await offerWebRtc(plane, 'CA-offer', { advertisedAddress: '127.0.0.1' });
    expect(offered.offerSdp).toContain(`a=fingerprint:sha-256 ${plane.dtlsFingerprint.value}`);
    expect(offered.offerSdp).toContain(`c=IN IP4 127.0.0.1`);
    const { peer, answerSdp } = await WebRtcTestPeer.answering(offered.offerSdp, { codec: 'opus', telephoneEvent: 110 });
    cleanup.push(() => peer.close());
    const answer = await offered.accept(answerSdp);
    expect(answer).toMatchObject({ codec: 'opus', setup: 'active' });
    await peer.connected();
    await hearEachOther(peer, await withSim(plane, offered.leg));
  }, 40_000);

  it("answers a browser's offer (PCMU), and the two hear each other", async () => {
    const plane = openPlane();
    const peer = await WebRtcTestPeer.create({ codec: 'PCMU' });
    cleanup.push(() => peer.close());
    const { leg, answerSdp, offer } = await answerWebRtc(plane, 'CA-answer', peer.offerSdp);
    expect(offer).toMatchObject({ codec: 'PCMU', setup: 'actpass' });
    expect(answerSdp).toMatch(/^a=setup:passive$/m);
    await peer.connect(answerSdp);
    await hearEachOther(peer, await withSim(plane, leg));
  }, 40_000);

  it('refuses an unusable offer before opening a leg, and an answer that leaves the DTLS role open', async () => {
    const plane = openPlane();
    const plain = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    await expect(answerWebRtc(plane, 'CA-plain', plain)).rejects.toBeInstanceOf(WebRtcOfferRefused);
    expect(plane.leg('CA-plain')).toBeUndefined();

    const offered = await offerWebRtc(plane, 'CA-actpass');
    const { peer, answerSdp } = await WebRtcTestPeer.answering(offered.offerSdp);
    cleanup.push(() => peer.close());
    await expect(offered.accept(answerSdp.replace('a=setup:active', 'a=setup:actpass'))).rejects.toThrow(/setup:active or passive/);
  }, 40_000);

  it('makes fresh ICE credentials of ice-chars, long enough for RFC 8445', () => {
    const [a, b] = [newIceCredentials(), newIceCredentials()];
    expect(a.ufrag).toMatch(/^[A-Za-z0-9+/]{8}$/);
    expect(a.pwd).toMatch(/^[A-Za-z0-9+/]{24}$/);
    expect(b).not.toEqual(a);
  });
});
