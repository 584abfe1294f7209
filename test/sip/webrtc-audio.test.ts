/**
 * WebRTC SDP offer/answer (webrtc-audio.ts) against the offers WebRTC peers really send: Chrome's
 * (written out by hand as Chrome 12x writes it, trickle: no candidates yet), JsSIP's (Chrome's SDP
 * once gathering ended, mDNS host candidate and a srflx one), and werift's own, made here by its
 * RTCPeerConnection — which must also take our answer and our offer. And the refusals: no
 * fingerprint, no ICE credentials, no common codec, plain RTP/AVP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { withoutStunFallback } from '../helpers/webrtc-peer.js';
import { isWebRtcSdp, readWebRtcAudio, writeWebRtcAnswer, writeWebRtcOffer } from '../../src/sip/sdp/webrtc-audio.js';

const FINGERPRINT = 'sha-256 5B:2F:7E:20:6C:43:91:0D:A8:7F:1E:3C:66:A4:5D:B0:19:8E:C2:0F:44:73:D1:9A:6B:E5:08:37:FA:21:C9:5E';

const CHROME_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 3f5e1c2a-8f0b-4a5e-9c1d-2b7e6f4a9d10',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:fQ8y',
  'a=ice-pwd:Xb1Q2mnYXOa8YhVt2K8p9Z+T',
  'a=ice-options:trickle',
  `a=fingerprint:${FINGERPRINT}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:3f5e1c2a-8f0b-4a5e-9c1d-2b7e6f4a9d10 7c3f0a55-2e19-4d7b-a1c4-90b8e2d6f311',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:3735928559 cname:Qx2bO3wS9m7Lr1Ka',
  'a=ssrc:3735928559 msid:3f5e1c2a-8f0b-4a5e-9c1d-2b7e6f4a9d10 7c3f0a55-2e19-4d7b-a1c4-90b8e2d6f311',
  '',
].join('\r\n');

/** What JsSIP sends: Chrome's offer after ICE gathering, candidates in it and c= the default one's. */
const JSSIP_OFFER = CHROME_OFFER.replace('m=audio 9 ', 'm=audio 54321 ')
  .replace('c=IN IP4 0.0.0.0', 'c=IN IP4 203.0.113.7')
  .replace(
    'a=rtcp:9 IN IP4 0.0.0.0',
    [
      'a=rtcp:9 IN IP4 0.0.0.0',
      'a=candidate:2999745851 1 udp 2122260223 4b7f2c1e-93a0-4e57-8d6a-1f0c9b3e2a44.local 54321 typ host generation 0 network-id 1',
      'a=candidate:1052309 1 udp 1686052607 203.0.113.7 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1',
      'a=candidate:4233069003 1 tcp 1518280447 4b7f2c1e-93a0-4e57-8d6a-1f0c9b3e2a44.local 9 typ host tcptype active generation 0 network-id 1',
    ].join('\r\n'),
  );

const local = {
  address: '198.51.100.10',
  port: 40002,
  sessionId: '77',
  sessionVersion: 1,
  ice: { ufrag: 'cNcL', pwd: 'abcdefghijklmnopqrstuvwx' },
  fingerprint: { algorithm: 'sha-256', value: '01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF' },
};

function lines(sdp: string): string[] {
  return sdp.split('\r\n');
}

const peers: RTCPeerConnection[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((pc) => pc.close()));
});

/** A werift peer with one audio transceiver, as test/helpers' WebRTC peer makes it. */
function weriftPeer(): RTCPeerConnection {
  const pc = new RTCPeerConnection({ iceServers: [] });
  peers.push(pc);
  return pc;
}

describe('WebRTC audio offer/answer', () => {
  it("reads Chrome's offer: Opus 111, telephone-event at 48 kHz, ICE, DTLS actpass, mid 0", () => {
    expect(isWebRtcSdp(CHROME_OFFER)).toBe(true);
    const read = readWebRtcAudio(CHROME_OFFER);
    expect(read).toEqual({
      ok: true,
      audio: {
        codec: 'opus',
        payloadType: 111,
        telephoneEvent: 110,
        ice: { ufrag: 'fQ8y', pwd: 'Xb1Q2mnYXOa8YhVt2K8p9Z+T' },
        fingerprint: { algorithm: 'sha-256', value: FINGERPRINT.slice('sha-256 '.length) },
        setup: 'actpass',
        mid: '0',
        protocol: 'UDP/TLS/RTP/SAVPF',
        direction: 'sendrecv',
        onHold: false,
        sessionId: '4611731400430051336',
        sessionVersion: 2,
        candidates: [],
      },
    });
  });

  it('answers Chrome: ice-lite, our credentials, setup:passive, BUNDLE of its mid, one host candidate, Opus with FEC', () => {
    const read = readWebRtcAudio(CHROME_OFFER);
    if (!read.ok) throw new Error(read.reason);
    const answer = lines(writeWebRtcAnswer(local, read.audio));
    expect(answer).toContain('a=ice-lite');
    expect(answer).toContain('a=group:BUNDLE 0');
    expect(answer).toContain('c=IN IP4 198.51.100.10');
    expect(answer).toContain('m=audio 40002 UDP/TLS/RTP/SAVPF 111 110');
    expect(answer).toContain('a=rtpmap:111 opus/48000/2');
    expect(answer).toContain('a=fmtp:111 minptime=10;useinbandfec=1');
    expect(answer).toContain('a=rtpmap:110 telephone-event/48000');
    expect(answer).toContain('a=mid:0');
    expect(answer).toContain('a=rtcp-mux');
    expect(answer).toContain('a=ice-ufrag:cNcL');
    expect(answer).toContain('a=ice-pwd:abcdefghijklmnopqrstuvwx');
    expect(answer).toContain(`a=fingerprint:sha-256 ${local.fingerprint.value}`);
    expect(answer).toContain('a=setup:passive');
    expect(answer).toContain('a=sendrecv');
    expect(answer).toContain('a=candidate:1 1 udp 2130706431 198.51.100.10 40002 typ host');
    // Our answer reads back as what it says.
    const back = readWebRtcAudio(answer.join('\r\n'));
    expect(back.ok && back.audio).toMatchObject({ codec: 'opus', payloadType: 111, telephoneEvent: 110, setup: 'passive', mid: '0', candidates: [{ address: '198.51.100.10', port: 40002, protocol: 'udp' }] });
  });

  it("answers with G.711 when asked, and telephone-event at that codec's clock (126/8000)", () => {
    const read = readWebRtcAudio(CHROME_OFFER, ['PCMA', 'PCMU']);
    if (!read.ok) throw new Error(read.reason);
    expect(read.audio).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEvent: 126 });
    const answer = lines(writeWebRtcAnswer(local, read.audio));
    expect(answer).toContain('m=audio 40002 UDP/TLS/RTP/SAVPF 8 126');
    expect(answer).toContain('a=rtpmap:126 telephone-event/8000');
  });

  it("reads JsSIP's offer with its candidates (an mDNS host one too) and holds when it says sendonly", () => {
    expect(isWebRtcSdp(JSSIP_OFFER)).toBe(true);
    const read = readWebRtcAudio(JSSIP_OFFER);
    if (!read.ok) throw new Error(read.reason);
    expect(read.audio.candidates).toEqual([
      { address: '4b7f2c1e-93a0-4e57-8d6a-1f0c9b3e2a44.local', port: 54321, protocol: 'udp' },
      { address: '203.0.113.7', port: 54321, protocol: 'udp' },
      { address: '4b7f2c1e-93a0-4e57-8d6a-1f0c9b3e2a44.local', port: 9, protocol: 'tcp' },
    ]);
    const held = readWebRtcAudio(JSSIP_OFFER.replace('a=sendrecv', 'a=sendonly').replace(' 2 IN IP4', ' 3 IN IP4'));
    if (!held.ok) throw new Error(held.reason);
    expect(held.audio).toMatchObject({ direction: 'sendonly', onHold: true, sessionVersion: 3 });
    expect(lines(writeWebRtcAnswer(local, held.audio))).toContain('a=recvonly');
  });

  it('answers a passive offer as the active side, and an offer without mid without BUNDLE', () => {
    const passive = readWebRtcAudio(CHROME_OFFER.replace('a=setup:actpass', 'a=setup:passive').replace('a=mid:0\r\n', '').replace('a=group:BUNDLE 0\r\n', ''));
    if (!passive.ok) throw new Error(passive.reason);
    const answer = writeWebRtcAnswer(local, passive.audio);
    expect(lines(answer)).toContain('a=setup:active');
    expect(answer).not.toContain('a=mid');
    expect(answer).not.toContain('BUNDLE');
  });

  it("reads werift's offer, and werift takes our answer", async () => {
    const pc = weriftPeer();
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    withoutStunFallback(pc);
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription!.sdp;
    expect(isWebRtcSdp(offer)).toBe(true);
    const read = readWebRtcAudio(offer);
    if (!read.ok) throw new Error(read.reason);
    expect(read.audio).toMatchObject({ codec: 'opus', setup: 'actpass', mid: '0', direction: 'sendrecv' });
    expect(read.audio.ice.ufrag.length).toBeGreaterThanOrEqual(4);
    await pc.setRemoteDescription({ type: 'answer', sdp: writeWebRtcAnswer(local, read.audio) });
    expect(pc.signalingState).toBe('stable');
    const transport = pc.getTransceivers()[0]!.dtlsTransport;
    // werift took our role and credentials from the answer: it is the DTLS client, we the server.
    expect(transport.role).toBe('client');
    expect(transport.iceTransport.connection.remoteUsername).toBe(local.ice.ufrag);
  });

  it('writes an offer werift answers: actpass, mid 0, Opus, PCMU, PCMA, telephone-event; werift chooses to be active', async () => {
    const offer = writeWebRtcOffer(local);
    expect(lines(offer)).toEqual(
      expect.arrayContaining([
        'a=ice-lite',
        'a=group:BUNDLE 0',
        'm=audio 40002 UDP/TLS/RTP/SAVPF 111 0 8 110 101',
        'a=rtpmap:111 opus/48000/2',
        'a=rtpmap:110 telephone-event/48000',
        'a=rtpmap:101 telephone-event/8000',
        'a=setup:actpass',
        'a=mid:0',
        'a=rtcp-mux',
      ]),
    );
    const pc = weriftPeer();
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    withoutStunFallback(pc);
    await pc.setLocalDescription(await pc.createAnswer());
    const read = readWebRtcAudio(pc.localDescription!.sdp);
    if (!read.ok) throw new Error(read.reason);
    expect(read.audio).toMatchObject({ codec: 'opus', payloadType: 111, setup: 'active', mid: '0' });
  });

  it('keeps ICE credentials that look like numbers as the text they are (werift: a=ice-ufrag:9401)', () => {
    // sdp-transform parses an all-digit value into a number; a ufrag 9401 compared with the
    // string in a check's USERNAME never matched, and the browser's checks were refused (401).
    const digits = CHROME_OFFER.replace(/a=ice-ufrag:[^\r]*/, 'a=ice-ufrag:9401').replace(/a=ice-pwd:[^\r]*/, 'a=ice-pwd:1234567890123456789012');
    const read = readWebRtcAudio(digits);
    if (!read.ok) throw new Error(read.reason);
    expect(read.audio.ice).toStrictEqual({ ufrag: '9401', pwd: '1234567890123456789012' });
    const leading = readWebRtcAudio(CHROME_OFFER.replace(/a=ice-ufrag:[^\r]*/, 'a=ice-ufrag:0042'));
    expect(leading.ok && leading.audio.ice.ufrag).toBe('0042');
  });

  it('refuses offers a WebRTC leg cannot take, saying why', () => {
    const refused = (sdp: string): string => {
      const read = readWebRtcAudio(sdp);
      if (read.ok) throw new Error('read an offer it should refuse');
      return read.reason;
    };
    expect(refused(CHROME_OFFER.replace(/a=fingerprint:[^\r]*\r\n/, ''))).toMatch(/fingerprint/);
    expect(refused(CHROME_OFFER.replace(/a=ice-ufrag:[^\r]*\r\n/, ''))).toMatch(/ICE credentials/);
    expect(refused(CHROME_OFFER.replace(/a=ice-pwd:[^\r]*\r\n/, ''))).toMatch(/ICE credentials/);
    expect(refused(CHROME_OFFER.replace('111 63 9 0 8 13 110 126', '63 9 13 110'))).toMatch(/no common codec/);
    expect(refused(CHROME_OFFER.replace('a=rtcp-mux\r\n', ''))).toMatch(/rtcp-mux/);
    const plain = CHROME_OFFER.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP');
    expect(isWebRtcSdp(plain)).toBe(false);
    expect(refused(plain)).toMatch(/unsupported transport RTP\/AVP/);
    expect(isWebRtcSdp('not SDP at all')).toBe(false);
  });

  it('takes the old RTP/SAVPF with a fingerprint as WebRTC, and SDES RTP/SAVPF not', () => {
    const old = CHROME_OFFER.replace('UDP/TLS/RTP/SAVPF', 'RTP/SAVPF');
    expect(isWebRtcSdp(old)).toBe(true);
    expect(lines(writeWebRtcAnswer(local, (readWebRtcAudio(old) as { ok: true; audio: never }).audio))).toContain('m=audio 40002 RTP/SAVPF 111 110');
    expect(isWebRtcSdp(old.replace(/a=fingerprint:[^\r]*\r\n/, 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n'))).toBe(false);
  });
});
