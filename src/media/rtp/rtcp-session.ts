/**
 * The RTCP state of one leg (RFC 3550 §6): receiver statistics about the peer's RTP stream
 * (sequence tracking of Appendix A.1, loss of A.3, interarrival jitter of A.8), the last SR the
 * peer sent, the peer's report about our stream, and when our next SR is due.
 *
 * Reports go out about every 5 s (§6.2: the recommended minimum interval), each interval drawn
 * from [0.5, 1.5] × 5 s (§6.3.1) so legs started together do not report in lockstep. The
 * interval counts our sent packets (one per 20 ms tick) instead of reading a clock per packet.
 */
import { buildSrCompound, ntpOf } from './rtcp-packet.js';
import type { ParsedRtcp, ReportBlock, SenderInfo } from './rtcp-packet.js';

const RTP_SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
/** 8 kHz: RTP timestamp units per ms. */
const UNITS_PER_MS = 8;

/** What LegStats shows of the receiver side (all about the peer's stream, unless noted). */
export interface ReceiverFigures {
  /** Cumulative packets lost (A.3: expected − received; duplicates can make it negative). */
  packetsLost: number;
  packetsExpected: number;
  /** Interarrival jitter (A.8) in ms. */
  jitterMs: number;
  srReceived: number;
  rrReceived: number;
  /** RTCP datagrams that failed the A.2 checks. */
  rtcpMalformed: number;
  srSent: number;
  /** The peer's last SR: its NTP time (s since 1900), RTP time and counts, and how long ago. */
  lastSr: { ssrc: number; ntpTime: number; rtpTimestamp: number; packetCount: number; octetCount: number; ageMs: number } | null;
  /** The peer's last report block about OUR stream. */
  remoteReport: { fractionLost: number; packetsLost: number; jitterMs: number } | null;
  /** The peer multiplexes RTCP on the RTP port (RFC 5761). */
  rtcpMux: boolean;
}

/** Everything carried across when a leg moves to another worker (plain data). */
export interface RtcpState {
  cname: string;
  ssrc: number;
  haveSource: boolean;
  baseSeq: number;
  maxSeq: number;
  cycles: number;
  badSeq: number;
  received: number;
  expectedPrior: number;
  receivedPrior: number;
  transit: number;
  jitter: number;
  packetsSent: number;
  octetsSent: number;
  srSent: number;
  srReceived: number;
  rrReceived: number;
  malformed: number;
  lastSr: (SenderInfo & { at: number }) | null;
  remoteReport: ReportBlock | null;
  mux: boolean;
}

export class RtcpSession {
  readonly s: RtcpState;
  private untilReport: number;

  constructor(private readonly reportPackets: number, state?: RtcpState) {
    this.s = state ?? {
      cname: `conclave-${Math.random().toString(36).slice(2, 12)}`,
      ssrc: 0, haveSource: false, baseSeq: 0, maxSeq: 0, cycles: 0, badSeq: RTP_SEQ_MOD + 1,
      received: 0, expectedPrior: 0, receivedPrior: 0, transit: 0, jitter: 0,
      packetsSent: 0, octetsSent: 0, srSent: 0, srReceived: 0, rrReceived: 0, malformed: 0,
      lastSr: null, remoteReport: null, mux: false,
    };
    this.untilReport = this.nextInterval();
  }

  private nextInterval(): number {
    return Math.max(1, Math.round(this.reportPackets * (0.5 + Math.random())));
  }

  /** An accepted audio packet (A.1 + A.8); `nowMs` is its arrival time. */
  onRtp(seq: number, timestamp: number, ssrc: number, nowMs: number): void {
    const s = this.s;
    const arrival = Math.floor(nowMs * UNITS_PER_MS) >>> 0;
    const transit = (arrival - timestamp) | 0;
    if (!s.haveSource || ssrc !== s.ssrc) {
      // A new source: statistics start over (§6.4.1 reports are per SSRC).
      s.ssrc = ssrc;
      s.haveSource = true;
      this.initSeq(seq);
      s.received = 1;
      s.transit = transit;
      s.jitter = 0;
      return;
    }
    const udelta = (seq - s.maxSeq) & 0xffff;
    if (udelta < MAX_DROPOUT) {
      if (seq < s.maxSeq) s.cycles += RTP_SEQ_MOD;
      s.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: believe it only when the next packet follows it (A.1).
      if (seq === s.badSeq) {
        this.initSeq(seq);
      } else {
        s.badSeq = (seq + 1) & 0xffff;
        return;
      }
    }
    s.received++;
    let d = (transit - s.transit) | 0;
    s.transit = transit;
    if (d < 0) d = -d;
    s.jitter += (d - s.jitter) / 16;
  }

  private initSeq(seq: number): void {
    const s = this.s;
    s.baseSeq = seq;
    s.maxSeq = seq;
    s.badSeq = RTP_SEQ_MOD + 1;
    s.cycles = 0;
    s.received = 0;
    s.expectedPrior = 0;
    s.receivedPrior = 0;
  }

  onSent(payloadOctets: number): void {
    this.s.packetsSent++;
    this.s.octetsSent += payloadOctets;
  }

  /** True once per report interval; the caller then sends `buildReport`. */
  reportDue(): boolean {
    if (--this.untilReport > 0) return false;
    this.untilReport = this.nextInterval();
    return true;
  }

  /** A parsed RTCP packet from the peer. */
  onRtcp(p: ParsedRtcp, ourSsrc: number, nowMs: number, muxed: boolean): void {
    const s = this.s;
    if (muxed) s.mux = true;
    if (p.sr !== null) {
      s.srReceived++;
      s.lastSr = { ...p.sr, at: nowMs };
    }
    if (p.rr) s.rrReceived++;
    for (const r of p.reports) if (r.ssrc === ourSsrc) s.remoteReport = r;
  }

  /** The compound SR + SDES about our stream (one report block once we receive a source). */
  buildReport(ourSsrc: number, rtpTimestamp: number, unixMs: number, nowMs: number): Uint8Array {
    const s = this.s;
    const ntp = ntpOf(unixMs);
    s.srSent++;
    return buildSrCompound({
      ssrc: ourSsrc,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp,
      packetCount: s.packetsSent >>> 0,
      octetCount: s.octetsSent >>> 0,
      report: s.haveSource ? this.reportBlock(nowMs) : null,
      cname: s.cname,
    });
  }

  /** A.3: cumulative and interval loss, then LSR/DLSR from the peer's last SR. */
  private reportBlock(nowMs: number): ReportBlock {
    const s = this.s;
    const extMax = s.cycles + s.maxSeq;
    const expected = extMax - s.baseSeq + 1;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - s.received));
    const expectedInterval = expected - s.expectedPrior;
    const receivedInterval = s.received - s.receivedPrior;
    s.expectedPrior = expected;
    s.receivedPrior = s.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const sr = s.lastSr;
    return {
      ssrc: s.ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: lost,
      extendedHighestSeq: extMax >>> 0,
      jitter: Math.floor(s.jitter) >>> 0,
      // LSR: the middle 32 bits of the SR's NTP time; DLSR in units of 1/65536 s (§6.4.1).
      lastSr: sr === null ? 0 : (((sr.ntpSeconds & 0xffff) << 16) | (sr.ntpFraction >>> 16)) >>> 0,
      delaySinceLastSr: sr === null ? 0 : Math.floor(((nowMs - sr.at) / 1000) * 65536) >>> 0,
    };
  }

  figures(nowMs: number): ReceiverFigures {
    const s = this.s;
    const expected = s.haveSource ? s.cycles + s.maxSeq - s.baseSeq + 1 : 0;
    const sr = s.lastSr;
    const rr = s.remoteReport;
    return {
      packetsLost: s.haveSource ? expected - s.received : 0,
      packetsExpected: expected,
      jitterMs: s.jitter / UNITS_PER_MS,
      srReceived: s.srReceived,
      rrReceived: s.rrReceived,
      rtcpMalformed: s.malformed,
      srSent: s.srSent,
      lastSr:
        sr === null
          ? null
          : { ssrc: sr.ssrc, ntpTime: sr.ntpSeconds + sr.ntpFraction / 0x100000000, rtpTimestamp: sr.rtpTimestamp, packetCount: sr.packetCount, octetCount: sr.octetCount, ageMs: nowMs - sr.at },
      remoteReport: rr === null ? null : { fractionLost: rr.fractionLost / 256, packetsLost: rr.cumulativeLost, jitterMs: rr.jitter / UNITS_PER_MS },
      rtcpMux: s.mux,
    };
  }
}
