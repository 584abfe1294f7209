/**
 * RTCP packets (RFC 3550 §6): building our compound SR + SDES CNAME, and parsing what a peer
 * sends (SR, RR; other types are skipped). Parsing never throws: input comes off the network,
 * so anything that fails the validity checks of RFC 3550 Appendix A.2 yields null.
 *
 * SR (§6.4.1), 28 octets + 24 per report block:
 *   |V=2|P|  RC  | PT=200 | length |  SSRC of sender  | NTP ts (64) | RTP ts |
 *   | sender's packet count | sender's octet count | report blocks…
 * Report block (§6.4.1): SSRC | fraction lost (8) cumulative lost (24) | ext. highest seq |
 *   interarrival jitter | LSR (middle 32 bits of the last SR's NTP time) | DLSR (1/65536 s)
 * SDES (§6.5): |V=2|P|  SC  | PT=202 | length | SSRC | CNAME=1 | len | text | 0 … to a word
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

/** RFC 5761 §4: on a multiplexed port, a second octet of 192–223 is RTCP, never RTP. */
export function isMuxedRtcp(buf: Uint8Array): boolean {
  if (buf.length < 8) return false;
  const b1 = buf[1]!;
  return b1 >= 192 && b1 <= 223;
}

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 0–255 (/256). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface SenderInfo {
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export interface ParsedRtcp {
  /** The SR of the compound packet, if any. */
  sr: SenderInfo | null;
  /** Whether an RR was present. */
  rr: boolean;
  /** Every report block of every SR/RR in the packet. */
  reports: ReportBlock[];
  bye: boolean;
}

const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function readBlock(b: Uint8Array, o: number): ReportBlock {
  const lost = ((b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) << 8 >> 8; // sign-extend 24 bits
  return {
    ssrc: u32(b, o),
    fractionLost: b[o + 4]!,
    cumulativeLost: lost,
    extendedHighestSeq: u32(b, o + 8),
    jitter: u32(b, o + 12),
    lastSr: u32(b, o + 16),
    delaySinceLastSr: u32(b, o + 20),
  };
}

/**
 * Parses a compound RTCP packet. A.2: every packet has V=2 and a length that stays inside the
 * datagram, the lengths add up to the datagram, the first packet is SR or RR, and only the
 * last may be padded.
 */
export function parseRtcp(buf: Uint8Array): ParsedRtcp | null {
  const len = buf.length;
  if (len < 8 || len % 4 !== 0) return null;
  const first = buf[1]!;
  if (first !== RTCP_SR && first !== RTCP_RR) return null;
  const out: ParsedRtcp = { sr: null, rr: false, reports: [], bye: false };
  let o = 0;
  while (o < len) {
    if (o + 4 > len) return null;
    const b0 = buf[o]!;
    if (b0 >> 6 !== 2) return null;
    const size = (((buf[o + 2]! << 8) | buf[o + 3]!) + 1) * 4;
    if (o + size > len) return null;
    if ((b0 & 0x20) !== 0 && o + size !== len) return null;
    const count = b0 & 0x1f;
    const pt = buf[o + 1]!;
    if (pt === RTCP_SR || pt === RTCP_RR) {
      const head = pt === RTCP_SR ? 28 : 8;
      if (head + count * 24 > size) return null;
      if (pt === RTCP_SR) {
        out.sr = {
          ssrc: u32(buf, o + 4),
          ntpSeconds: u32(buf, o + 8),
          ntpFraction: u32(buf, o + 12),
          rtpTimestamp: u32(buf, o + 16),
          packetCount: u32(buf, o + 20),
          octetCount: u32(buf, o + 24),
        };
      } else {
        out.rr = true;
      }
      for (let i = 0; i < count; i++) out.reports.push(readBlock(buf, o + head + i * 24));
    } else if (pt === RTCP_BYE) {
      out.bye = true;
    }
    o += size;
  }
  return out;
}

export interface SrInit extends SenderInfo {
  /** At most one block here: a leg receives one source. */
  report: ReportBlock | null;
  cname: string;
}

/** Builds the compound SR (+ one report block) + SDES CNAME packet we send (§6.1). */
export function buildSrCompound(p: SrInit): Uint8Array {
  const rc = p.report === null ? 0 : 1;
  const srLen = 28 + rc * 24;
  const cname = new TextEncoder().encode(p.cname.slice(0, 255));
  // SDES: header 4 + SSRC 4 + CNAME item (2 + text) + at least one null octet, to a word.
  const sdesLen = Math.ceil((8 + 2 + cname.length + 1) / 4) * 4;
  const out = new Uint8Array(srLen + sdesLen);
  out[0] = 0x80 | rc;
  out[1] = RTCP_SR;
  out[2] = 0;
  out[3] = srLen / 4 - 1;
  put32(out, 4, p.ssrc);
  put32(out, 8, p.ntpSeconds);
  put32(out, 12, p.ntpFraction);
  put32(out, 16, p.rtpTimestamp);
  put32(out, 20, p.packetCount);
  put32(out, 24, p.octetCount);
  if (p.report !== null) {
    const r = p.report;
    const o = 28;
    put32(out, o, r.ssrc);
    put32(out, o + 4, (r.cumulativeLost & 0xffffff) >>> 0);
    out[o + 4] = r.fractionLost & 0xff;
    put32(out, o + 8, r.extendedHighestSeq);
    put32(out, o + 12, r.jitter);
    put32(out, o + 16, r.lastSr);
    put32(out, o + 20, r.delaySinceLastSr);
  }
  const s = srLen;
  out[s] = 0x81; // one chunk
  out[s + 1] = RTCP_SDES;
  out[s + 2] = 0;
  out[s + 3] = sdesLen / 4 - 1;
  put32(out, s + 4, p.ssrc);
  out[s + 8] = 1; // CNAME
  out[s + 9] = cname.length;
  out.set(cname, s + 10);
  // The rest is already zero: the item list's terminating null octet(s) (§6.5).
  return out;
}

/** NTP time (RFC 3550 §4: seconds since 1900 as 32.32 fixed point) of a Unix time in ms. */
export function ntpOf(unixMs: number): { seconds: number; fraction: number } {
  const secs = unixMs / 1000 + 2208988800;
  const seconds = Math.floor(secs);
  return { seconds: seconds >>> 0, fraction: Math.floor((secs - seconds) * 0x100000000) >>> 0 };
}
