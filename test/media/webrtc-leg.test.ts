/**
 * WebRTC legs of the media plane (issue 16), against werift's RTCPeerConnection as the browser
 * (test/helpers/webrtc-peer.ts): real UDP on loopback, real ICE checks to our ICE-lite agent,
 * a real DTLS handshake (werift the client, our leg the server), SRTP both ways.
 *
 * - PCMU and Opus: the browser's tone is heard by a recording sim leg in the room, and the sim's
 *   tone by the browser.
 * - A certificate that does not match the SDP's fingerprint closes the leg with `dtls-failed`.
 * - A STUN check with a bad MESSAGE-INTEGRITY is answered 401 and latches nothing; a good one
 *   is answered with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT and latches.
 * - A connected leg moves to a room of another worker and carries on (SRTP keys, ICE state).
 * - A peer's ICE ufrag that is not text (an SDP parser's number) is refused, not silently 401'd.
 * - Moves as the DTLS handshake settles (we are server): our last flight leaves before the old
 *   socket closes, and the moved leg sends it again when the client retransmits its own.
 * - The addresses ICE validated travel: DTLS from a checked, unlatched pair is taken after a move.
 *
 * Our answer SDP is written here by hand (the SDP module is another part of the code) from the
 * leg's port, our ICE credentials and our certificate's fingerprint.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Message, parseMessage } from 'werift-ice/lib/ice-server/src/stun/message.js';
import { classes, methods } from 'werift-ice/lib/ice-server/src/stun/const.js';
import { MediaClient } from '../../src/media/media-client.js';
import type { AudioCodecName, IceCredentials, MediaNotification } from '../../src/media/protocol.js';
import { createDtlsCertificate } from '../../src/media/rtp/dtls-certificate.js';
import { RtpLeg } from '../../src/media/rtp/rtp-leg.js';
import { goertzel } from './goertzel.js';
import { until } from '../helpers/until.js';
import { WebRtcTestPeer } from '../helpers/webrtc-peer.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** ice-chars (RFC 8839 §5.4) of the given length. */
const iceChars = (n: number): string => randomBytes(n).toString('base64').replace(/[^A-Za-z0-9+/]/g, 'x').slice(0, n);
const newIce = (): IceCredentials => ({ ufrag: iceChars(8), pwd: iceChars(24) });

/** Our answer to the test peer's offer, as the SDP module would write it (ICE-lite, passive). */
function answerSdp(offer: string, local: { port: number; ice: IceCredentials; fingerprint: { algorithm: string; value: string } }, codec: AudioCodecName, setup: 'passive' | 'active' = 'passive'): string {
  const mid = /^a=mid:(.+)$/m.exec(offer)?.[1]?.trim() ?? '0';
  const pt = codec === 'opus' ? 111 : codec === 'PCMU' ? 0 : 8;
  const rtpmap = codec === 'opus' ? ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1'] : [`a=rtpmap:${pt} ${codec}/8000`];
  const teRate = codec === 'opus' ? 48000 : 8000;
  return [
    'v=0',
    'o=- 4242 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mid}`,
    'a=ice-lite',
    `m=audio ${local.port} UDP/TLS/RTP/SAVPF ${pt} 101`,
    'c=IN IP4 127.0.0.1',
    'a=rtcp-mux',
    `a=mid:${mid}`,
    'a=sendrecv',
    `a=setup:${setup}`,
    `a=ice-ufrag:${local.ice.ufrag}`,
    `a=ice-pwd:${local.ice.pwd}`,
    `a=fingerprint:${local.fingerprint.algorithm} ${local.fingerprint.value}`,
    ...rtpmap,
    `a=rtpmap:101 telephone-event/${teRate}`,
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${local.port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

/** An ICE connectivity check as a controlling full agent sends it (RFC 8445 §7.2.2). */
function bindingRequest(username: string, pwd: string, useCandidate: boolean): Message {
  const request = new Message(methods.BINDING, classes.REQUEST);
  request.setAttribute('USERNAME', username);
  request.setAttribute('PRIORITY', 1845501695);
  request.setAttribute('ICE-CONTROLLING', 0x1234n);
  if (useCandidate) request.setAttribute('USE-CANDIDATE', null);
  request.addMessageIntegrity(Buffer.from(pwd));
  request.addFingerprint();
  return request;
}

/** A UDP socket on loopback that keeps what it receives. */
async function udpPeer(): Promise<{ socket: dgram.Socket; replies: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const replies: Buffer[] = [];
  socket.on('message', (msg) => replies.push(msg));
  return { socket, replies };
}

/** RFC 6347 §4.1: a record's content type and epoch (ChangeCipherSpec is 20; the Finished is the first record of epoch 1). */
const isLastFlightRecord = (d: Uint8Array): boolean => d[0] === 20 || (d[0] === 22 && ((d[3]! << 8) | d[4]!) === 1);

/**
 * A DTLS client (werift-dtls) on a plain UDP socket that passed ICE with the leg: what it
 * receives goes through `drop` (true: lost on the way), and the Finished records it sends (its
 * last flight, again on every retransmission) are counted.
 */
async function dtlsClientOf(localPort: number, ice: IceCredentials, peerIce: IceCredentials): Promise<{ certificate: ReturnType<typeof createDtlsCertificate>; connect(): Promise<void>; finishedSent: () => number; heard: () => number; drop: { when: (d: Uint8Array) => boolean } }> {
  const certificate = createDtlsCertificate('test-browser');
  const { socket, replies } = await udpPeer();
  socket.send(bindingRequest(`${ice.ufrag}:${peerIce.ufrag}`, ice.pwd, true).bytes, localPort, '127.0.0.1');
  await until(() => replies.length === 1, 5000, 'the answer to the check');
  const { DtlsClient } = await import('werift-dtls/lib/dtls/src/index.js');
  const drop = { when: (_d: Uint8Array): boolean => false };
  let finished = 0;
  let heard = 0;
  let shut = false;
  const transport = {
    type: 'udp',
    address: { address: '127.0.0.1', port: socket.address().port, family: 'IPv4' },
    closed: false,
    onData: (_data: Buffer, _addr: readonly [string, number]): void => undefined,
    send: async (data: Buffer): Promise<void> => {
      if (shut) return;
      if (data[0] === 22 && isLastFlightRecord(data)) finished++;
      socket.send(data, localPort, '127.0.0.1');
    },
    close: async (): Promise<void> => undefined,
  };
  socket.on('message', (msg: Buffer) => {
    if (msg[0]! < 20 || msg[0]! >= 64) return;
    heard++;
    if (!drop.when(msg)) transport.onData(msg, ['127.0.0.1', localPort]);
  });
  const client = new DtlsClient({ transport, cert: certificate.certPem, key: certificate.keyPem, signatureHash: { hash: 4, signature: 3 }, srtpProfiles: [1], extendedMasterSecret: true });
  cleanup.push(() => {
    shut = true;
  });
  return {
    certificate,
    connect: () =>
      new Promise<void>((resolve, reject) => {
        client.onConnect.subscribe(() => resolve());
        client.connect().catch(reject);
      }),
    finishedSent: () => finished,
    heard: () => heard,
    drop,
  };
}

/** The PCM of a WAV file the engine made (44-octet header, PCM16 mono). */
const wavPcm = (wav: Uint8Array): Int16Array => new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.byteLength));

/** A room with a recording sim leg talking 440 Hz, and a WebRTC leg connected to a werift peer. */
async function browserInRoom(client: MediaClient, roomId: string, codec: AudioCodecName, dtlsRole: 'server' | 'client' = 'server'): Promise<{ peer: WebRtcTestPeer; heard: () => Promise<Int16Array> }> {
  await client.request('createRoom', { roomId });
  await client.request('addLeg', { roomId, legId: `${roomId}-sim`, kind: 'sim', tone: { frequencyHz: 440, amplitude: 8000 }, record: true });
  const peer = await WebRtcTestPeer.create({ codec });
  cleanup.push(() => peer.close());
  const ice = newIce();
  const { localPort } = await client.request('addLeg', {
    roomId,
    legId: `${roomId}-web`,
    kind: 'rtp',
    codec,
    ...(codec === 'opus' ? { payloadType: 111 } : {}),
    telephoneEventPayloadType: 101,
    webrtc: { localIce: ice, remoteIce: peer.ice, dtlsRole, remoteFingerprint: peer.fingerprint },
  });
  await peer.connect(answerSdp(peer.offerSdp, { port: localPort!, ice, fingerprint: client.dtlsFingerprint }, codec, dtlsRole === 'server' ? 'passive' : 'active'));
  let recorded = new Int16Array(0);
  const heard = async (): Promise<Int16Array> => {
    const { wav } = await client.request('takeRecording', { legId: `${roomId}-sim` });
    const pcm = wavPcm(wav);
    const joined = new Int16Array(recorded.length + pcm.length);
    joined.set(recorded);
    joined.set(pcm, recorded.length);
    recorded = joined.subarray(Math.max(0, joined.length - 8000));
    return recorded.subarray(Math.max(0, recorded.length - 3200));
  };
  return { peer, heard };
}

describe('WebRTC legs (werift as the browser)', () => {
  for (const codec of ['PCMU', 'opus'] as const) {
    it(`connects over ICE-lite and DTLS-SRTP, and both hear each other (${codec})`, async () => {
      const client = new MediaClient({ workers: 1, rtpTimeoutMs: 0 });
      cleanup.push(() => client.close());
      const closed: MediaNotification[] = [];
      client.on('legClosed', (n) => closed.push(n));
      expect(client.dtlsFingerprint.algorithm).toBe('sha-256');
      expect(client.dtlsFingerprint.value).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

      const { peer, heard } = await browserInRoom(client, 'r', codec);
      peer.sendTone(1000);
      await until(async () => goertzel(await heard(), 1000) > 2000, 10_000, `the sim hearing the browser's 1000 Hz (${codec})`);
      await until(() => goertzel(peer.received(400), 440) > 2000, 10_000, `the browser hearing the sim's 440 Hz (${codec})`);
      const stats = await client.request('stats', {});
      const web = stats.legs.find((l) => l.legId === 'r-web')!;
      expect(web.packetsIn).toBeGreaterThan(0);
      expect(web.packetsOut).toBeGreaterThan(0);
      expect(web.srtp?.authFailures).toBe(0);
      expect(closed).toEqual([]);
    });
  }

  it('is the DTLS client when its SDP says setup:active (the peer is the server)', async () => {
    const client = new MediaClient({ workers: 1, rtpTimeoutMs: 0 });
    cleanup.push(() => client.close());
    const closed: MediaNotification[] = [];
    client.on('legClosed', (n) => closed.push(n));
    const { peer, heard } = await browserInRoom(client, 'r', 'PCMA', 'client');
    peer.sendTone(1000);
    await until(async () => goertzel(await heard(), 1000) > 2000, 10_000, "the sim hearing the browser's 1000 Hz");
    await until(() => goertzel(peer.received(400), 440) > 2000, 10_000, "the browser hearing the sim's 440 Hz");
    expect(closed).toEqual([]);
  });

  it('closes the leg with dtls-failed when the certificate does not match the fingerprint', async () => {
    const client = new MediaClient({ workers: 1, rtpTimeoutMs: 0 });
    cleanup.push(() => client.close());
    const closed: MediaNotification[] = [];
    client.on('legClosed', (n) => closed.push(n));
    await client.request('createRoom', { roomId: 'r' });
    const peer = await WebRtcTestPeer.create({ codec: 'PCMU' });
    cleanup.push(() => peer.close());
    const ice = newIce();
    const wrong = { algorithm: 'sha-256', value: createDtlsCertificate().fingerprint.value };
    const { localPort } = await client.request('addLeg', {
      roomId: 'r',
      legId: 'web',
      kind: 'rtp',
      codec: 'PCMU',
      webrtc: { localIce: ice, remoteIce: peer.ice, dtlsRole: 'server', remoteFingerprint: wrong },
    });
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp(peer.offerSdp, { port: localPort!, ice, fingerprint: client.dtlsFingerprint }, 'PCMU') });
    await until(() => closed.find((n) => n.type === 'legClosed' && n.legId === 'web'), 12_000, 'the leg closed');
    expect(closed[0]).toMatchObject({ legId: 'web', reason: 'dtls-failed' });
  });

  it('answers a STUN check with a bad MESSAGE-INTEGRITY 401 and latches nothing; a good one is answered and latched', async () => {
    const certificate = createDtlsCertificate();
    const ice = newIce();
    const peerIce = newIce();
    const leg = await RtpLeg.open({ webrtc: { localIce: ice, remoteIce: peerIce, dtlsRole: 'server', remoteFingerprint: null }, dtlsCertificate: certificate });
    cleanup.push(() => leg.close());
    const { socket, replies } = await udpPeer();

    const check = (pwd: string, useCandidate: boolean): Message => bindingRequest(`${ice.ufrag}:${peerIce.ufrag}`, pwd, useCandidate);

    const bad = check('not-our-password-at-all', true);
    socket.send(bad.bytes, leg.localPort, '127.0.0.1');
    await until(() => replies.length === 1, 5000, 'the answer to the bad check');
    const error = parseMessage(replies[0]!)!;
    expect(error.messageClass).toBe(classes.ERROR);
    expect(error.transactionId.equals(bad.transactionId)).toBe(true);
    expect(error.getAttributeValue('ERROR-CODE')[0]).toBe(401);
    expect(leg.snapshot().webrtc!.remote).toBeNull();

    const good = check(ice.pwd, true);
    socket.send(good.bytes, leg.localPort, '127.0.0.1');
    await until(() => replies.length === 2, 5000, 'the answer to the good check');
    // Parsed with our pwd: MESSAGE-INTEGRITY (and FINGERPRINT) must check out.
    const success = parseMessage(replies[1]!, Buffer.from(ice.pwd))!;
    expect(success).toBeDefined();
    expect(success.messageClass).toBe(classes.RESPONSE);
    expect(success.transactionId.equals(good.transactionId)).toBe(true);
    expect(success.getAttributeValue('XOR-MAPPED-ADDRESS')).toEqual(['127.0.0.1', socket.address().port]);
    expect(success.getAttributeValue('FINGERPRINT')).toBeDefined();
    expect(leg.snapshot().webrtc!.remote).toEqual({ address: '127.0.0.1', port: socket.address().port });
    // Not media: STUN is not counted as RTP (consent checks do not hold off the RTP timeout).
    expect(leg.stats.packetsReceived).toBe(0);
    // Nothing is sent as RTP before DTLS is connected.
    leg.send(null);
    expect(leg.stats.packetsSent).toBe(0);
  });

  it("refuses a peer's ICE ufrag that is not text (an SDP parser's number 9401 would fail every check with 401)", async () => {
    const certificate = createDtlsCertificate();
    const numeric = { ufrag: 9401, pwd: 'aec445c07d7281a6f78966' } as unknown as IceCredentials;
    await expect(RtpLeg.open({ webrtc: { localIce: newIce(), remoteIce: numeric, dtlsRole: 'server', remoteFingerprint: null }, dtlsCertificate: certificate })).rejects.toMatchObject({ code: 'invalid' });
    const leg = await RtpLeg.open({ webrtc: { localIce: newIce(), remoteIce: null, dtlsRole: 'server', remoteFingerprint: null }, dtlsCertificate: certificate });
    cleanup.push(() => leg.close());
    expect(() => leg.updateWebRtc({ remoteIce: numeric })).toThrow(/ufrag and pwd must be non-empty strings/);
    expect(leg.snapshot().webrtc!.remoteIce).toBeNull();
  });

  it('moves a connected leg to a room of another worker, which carries its SRTP and ICE on', async () => {
    const client = new MediaClient({ workers: 2, rtpTimeoutMs: 0 });
    cleanup.push(() => client.close());
    const closed: MediaNotification[] = [];
    client.on('legClosed', (n) => closed.push(n));
    const { peer } = await browserInRoom(client, 'a', 'PCMU');
    await client.request('createRoom', { roomId: 'b' });
    await client.request('addLeg', { roomId: 'b', legId: 'b-sim', kind: 'sim', tone: { frequencyHz: 1500, amplitude: 8000 }, record: true });
    const stats = await client.request('stats', {});
    expect(stats.workers!.map((w) => w.rooms)).toEqual([1, 1]);
    peer.sendTone(1000);
    await until(() => goertzel(peer.received(400), 440) > 2000, 10_000, 'room a at the browser');

    await client.request('moveLeg', { legId: 'a-web', roomId: 'b' });
    await until(() => goertzel(peer.received(400), 1500) > 2000 && goertzel(peer.received(400), 440) < 500, 10_000, 'room b at the browser after the move');
    await until(
      async () => {
        const heardB = wavPcm((await client.request('takeRecording', { legId: 'b-sim' })).wav);
        return goertzel(heardB.subarray(Math.max(0, heardB.length - 3200)), 1000) > 2000;
      },
      10_000,
      'the browser heard in room b',
    );
    const after = await client.request('stats', {});
    expect(after.legs.find((l) => l.legId === 'a-web')!.srtp?.authFailures).toBe(0);
    expect(closed).toEqual([]);
  });

  /** Rooms a and b, one on each of two workers; the legs closed are kept. */
  async function roomsOnTwoWorkers(): Promise<{ client: MediaClient; closed: MediaNotification[] }> {
    const client = new MediaClient({ workers: 2, rtpTimeoutMs: 0 });
    cleanup.push(() => client.close());
    const closed: MediaNotification[] = [];
    client.on('legClosed', (n) => closed.push(n));
    await client.request('createRoom', { roomId: 'a' });
    await client.request('createRoom', { roomId: 'b' });
    expect((await client.request('stats', {})).workers!.map((w) => w.rooms)).toEqual([1, 1]);
    return { client, closed };
  }

  /** Two rooms on two workers, a WebRTC leg (DTLS server) in the first, and a DTLS client that passed ICE with it. */
  async function serverLegAcrossWorkers(): Promise<{ client: MediaClient; peer: Awaited<ReturnType<typeof dtlsClientOf>>; closed: MediaNotification[] }> {
    const { client, closed } = await roomsOnTwoWorkers();
    const ice = newIce();
    const peerIce = newIce();
    const { localPort } = await client.request('addLeg', { roomId: 'a', legId: 'web', kind: 'rtp', codec: 'PCMU', webrtc: { localIce: ice, remoteIce: peerIce, dtlsRole: 'server', remoteFingerprint: null } });
    const peer = await dtlsClientOf(localPort!, ice, peerIce);
    await client.request('setRemote', { legId: 'web', webrtc: { remoteFingerprint: peer.certificate.fingerprint } });
    return { client, peer, closed };
  }

  it('a move asked during the handshake sends our last flight before the socket closes: the client needs no retransmission', async () => {
    const { client, peer, closed } = await serverLegAcrossWorkers();
    const connected = peer.connect();
    // Asked once the handshake began (our HelloVerifyRequest came), the move waits for it and
    // goes on the moment it settles — as our Finished was just queued in the worker's UDP batch.
    await until(() => peer.heard() > 0, 5000, 'our HelloVerifyRequest');
    const moved = client.request('moveLeg', { legId: 'web', roomId: 'b' });
    await connected;
    await moved;
    expect(peer.finishedSent()).toBe(1);
    expect(closed).toEqual([]);
  });

  it('a moved leg sends its last flight again when the client retransmits its own (RFC 6347 §4.2.4)', async () => {
    const { client, peer, closed } = await serverLegAcrossWorkers();
    // Our ChangeCipherSpec and Finished are lost on the way (the first time), and the leg moves
    // as the handshake settles: the client's retransmission reaches the other worker.
    let dropped = 0;
    peer.drop.when = (d) => isLastFlightRecord(d) && dropped++ < 2;
    const connected = peer.connect();
    await until(() => peer.heard() > 0, 5000, 'our HelloVerifyRequest');
    await client.request('moveLeg', { legId: 'web', roomId: 'b' });
    await Promise.race([connected, new Promise((_, reject) => setTimeout(() => reject(new Error('the client never heard our last flight')), 5000))]);
    expect(peer.finishedSent()).toBeGreaterThan(1);
    expect(closed).toEqual([]);
    const legs = (await client.request('stats', {})).legs;
    expect(legs.find((l) => l.legId === 'web')).toBeDefined();
  });

  it('carries the addresses ICE validated across a move: a ClientHello from a checked pair that is not the latched one is answered there', async () => {
    const { client, closed } = await roomsOnTwoWorkers();
    const ice = newIce();
    const peerIce = newIce();
    const { localPort } = await client.request('addLeg', { roomId: 'a', legId: 'web', kind: 'rtp', codec: 'PCMU', webrtc: { localIce: ice, remoteIce: peerIce, dtlsRole: 'server', remoteFingerprint: null } });
    // Two pairs pass their checks, none nominated: the first is latched, the second only validated
    // (werift checks all its pairs and then speaks DTLS on the one it picks).
    const first = await udpPeer();
    const second = await udpPeer();
    for (const peer of [first, second]) {
      peer.socket.send(bindingRequest(`${ice.ufrag}:${peerIce.ufrag}`, ice.pwd, false).bytes, localPort!, '127.0.0.1');
      await until(() => peer.replies.length === 1, 5000, 'the answer to the check');
    }
    await client.request('moveLeg', { legId: 'web', roomId: 'b' });
    const { DtlsClient } = await import('werift-dtls/lib/dtls/src/index.js');
    let muted = false;
    cleanup.push(() => {
      muted = true;
    });
    const hello = new DtlsClient({
      transport: {
        type: 'udp',
        address: { address: '127.0.0.1', port: second.socket.address().port, family: 'IPv4' },
        closed: false,
        onData: () => undefined,
        send: async (data: Buffer) => {
          if (!muted) second.socket.send(data, localPort!, '127.0.0.1');
        },
        close: async () => undefined,
      },
      srtpProfiles: [1],
    });
    hello.connect().catch(() => undefined);
    await until(() => second.replies.length === 2, 5000, 'our HelloVerifyRequest, in the other worker, to the second address');
    expect(second.replies[1]![0]).toBe(22);
    expect(first.replies).toHaveLength(1);
    expect(closed).toEqual([]);
  });

  it('fails a handshake not done in 10 s (dtls-failed), and a move asked meanwhile waits for it', { timeout: 30_000 }, async () => {
    const { client, closed } = await roomsOnTwoWorkers();
    const ice = newIce();
    const peerIce = newIce();
    const { localPort } = await client.request('addLeg', {
      roomId: 'a',
      legId: 'web',
      kind: 'rtp',
      codec: 'PCMU',
      webrtc: { localIce: ice, remoteIce: peerIce, dtlsRole: 'server', remoteFingerprint: createDtlsCertificate().fingerprint },
    });
    // A peer that passes ICE, sends its ClientHello (werift-dtls's client), and then hears nothing:
    // our HelloVerifyRequest never reaches it, so the handshake stops there.
    const { socket, replies } = await udpPeer();
    socket.send(bindingRequest(`${ice.ufrag}:${peerIce.ufrag}`, ice.pwd, true).bytes, localPort!, '127.0.0.1');
    await until(() => replies.length === 1, 5000, 'the answer to the check');
    const { DtlsClient } = await import('werift-dtls/lib/dtls/src/index.js');
    let muted = false;
    const hello = new DtlsClient({
      transport: {
        type: 'udp',
        address: { address: '127.0.0.1', port: socket.address().port, family: 'IPv4' },
        closed: false,
        onData: () => undefined,
        send: async (data: Buffer) => {
          if (!muted) socket.send(data, localPort!, '127.0.0.1');
        },
        close: async () => undefined,
      },
      srtpProfiles: [1],
    });
    cleanup.push(() => {
      muted = true;
    });
    hello.connect().catch(() => undefined);
    await until(() => replies.length === 2, 5000, 'our HelloVerifyRequest: the handshake began');
    muted = true;
    const started = Date.now();
    // The move waits for the handshake's outcome; it failed, so the leg is gone and so is the move.
    await expect(client.request('moveLeg', { legId: 'web', roomId: 'b' })).rejects.toMatchObject({ code: 'no-leg' });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(9000);
    expect(waited).toBeLessThan(15_000);
    expect(closed).toMatchObject([{ legId: 'web', reason: 'dtls-failed' }]);
  });
});
