/**
 * One direction of SRTP and SRTCP under one master key (RFC 3711): the sender's context
 * protects what a leg sends with our key, the receiver's unprotects what the peer sends with
 * the key from its SDP (RFC 4568 §6.1: each side sends with the key it declared).
 *
 * - Session keys come from the master key by the AES-CM PRF (§4.3, key_derivation_rate 0);
 *   payloads are AES-CM encrypted (§4.1.1, aes-cm.ts); the authentication tag is HMAC-SHA1
 *   over the packet and the ROC (§4.2), truncated to 80 or 32 bits (SRTCP: always 80).
 * - The receiver estimates each packet's index from its sequence number, the stream's rollover
 *   counter and the highest sequence number seen (§3.3.1, Appendix A), checks it against the
 *   replay window (§3.3.2) before spending an HMAC, and only an authenticated packet moves the
 *   ROC, the highest sequence number and the window on. Each SSRC has its own state (§3.2.3).
 * - SRTCP (§3.4): everything after the first 8 octets is encrypted, followed by the E flag and
 *   the 31-bit SRTCP index, then the tag. Our first SRTCP packet carries index 1, as libsrtp's
 *   do (the index is incremented before use).
 * - Nothing throws per packet: a packet that fails returns a negative outcome the leg counts.
 *   Per packet the cost is the keystream batch and the HMAC digest node:crypto allocates, one
 *   `subarray` for the HMAC input, and nothing else.
 */
import { createHmac } from 'node:crypto';
import { AesCounterMode, KDF_LABEL, deriveSessionKey } from './aes-cm.js';
import { ReplayWindow } from './replay-window.js';
import { MASTER_SALT_OCTETS, checkSrtpKey, srtpTagOctets } from './srtp-keys.js';
import type { SrtpKey } from './srtp-keys.js';

/** unprotect outcomes below zero: the packet is dropped and counted. */
export const SRTP_MALFORMED = -1;
export const SRTP_AUTH_FAILED = -2;
export const SRTP_REPLAYED = -3;

const RTP_HEADER = 12;
const SRTCP_TAG = 10;
/** The E flag and the 31-bit SRTCP index (§3.4). */
const SRTCP_TRAILER = 4;
const CIPHER_KEY_OCTETS = 16;
const AUTH_KEY_OCTETS = 20;
/** SSRCs a receiver keeps state for; a peer has one, a few after re-INVITEs. */
const MAX_STREAMS = 16;

interface ReceivedStream {
  roc: number;
  /** s_l of §3.3.1: the highest sequence number authenticated. */
  highestSeq: number;
  readonly window: ReplayWindow;
}

/** What a context carries to a leg re-opened in another media worker (plain data). */
export interface SrtpContextState {
  key: SrtpKey;
  sendRoc: number;
  lastSentSeq: number;
  rtcpIndex: number;
  /** Receive side: each SSRC's ROC and s_l (the replay window starts empty past s_l). */
  streams: Array<{ ssrc: number; roc: number; highestSeq: number }>;
}

export class SrtpContext {
  readonly key: SrtpKey;
  /** Octets SRTP adds to an RTP packet (the tag). */
  readonly rtpOverhead: number;
  /** Octets SRTCP adds to an RTCP packet (E flag and index, tag). */
  readonly rtcpOverhead = SRTCP_TRAILER + SRTCP_TAG;
  private readonly tagOctets: number;
  private readonly rtpCipher: AesCounterMode;
  private readonly rtcpCipher: AesCounterMode;
  private readonly rtpAuthKey: Buffer;
  private readonly rtcpAuthKey: Buffer;
  private sendRoc = 0;
  /** -1 before the first packet sent. */
  private lastSentSeq = -1;
  private rtcpIndex = 0;
  private readonly streams = new Map<number, ReceivedStream>();
  private readonly rtcpWindows = new Map<number, ReplayWindow>();

  /** Throws a RangeError for a key of the wrong length or an unknown suite (at setup, never per packet). */
  constructor(key: SrtpKey, state?: SrtpContextState) {
    checkSrtpKey(key);
    this.key = key;
    this.tagOctets = srtpTagOctets(key.suite);
    this.rtpOverhead = this.tagOctets;
    const { masterKey, masterSalt } = key;
    this.rtpCipher = new AesCounterMode(deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtpCipher, CIPHER_KEY_OCTETS), deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtpSalt, MASTER_SALT_OCTETS));
    this.rtcpCipher = new AesCounterMode(deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtcpCipher, CIPHER_KEY_OCTETS), deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtcpSalt, MASTER_SALT_OCTETS));
    this.rtpAuthKey = Buffer.from(deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtpAuth, AUTH_KEY_OCTETS));
    this.rtcpAuthKey = Buffer.from(deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtcpAuth, AUTH_KEY_OCTETS));
    if (state) {
      this.sendRoc = state.sendRoc;
      this.lastSentSeq = state.lastSentSeq;
      this.rtcpIndex = state.rtcpIndex;
      for (const s of state.streams) {
        const window = new ReplayWindow();
        window.accept(s.roc * 0x10000 + s.highestSeq);
        this.streams.set(s.ssrc, { roc: s.roc, highestSeq: s.highestSeq, window });
      }
    }
  }

  /**
   * Encrypts and authenticates the RTP packet `src[0, length)` into `dst` (which needs
   * `length + rtpOverhead` octets, and 4 more than `length` at least); returns the SRTP
   * length, or SRTP_MALFORMED. Sequence numbers must go up (the ROC counts their wraps).
   */
  protectRtp(src: Uint8Array, length: number, dst: Uint8Array): number {
    const header = rtpHeaderLength(src, length);
    if (header < 0) return SRTP_MALFORMED;
    const seq = (src[2]! << 8) | src[3]!;
    if (this.lastSentSeq >= 0 && seq < this.lastSentSeq && this.lastSentSeq - seq > 0x8000) this.sendRoc = (this.sendRoc + 1) >>> 0;
    this.lastSentSeq = seq;
    const ssrc = readUint32(src, 8);
    if (dst !== src) dst.set(src.subarray(0, header));
    this.rtpCipher.apply(src, header, dst, header, length - header, ssrc, this.sendRoc, seq);
    this.writeRtpTag(dst, length, this.sendRoc);
    return length + this.tagOctets;
  }

  /**
   * Authenticates, replay-checks and decrypts the SRTP packet `src[0, length)` into `dst`
   * (`length` octets at least); returns the RTP length, or a negative outcome.
   */
  unprotectRtp(src: Uint8Array, length: number, dst: Uint8Array): number {
    const authenticated = length - this.tagOctets;
    const header = rtpHeaderLength(src, authenticated);
    if (header < 0) return SRTP_MALFORMED;
    const seq = (src[2]! << 8) | src[3]!;
    const ssrc = readUint32(src, 8);
    const stream = this.streams.get(ssrc);
    // §3.3.1 / Appendix A: the ROC this packet most likely belongs to.
    let v = 0;
    if (stream !== undefined) {
      v = stream.roc;
      const sl = stream.highestSeq;
      if (sl < 0x8000) {
        if (seq - sl > 0x8000) v = stream.roc - 1;
      } else if (sl - 0x8000 > seq) {
        v = stream.roc + 1;
      }
    }
    const index = v * 0x10000 + seq;
    if (stream !== undefined && !stream.window.check(index)) return SRTP_REPLAYED;
    dst.set(src.subarray(0, authenticated));
    this.writeRtpTag(dst, authenticated, v >>> 0);
    if (!sameTag(dst, authenticated, src, authenticated, this.tagOctets)) return SRTP_AUTH_FAILED;
    this.rtpCipher.apply(dst, header, dst, header, authenticated - header, ssrc, v >>> 0, seq);
    if (stream === undefined) {
      if (this.streams.size >= MAX_STREAMS) this.streams.clear();
      const window = new ReplayWindow();
      window.accept(index);
      this.streams.set(ssrc, { roc: v, highestSeq: seq, window });
    } else {
      if (v > stream.roc) {
        stream.roc = v;
        stream.highestSeq = seq;
      } else if (v === stream.roc && seq > stream.highestSeq) {
        stream.highestSeq = seq;
      }
      stream.window.accept(index);
    }
    return authenticated;
  }

  /** Encrypts and authenticates an RTCP compound packet into `dst` (`length + rtcpOverhead` octets); returns its length. */
  protectRtcp(src: Uint8Array, length: number, dst: Uint8Array): number {
    if (length < 8) return SRTP_MALFORMED;
    this.rtcpIndex = (this.rtcpIndex + 1) & 0x7fffffff;
    const index = this.rtcpIndex;
    if (dst !== src) dst.set(src.subarray(0, 8));
    this.rtcpCipher.apply(src, 8, dst, 8, length - 8, readUint32(src, 4), index >>> 16, index & 0xffff);
    writeUint32(dst, length, (0x80000000 | index) >>> 0);
    const tag = createHmac('sha1', this.rtcpAuthKey).update(dst.subarray(0, length + SRTCP_TRAILER)).digest();
    dst.set(tag.subarray(0, SRTCP_TAG), length + SRTCP_TRAILER);
    return length + SRTCP_TRAILER + SRTCP_TAG;
  }

  /** Authenticates, replay-checks and (when its E flag says so) decrypts an SRTCP packet into `dst`; returns the RTCP length or a negative outcome. */
  unprotectRtcp(src: Uint8Array, length: number, dst: Uint8Array): number {
    const authenticated = length - SRTCP_TAG;
    const rtcpLength = authenticated - SRTCP_TRAILER;
    if (rtcpLength < 8) return SRTP_MALFORMED;
    const trailer = readUint32(src, rtcpLength);
    const encrypted = trailer >>> 31 === 1;
    const index = trailer & 0x7fffffff;
    const ssrc = readUint32(src, 4);
    const window = this.rtcpWindows.get(ssrc);
    if (window !== undefined && !window.check(index)) return SRTP_REPLAYED;
    const tag = createHmac('sha1', this.rtcpAuthKey).update(src.subarray(0, authenticated)).digest();
    if (!sameTag(tag, 0, src, authenticated, SRTCP_TAG)) return SRTP_AUTH_FAILED;
    dst.set(src.subarray(0, encrypted ? 8 : rtcpLength));
    if (encrypted) this.rtcpCipher.apply(src, 8, dst, 8, rtcpLength - 8, ssrc, index >>> 16, index & 0xffff);
    if (window === undefined) {
      if (this.rtcpWindows.size >= MAX_STREAMS) this.rtcpWindows.clear();
      const fresh = new ReplayWindow();
      fresh.accept(index);
      this.rtcpWindows.set(ssrc, fresh);
    } else {
      window.accept(index);
    }
    return rtcpLength;
  }

  snapshot(): SrtpContextState {
    return {
      key: this.key,
      sendRoc: this.sendRoc,
      lastSentSeq: this.lastSentSeq,
      rtcpIndex: this.rtcpIndex,
      streams: [...this.streams].map(([ssrc, s]) => ({ ssrc, roc: s.roc, highestSeq: s.highestSeq })),
    };
  }

  /**
   * §4.2: HMAC-SHA1 over the authenticated portion and the ROC, truncated, written after the
   * portion. The ROC is written there first, so the HMAC reads one contiguous range.
   */
  private writeRtpTag(packet: Uint8Array, authenticated: number, roc: number): void {
    writeUint32(packet, authenticated, roc);
    const tag = createHmac('sha1', this.rtpAuthKey).update(packet.subarray(0, authenticated + 4)).digest();
    for (let i = 0; i < this.tagOctets; i++) packet[authenticated + i] = tag[i]!;
  }
}

/** RFC 3550 §5.1/§5.3.1: the fixed header, the CSRCs and any extension; -1 if `length` cannot hold them. */
function rtpHeaderLength(p: Uint8Array, length: number): number {
  if (length < RTP_HEADER || p[0]! >> 6 !== 2) return -1;
  let header = RTP_HEADER + (p[0]! & 0x0f) * 4;
  if ((p[0]! & 0x10) !== 0) {
    if (header + 4 > length) return -1;
    header += 4 + ((p[header + 2]! << 8) | p[header + 3]!) * 4;
  }
  return header <= length ? header : -1;
}

/** Compares without an early exit, so the time taken says nothing about where a forged tag differs. */
function sameTag(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, octets: number): boolean {
  let diff = 0;
  for (let i = 0; i < octets; i++) diff |= a[aAt + i]! ^ b[bAt + i]!;
  return diff === 0;
}

function readUint32(p: Uint8Array, at: number): number {
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}

function writeUint32(p: Uint8Array, at: number, value: number): void {
  p[at] = value >>> 24;
  p[at + 1] = (value >>> 16) & 0xff;
  p[at + 2] = (value >>> 8) & 0xff;
  p[at + 3] = value & 0xff;
}
