/**
 * SRTP and SRTCP (RFC 3711) against published vectors: Appendix B.2 (the AES-CM keystream),
 * B.3 (key derivation), and libsrtp's known-answer packets for AES_CM_128_HMAC_SHA1_80 (its
 * srtp_driver test key, SSRC 0xcafebabe); then both suites round trip, the 32-bit tag is 4
 * octets while SRTCP keeps 80 bits, the ROC follows a sequence-number wrap (§3.3.1), replays
 * and forgeries are refused (§3.3.2) without throwing.
 */
import { describe, expect, it } from 'vitest';
import { AesCounterMode, KDF_LABEL, deriveSessionKey } from '../../src/media/rtp/aes-cm.js';
import { SRTP_AUTH_FAILED, SRTP_REPLAYED, SrtpContext } from '../../src/media/rtp/srtp-context.js';
import { newSrtpKey } from '../../src/media/rtp/srtp-keys.js';
import type { SrtpKey, SrtpSuite } from '../../src/media/rtp/srtp-keys.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** RFC 3711 B.3 master key and salt, also libsrtp's test key. */
const MASTER_KEY = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const MASTER_SALT = hex('0EC675AD498AFEEBB6960B3AABE6');
const testKey = (suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80'): SrtpKey => ({ suite, masterKey: MASTER_KEY, masterSalt: MASTER_SALT });

function rtpPacket(seq: number, ssrc: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(12 + payload.length);
  p[0] = 0x80;
  p[2] = seq >>> 8;
  p[3] = seq & 0xff;
  new DataView(p.buffer).setUint32(8, ssrc);
  p.set(payload, 12);
  return p;
}

describe('RFC 3711 Appendix B vectors', () => {
  it('B.2: the AES-CM keystream for key 2B7E…, salt F0F1…FD, SSRC 0, index 0', () => {
    const cm = new AesCounterMode(hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'));
    const zeros = new Uint8Array(0xff02 * 16);
    cm.apply(zeros, 0, zeros, 0, zeros.length, 0, 0, 0);
    const block = (n: number): string => toHex(zeros.subarray(n * 16, n * 16 + 16)).toUpperCase();
    expect(block(0)).toBe('E03EAD0935C95E80E166B16DD92B4EB4');
    expect(block(1)).toBe('D23513162B02D0F72A43A2FE4A5F97AB');
    expect(block(2)).toBe('41E95B3BB0A2E8DD477901E4FCA894C0');
    expect(block(0xfeff)).toBe('EC8CDF7398607CB0F2D21675EA9EA1E4');
    expect(block(0xff00)).toBe('362B7C3C6773516318A077D7FC5073AE');
    expect(block(0xff01)).toBe('6A2CC3787889374FBEB4C81B17BA6C44');
  });

  it('B.3: the session cipher key, salt and authentication key', () => {
    expect(toHex(deriveSessionKey(MASTER_KEY, MASTER_SALT, KDF_LABEL.rtpCipher, 16))).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(toHex(deriveSessionKey(MASTER_KEY, MASTER_SALT, KDF_LABEL.rtpSalt, 14))).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(toHex(deriveSessionKey(MASTER_KEY, MASTER_SALT, KDF_LABEL.rtpAuth, 20))).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });
});

describe('libsrtp known-answer packets (AES_CM_128_HMAC_SHA1_80)', () => {
  const plainRtp = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
  const srtp = hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb');
  const plainRtcp = hex('81c8000bcafebabe' + 'ab'.repeat(16));
  const srtcp = hex('81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798');

  it('protects RTP and RTCP to libsrtp\'s bytes', () => {
    const sender = new SrtpContext(testKey());
    const out = new Uint8Array(64);
    expect(toHex(out.subarray(0, sender.protectRtp(plainRtp, plainRtp.length, out)))).toBe(toHex(srtp));
    expect(toHex(out.subarray(0, sender.protectRtcp(plainRtcp, plainRtcp.length, out)))).toBe(toHex(srtcp));
  });

  it('unprotects libsrtp\'s packets back to the plain ones', () => {
    const receiver = new SrtpContext(testKey());
    const out = new Uint8Array(64);
    expect(toHex(out.subarray(0, receiver.unprotectRtp(srtp, srtp.length, out)))).toBe(toHex(plainRtp));
    expect(toHex(out.subarray(0, receiver.unprotectRtcp(srtcp, srtcp.length, out)))).toBe(toHex(plainRtcp));
  });
});

describe.each(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const)('%s', (suite) => {
  const tag = suite === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4;
  const payload = Uint8Array.from({ length: 160 }, (_, i) => (i * 7) & 0xff);

  it(`round trips 20 ms packets across a sequence-number wrap (the ROC moves on), with a ${tag * 8}-bit tag`, () => {
    const key = newSrtpKey(suite);
    const sender = new SrtpContext(key);
    const receiver = new SrtpContext(key);
    const wire = new Uint8Array(256);
    const plain = new Uint8Array(256);
    for (let k = 0; k < 20; k++) {
      const seq = (0xfff6 + k) & 0xffff;
      payload[0] = k;
      const rtp = rtpPacket(seq, 0x1234, payload);
      const n = sender.protectRtp(rtp, rtp.length, wire);
      expect(n).toBe(172 + tag);
      expect(toHex(wire.subarray(12, 172))).not.toBe(toHex(payload));
      expect(receiver.unprotectRtp(wire, n, plain)).toBe(172);
      expect(toHex(plain.subarray(0, 172))).toBe(toHex(rtp));
    }
    expect(receiver.snapshot().streams).toEqual([{ ssrc: 0x1234, roc: 1, highestSeq: 9 }]);
  });

  it('refuses a replayed packet, a forged tag and a packet under another key, and carries on', () => {
    const key = newSrtpKey(suite);
    const sender = new SrtpContext(key);
    const receiver = new SrtpContext(key);
    const stranger = new SrtpContext(newSrtpKey(suite));
    const wire = new Uint8Array(256);
    const out = new Uint8Array(256);
    const first = rtpPacket(100, 7, payload);
    const n = sender.protectRtp(first, first.length, wire);
    const copy = wire.slice(0, n);
    expect(receiver.unprotectRtp(copy, n, out)).toBe(172);
    expect(receiver.unprotectRtp(copy, n, out)).toBe(SRTP_REPLAYED);
    const second = rtpPacket(101, 7, payload);
    const m = sender.protectRtp(second, second.length, wire);
    wire[20] = wire[20]! ^ 1; // one bit of the payload changed on the way
    expect(receiver.unprotectRtp(wire, m, out)).toBe(SRTP_AUTH_FAILED);
    const forged = rtpPacket(101, 7, payload);
    const f = stranger.protectRtp(forged, forged.length, wire);
    expect(receiver.unprotectRtp(wire, f, out)).toBe(SRTP_AUTH_FAILED);
    // The real 101 still goes through: failures moved nothing on.
    sender.protectRtp(rtpPacket(101, 7, payload), 172, wire);
    const again = new SrtpContext(key);
    expect(again.unprotectRtp(wire, m, out)).toBe(172);
    expect(receiver.unprotectRtp(wire, m, out)).toBe(172);
    // Late but inside the window: accepted once; far too old: refused.
    const late = new SrtpContext(key);
    const w: Uint8Array[] = [];
    for (const seq of [300, 301, 302, 500]) {
      const b = new Uint8Array(256);
      w.push(b.subarray(0, late.protectRtp(rtpPacket(seq, 9, payload), 172, b)));
    }
    expect(receiver.unprotectRtp(w[2]!, w[2]!.length, out)).toBe(172);
    expect(receiver.unprotectRtp(w[0]!, w[0]!.length, out)).toBe(172);
    expect(receiver.unprotectRtp(w[3]!, w[3]!.length, out)).toBe(172);
    expect(receiver.unprotectRtp(w[1]!, w[1]!.length, out)).toBe(SRTP_REPLAYED);
  });

  it('SRTCP: 80-bit tag under both suites, E flag set, index counting up, replays refused', () => {
    const key = newSrtpKey(suite);
    const sender = new SrtpContext(key);
    const receiver = new SrtpContext(key);
    const rtcp = hex('80c80006' + '0000abcd' + '11'.repeat(20));
    const wire = new Uint8Array(128);
    const out = new Uint8Array(128);
    for (let k = 1; k <= 3; k++) {
      const n = sender.protectRtcp(rtcp, rtcp.length, wire);
      expect(n).toBe(rtcp.length + 4 + 10);
      expect(toHex(wire.subarray(rtcp.length, rtcp.length + 4))).toBe(`8000000${k}`);
      expect(receiver.unprotectRtcp(wire, n, out)).toBe(rtcp.length);
      expect(toHex(out.subarray(0, rtcp.length))).toBe(toHex(rtcp));
      expect(receiver.unprotectRtcp(wire, n, out)).toBe(SRTP_REPLAYED);
    }
    const n = sender.protectRtcp(rtcp, rtcp.length, wire);
    wire[n - 1] = wire[n - 1]! ^ 0x80;
    expect(receiver.unprotectRtcp(wire, n, out)).toBe(SRTP_AUTH_FAILED);
  });
});
