/**
 * RTCP (RFC 3550 §6): packets built and parsed, receiver statistics (A.3 loss, A.8 jitter) from
 * scripted arrivals, and an RtpLeg against a raw UDP peer on 127.0.0.1: RTCP on port + 1, our
 * compound SR + SDES, the peer's SR, RR and garbage, and RTCP multiplexed on the RTP port
 * (RFC 5761) that is never taken for audio. Waits are for packets or counters, never sleeps.
 */
import type { RtpSocket } from '../../src/media/rtp/rtp-socket.js';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpLeg } from '../../src/media/rtp/rtp-leg.js';
import { RTCP_RR, RTCP_SDES, RTCP_SR, buildSrCompound, isMuxedRtcp, parseRtcp } from '../../src/media/rtp/rtcp-packet.js';
import type { ParsedRtcp } from '../../src/media/rtp/rtcp-packet.js';
import { RtcpSession } from '../../src/media/rtp/rtcp-session.js';
import { serializeRtp } from '../../src/media/rtp/rtp-packet.js';
import { bindPair, bindUdp } from '../../src/media/rtp/udp.js';
import { until } from '../helpers/until.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const sr = (ssrc: number, packetCount: number) =>
  buildSrCompound({ ssrc, ntpSeconds: 3_900_000_000, ntpFraction: 0x8000_0000, rtpTimestamp: 1234, packetCount, octetCount: packetCount * 160, report: null, cname: 'peer@test' });

/** An RR (§6.4.2) with one report block about `about`. */
function rr(ssrc: number, about: number, lost: number): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  b[0] = 0x81;
  b[1] = RTCP_RR;
  v.setUint16(2, 7);
  v.setUint32(4, ssrc);
  v.setUint32(8, about);
  v.setUint32(12, lost & 0xffffff);
  b[12] = 64; // fraction lost 64/256
  v.setUint32(20, 800); // jitter, timestamp units
  return b;
}

describe('RTCP packets', () => {
  it('builds SR + SDES CNAME that parses back, report block included', () => {
    const buf = buildSrCompound({
      ssrc: 0xdeadbeef, ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 640,
      report: { ssrc: 7, fractionLost: 25, cumulativeLost: -3, extendedHighestSeq: 70000, jitter: 12, lastSr: 99, delaySinceLastSr: 65536 },
      cname: 'conclave-x',
    });
    expect(buf.length % 4).toBe(0);
    expect(buf[1]).toBe(RTCP_SR);
    expect(buf[28 + 24 + 1]).toBe(RTCP_SDES);
    expect(new TextDecoder().decode(buf.subarray(28 + 24 + 10, 28 + 24 + 20))).toBe('conclave-x');
    const p = parseRtcp(buf)!;
    expect(p.sr).toEqual({ ssrc: 0xdeadbeef, ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 640 });
    expect(p.reports).toEqual([{ ssrc: 7, fractionLost: 25, cumulativeLost: -3, extendedHighestSeq: 70000, jitter: 12, lastSr: 99, delaySinceLastSr: 65536 }]);
  });

  it('rejects garbage without throwing (A.2 checks)', () => {
    const good = sr(1, 1);
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array(3),
      good.subarray(0, good.length - 4), // lengths no longer add up
      Uint8Array.from(good, (x, i) => (i === 0 ? (x & 0x3f) | 0x40 : x)), // version 1
      Uint8Array.from(good, (x, i) => (i === 3 ? 0xff : x)), // length past the end
      Uint8Array.from(good, (x, i) => (i === 1 ? RTCP_SDES : x)), // must start with SR/RR
      Uint8Array.from(good, (x, i) => (i === 0 ? x | 0x1f : x)), // 31 report blocks in 28 bytes
    ];
    for (let seed = 1; seed < 200; seed++) bad.push(Uint8Array.from({ length: (seed % 40) * 4 }, (_, i) => (seed * 7919 + i * 104729) & 0xff));
    for (const b of bad) expect(() => parseRtcp(b)).not.toThrow();
    for (const b of bad.slice(0, 7)) expect(parseRtcp(b)).toBeNull();
  });

  it('tells RTCP from RTP on a multiplexed port by the second octet (RFC 5761 §4)', () => {
    expect(isMuxedRtcp(sr(1, 1))).toBe(true);
    expect(isMuxedRtcp(rr(1, 2, 0))).toBe(true);
    const rtp = serializeRtp({ marker: true, payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(160) });
    expect(isMuxedRtcp(rtp)).toBe(false);
  });
});

describe('receiver statistics', () => {
  it('counts loss as expected − received (A.3), across a sequence wrap', () => {
    const s = new RtcpSession(250);
    const seqs = [65530, 65531, 65533, 65534, 65535, 0, 1, 3, 4];
    seqs.forEach((seq, i) => s.onRtp(seq, i * 160, 42, i * 20));
    const f = s.figures(1000);
    expect(f.packetsExpected).toBe(11);
    expect(f.packetsLost).toBe(2);
  });

  it('computes interarrival jitter per A.8', () => {
    const s = new RtcpSession(250);
    // On time: transit constant, jitter 0.
    for (let i = 0; i < 5; i++) s.onRtp(i, i * 160, 9, 1000 + i * 20);
    expect(s.figures(0).jitterMs).toBe(0);
    // One packet 10 ms late (80 units): J = 80/16 = 5; the next on time again: J += (80 − J)/16.
    s.onRtp(5, 5 * 160, 9, 1000 + 5 * 20 + 10);
    expect(s.s.jitter).toBeCloseTo(5, 9);
    s.onRtp(6, 6 * 160, 9, 1000 + 6 * 20);
    expect(s.s.jitter).toBeCloseTo(5 + 75 / 16, 9);
    expect(s.figures(0).jitterMs).toBeCloseTo((5 + 75 / 16) / 8, 9);
  });
});

interface RawPeer {
  rtp: RtpSocket;
  rtcp: RtpSocket;
  rtpIn: Uint8Array[];
  rtcpIn: ParsedRtcp[];
}

async function rawPeer(): Promise<RawPeer> {
  const pair = await bindPair('127.0.0.1', undefined, true);
  const peer: RawPeer = { rtp: pair.rtp, rtcp: pair.rtcp!, rtpIn: [], rtcpIn: [] };
  peer.rtp.onMessage((m) => peer.rtpIn.push(m.slice()));
  peer.rtcp.onMessage((m) => {
    const p = parseRtcp(m);
    if (p) peer.rtcpIn.push(p);
  });
  cleanup.push(() => peer.rtp.close());
  cleanup.push(() => peer.rtcp.close());
  return peer;
}

describe('RtpLeg RTCP over UDP', () => {
  it('binds RTCP on port + 1, reports with SR + SDES, and reads SR, RR, garbage and muxed RTCP', async () => {
    const peer = await rawPeer();
    const leg = await RtpLeg.open({ remote: { address: '127.0.0.1', port: peer.rtp.localPort }, rtcpIntervalMs: 100 });
    cleanup.push(() => leg.close());
    expect(leg.localPort % 2).toBe(0);
    expect(leg.rtcpPort).toBe(leg.localPort + 1);

    // The peer's stream, with two packets missing (seq 13 and 17).
    const peerSsrc = 0x1234;
    let accepted = 0;
    leg.onPacket = () => accepted++;
    for (let seq = 10; seq < 30; seq++) {
      if (seq === 13 || seq === 17) continue;
      const pkt = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: peerSsrc, payload: new Uint8Array(160).fill(0xff) });
      peer.rtp.send(pkt, leg.localPort, '127.0.0.1');
    }
    await until(() => accepted === 18, 5000, 'the peer stream');
    expect(leg.receiverFigures().packetsLost).toBe(2);

    // Sending drives our SR: every ~5 packets at a 100 ms interval (randomised 0.5–1.5).
    await until(() => {
      leg.send(null);
      return peer.rtcpIn.some((p) => p.sr !== null);
    }, 5000, 'an SR at the peer RTCP port');
    const ours = peer.rtcpIn.find((p) => p.sr !== null)!;
    expect(ours.sr!.ssrc).toBe(leg.ssrc);
    expect(ours.sr!.packetCount).toBeGreaterThan(0);
    expect(ours.sr!.octetCount).toBe(ours.sr!.packetCount * 160);
    expect(ours.reports).toHaveLength(1);
    expect(ours.reports[0]).toMatchObject({ ssrc: peerSsrc, cumulativeLost: 2, extendedHighestSeq: 29 });
    expect(peer.rtpIn.every((m) => !isMuxedRtcp(m))).toBe(true);

    // The peer's SR, an RR about our stream, then garbage: figures update, garbage is counted.
    peer.rtcp.send(sr(peerSsrc, 18), leg.rtcpPort!, '127.0.0.1');
    peer.rtcp.send(rr(peerSsrc, leg.ssrc, 5), leg.rtcpPort!, '127.0.0.1');
    peer.rtcp.send(new Uint8Array([0x80, 200, 0xff, 0xff, 1, 2, 3]), leg.rtcpPort!, '127.0.0.1');
    await until(() => leg.receiverFigures().rtcpMalformed === 1 && leg.receiverFigures().rrReceived === 1, 5000, 'SR, RR and garbage');
    let f = leg.receiverFigures();
    expect(f.srReceived).toBe(1);
    expect(f.lastSr).toMatchObject({ ssrc: peerSsrc, packetCount: 18, octetCount: 18 * 160, rtpTimestamp: 1234 });
    expect(f.lastSr!.ntpTime).toBeCloseTo(3_900_000_000.5, 3);
    expect(f.remoteReport).toEqual({ fractionLost: 0.25, packetsLost: 5, jitterMs: 100 });
    expect(f.rtcpMux).toBe(false);

    // RTCP multiplexed on the RTP port: parsed as RTCP, never audio; our reports follow it there.
    const audioBefore = leg.stats.packetsReceived;
    peer.rtp.send(sr(peerSsrc, 19), leg.localPort, '127.0.0.1');
    await until(() => leg.receiverFigures().srReceived === 2, 5000, 'the muxed SR');
    f = leg.receiverFigures();
    expect(f.rtcpMux).toBe(true);
    expect(f.lastSr!.packetCount).toBe(19);
    expect(leg.stats.packetsReceived).toBe(audioBefore);
    expect(leg.stats.malformed).toBe(0);
    expect(leg.jitterBuffer.stats.received).toBe(18);
    await until(() => {
      leg.send(null);
      return peer.rtpIn.some((m) => isMuxedRtcp(m));
    }, 5000, 'an SR on the peer RTP port');
    const muxed = parseRtcp(peer.rtpIn.find((m) => isMuxedRtcp(m))!)!;
    expect(muxed.sr!.ssrc).toBe(leg.ssrc);
    expect(f.srSent).toBeGreaterThan(0);
  });

  it('takes even/odd pairs from a range, skipping a pair whose RTCP port is taken', async () => {
    const blocker = await bindPair('127.0.0.1', { min: 41000, max: 41999 }, false);
    cleanup.push(() => blocker.rtp.close());
    const taken = blocker.rtp.localPort; // even
    // Occupy taken+3 (the odd port of the next pair): the leg must skip that pair too.
    const odd = await bindUdp('127.0.0.1', taken + 3);
    cleanup.push(() => odd.close());
    const leg = await RtpLeg.open({ portRange: { min: taken, max: taken + 40 } });
    cleanup.push(() => leg.close());
    expect(leg.localPort % 2).toBe(0);
    expect(leg.localPort).toBeGreaterThan(taken + 2);
    expect(leg.rtcpPort).toBe(leg.localPort + 1);
  });
});
