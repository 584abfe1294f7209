/**
 * An SRTP RtpLeg (RFC 3711, SDES keys of RFC 4568) over real UDP on 127.0.0.1, against a peer
 * socket that encrypts and decrypts with its own SrtpContext: the peer's tone, sent as SRTP
 * with its key, is heard; what the leg sends is SRTP under the leg's key that the peer decodes
 * into the tone; SRTCP both ways (multiplexed, RFC 5761); plain RTP, forged or replayed packets
 * are counted, dropped and never latch the remote address; packets before the peer's key is
 * known are dropped, then play once `setRemoteKey` brings it; a moved leg carries its SRTP state.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../src/media/codec/g711.js';
import { buildSrCompound, isMuxedRtcp, parseRtcp } from '../../src/media/rtp/rtcp-packet.js';
import { parseRtp, serializeRtp } from '../../src/media/rtp/rtp-packet.js';
import { RtpLeg } from '../../src/media/rtp/rtp-leg.js';
import { SrtpContext } from '../../src/media/rtp/srtp-context.js';
import { newSrtpKey } from '../../src/media/rtp/srtp-keys.js';
import type { SrtpSuite } from '../../src/media/rtp/srtp-keys.js';
import { until } from '../helpers/until.js';
import { ToneSource, goertzel } from './goertzel.js';
import { MediaEngine } from '../../src/media/media-engine.js';
import { accepted } from './engine-harness.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

/** A peer that speaks SRTP: sends a tone under its key, keeps every datagram it receives. */
async function securePeer(suite: SrtpSuite) {
  const key = newSrtpKey(suite);
  const out = new SrtpContext(key);
  const socket = dgram.createSocket('udp4');
  const received: Uint8Array[] = [];
  socket.on('message', (msg) => received.push(Uint8Array.from(msg)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const tone = new ToneSource(1000, 8000);
  const payload = new Uint8Array(160);
  let seq = 65500; // crosses the wrap: the ROC must follow on both sides
  const protect = (plain: Uint8Array): Uint8Array => {
    const wire = new Uint8Array(plain.length + 20);
    return wire.subarray(0, out.protectRtp(plain, plain.length, wire));
  };
  return {
    key,
    socket,
    received,
    port: socket.address().port,
    /** The next 20 ms of tone as SRTP. */
    nextPacket(): Uint8Array {
      encodeMulaw(tone.pop(), payload);
      const plain = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 0x5eed, payload });
      seq++;
      return protect(plain);
    },
    protect,
    protectRtcp(plain: Uint8Array): Uint8Array {
      const wire = new Uint8Array(plain.length + out.rtcpOverhead);
      return wire.subarray(0, out.protectRtcp(plain, plain.length, wire));
    },
    send(datagram: Uint8Array, port: number): void {
      socket.send(datagram, port, '127.0.0.1');
    },
  };
}

async function openLeg(options: Parameters<typeof RtpLeg.open>[0]): Promise<RtpLeg> {
  const leg = await RtpLeg.open(options);
  cleanup.push(() => leg.close());
  return leg;
}

const toneLevel = (frame: Int16Array | null): number => (frame === null ? 0 : goertzel(frame, 1000));

describe.each(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const)('SRTP leg, %s', (suite) => {
  it('hears the peer\'s SRTP tone and sends SRTP the peer decodes; SRTCP both ways', async () => {
    const peer = await securePeer(suite);
    const local = newSrtpKey(suite);
    const leg = await openLeg({ srtp: { local, remote: peer.key }, remote: { address: '127.0.0.1', port: peer.port }, rtcpIntervalMs: 100 });
    expect(leg.secure).toBe(true);

    // 60 packets in six rounds of ten (what the jitter buffer holds), across the sequence wrap.
    let accepted = 0;
    let heard = 0;
    leg.onPacket = () => accepted++;
    for (let round = 1; round <= 6; round++) {
      for (let i = 0; i < 10; i++) peer.send(peer.nextPacket(), leg.localPort);
      await until(() => accepted === round * 10, 5000, `${round * 10} SRTP packets accepted`);
      for (let i = 0; i < 10; i++) if (Math.abs(toneLevel(leg.pop()) - 8000) < 300) heard++;
    }
    expect(heard).toBe(60);
    expect(leg.stats).toMatchObject({ srtpAuthFailures: 0, srtpReplays: 0, malformed: 0 });

    // What the leg sends: SRTP with the suite's tag, the tone only under the leg's key.
    const tone = new ToneSource(440, 8000);
    const decoder = new SrtpContext(local);
    for (let i = 0; i < 5; i++) leg.send(tone.pop());
    await until(() => peer.received.filter((m) => !isMuxedRtcp(m)).length >= 5, 5000, 'five packets at the peer');
    const plain = new Uint8Array(256);
    const pcm = new Int16Array(160);
    for (const wire of peer.received.filter((m) => !isMuxedRtcp(m)).slice(1, 5)) {
      expect(wire.length).toBe(172 + (suite === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4));
      const n = decoder.unprotectRtp(wire, wire.length, plain);
      expect(n).toBe(172);
      expect(Buffer.from(wire.subarray(12, 172)).equals(plain.subarray(12, 172))).toBe(false); // the payload went encrypted
      const rtp = parseRtp(plain.subarray(0, n))!;
      expect(rtp.ssrc).toBe(leg.ssrc);
      decodeMulaw(rtp.payload, pcm);
      expect(Math.abs(goertzel(pcm, 440) - 8000)).toBeLessThan(300);
    }

    // The peer's SR as SRTCP on the RTP port: read; our reports follow as SRTCP there too.
    const sr = buildSrCompound({ ssrc: 0x5eed, ntpSeconds: 3_900_000_000, ntpFraction: 0, rtpTimestamp: 1234, packetCount: 60, octetCount: 9600, report: null, cname: 'peer@test' });
    peer.send(peer.protectRtcp(sr), leg.localPort);
    await until(() => leg.receiverFigures().srReceived === 1, 5000, 'the SRTCP SR');
    expect(leg.receiverFigures().lastSr).toMatchObject({ ssrc: 0x5eed, packetCount: 60 });
    await until(() => {
      leg.send(null);
      return peer.received.some((m) => isMuxedRtcp(m));
    }, 5000, 'an SRTCP report from the leg');
    const srtcp = peer.received.find((m) => isMuxedRtcp(m))!;
    expect(parseRtcp(srtcp.subarray(0, srtcp.length - 14))?.sr ?? null).toBeNull(); // encrypted: no SR readable
    const n = decoder.unprotectRtcp(srtcp, srtcp.length, plain);
    expect(n).toBeGreaterThan(0);
    expect(parseRtcp(plain.subarray(0, n))!.sr!.ssrc).toBe(leg.ssrc);
  });

  it('drops plain RTP, forgeries and replays (counted, never latching), and waits for the peer\'s key', async () => {
    const peer = await securePeer(suite);
    const leg = await openLeg({ srtp: { local: newSrtpKey(suite) } });
    // No peer key yet: even genuine SRTP cannot be checked.
    peer.send(peer.nextPacket(), leg.localPort);
    // Plain RTP, and SRTP under a key nobody agreed to.
    const plain = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 7, timestamp: 0, ssrc: 0x5eed, payload: new Uint8Array(160).fill(0xff) });
    peer.send(plain, leg.localPort);
    await until(() => leg.stats.srtpAuthFailures === 2, 5000, 'two packets refused');
    leg.setRemoteKey(peer.key);
    peer.send(plain, leg.localPort);
    const stranger = new SrtpContext(newSrtpKey(suite));
    const forged = new Uint8Array(200);
    peer.send(forged.subarray(0, stranger.protectRtp(plain, plain.length, forged)), leg.localPort);
    await until(() => leg.stats.srtpAuthFailures === 4, 5000, 'plain and forged refused');
    expect(leg.remote).toBeNull(); // nothing unauthenticated moved where we send
    expect(leg.stats.packetsReceived).toBe(0);

    // Genuine packets now play; the same one again is a replay.
    const genuine = peer.nextPacket();
    peer.send(genuine, leg.localPort);
    await until(() => leg.stats.packetsReceived === 1, 5000, 'the genuine packet');
    expect(leg.remote).toEqual({ address: '127.0.0.1', port: peer.port });
    peer.send(genuine, leg.localPort);
    await until(() => leg.stats.srtpReplays === 1, 5000, 'the replay refused');
    expect(leg.stats.packetsReceived).toBe(1);
  });

  it('carries its SRTP state to a leg re-opened from its snapshot', async () => {
    const peer = await securePeer(suite);
    const local = newSrtpKey(suite);
    const first = await RtpLeg.open({ srtp: { local, remote: peer.key }, remote: { address: '127.0.0.1', port: peer.port } });
    for (let i = 0; i < 40; i++) peer.send(peer.nextPacket(), first.localPort); // across the wrap
    await until(() => first.stats.packetsReceived === 40, 5000, 'the first 40');
    for (let i = 0; i < 3; i++) first.send(null);
    const state = first.snapshot();
    await first.close();
    const moved = await openLeg({ restore: state });
    expect(moved.secure).toBe(true);
    for (let i = 0; i < 10; i++) peer.send(peer.nextPacket(), moved.localPort);
    await until(() => moved.stats.packetsReceived === 50, 5000, '10 more after the move');
    expect(moved.stats.srtpAuthFailures).toBe(0);
    moved.send(null);
    await until(() => peer.received.length === 4, 5000, 'the moved leg\'s packet');
    const decoder = new SrtpContext(local);
    const plain = new Uint8Array(256);
    for (const wire of peer.received) expect(decoder.unprotectRtp(wire, wire.length, plain)).toBe(172);
  });
});

describe('SRTP leg setup', () => {
  it('refuses a key of the wrong length before binding, and setRemoteKey on a plain leg', async () => {
    const bad = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: new Uint8Array(15), masterSalt: new Uint8Array(14) };
    await expect(RtpLeg.open({ srtp: { local: bad } })).rejects.toMatchObject({ code: 'invalid' });
    const plainLeg = await openLeg({});
    expect(plainLeg.secure).toBe(false);
    expect(() => plainLeg.setRemoteKey(newSrtpKey('AES_CM_128_HMAC_SHA1_80'))).toThrow(/not an SRTP leg/);
  });
});

describe('SRTP through the media engine', () => {
  it('addLeg with our key, setRemote with the peer\'s: the peer is heard, and LegStats counts refusals', async () => {
    const engine = new MediaEngine(() => undefined, { rtpTimeoutMs: 0 });
    cleanup.push(() => engine.close());
    await engine.request('createRoom', { roomId: 'r' });
    const peer = await securePeer('AES_CM_128_HMAC_SHA1_80');
    const { localPort } = await engine.request('addLeg', { roomId: 'r', legId: 'A', kind: 'rtp', codec: 'PCMU', srtp: { local: newSrtpKey('AES_CM_128_HMAC_SHA1_80') } });
    const leg = engine.rtpLegOf('A')!;
    peer.send(peer.nextPacket(), localPort!); // before the answer: no key to check it with
    await until(() => {
      engine.readSockets();
      return leg.stats.srtpAuthFailures === 1;
    }, 5000, 'the packet before the key refused');
    await engine.request('setRemote', { legId: 'A', address: '127.0.0.1', port: peer.port, srtp: peer.key });
    for (let i = 0; i < 5; i++) peer.send(peer.nextPacket(), localPort!);
    await accepted(engine, leg, 5);
    const stats = await engine.request('stats', {});
    const a = stats.legs.find((l) => l.legId === 'A')!;
    expect(a.packetsIn).toBe(5);
    expect(a.srtp).toEqual({ authFailures: 1, replays: 0 });
  });
});
