/**
 * AES in counter mode as SRTP defines it (RFC 3711 §4.1.1), and the key derivation built on it
 * (§4.3). The counter block is the session salt shifted 16 bits, XORed with the SSRC at octets
 * 4–7 and the packet index at octets 8–13; its last 16 bits count the 128-bit blocks.
 *
 * Why not `createCipheriv('aes-128-ctr', key, iv)` per packet: a new OpenSSL context per packet
 * costs about 2.3 µs (the key schedule and a native object each time). One `aes-128-ecb`
 * cipher per session key, kept open, encrypts a batch of counter blocks we write ourselves,
 * and the keystream is XORed in JavaScript: about 1 µs for a 160-octet payload (BENCHMARKS.md,
 * "SRTP (issue 14)").
 * ECB without padding returns every whole block it is given, so the cipher never needs `final`.
 */
import { createCipheriv } from 'node:crypto';
import type { Cipher } from 'node:crypto';

const BLOCK = 16;
/** Counter blocks per ECB call: enough for a 1500-octet datagram in one go. */
const BATCH_BLOCKS = 96;

export class AesCounterMode {
  private readonly ecb: Cipher;
  private readonly counters = Buffer.alloc(BATCH_BLOCKS * BLOCK);
  /** The same memory as words: a block's first 12 octets are copied as three (a native copy per block costs more). */
  private readonly words = new Uint32Array(this.counters.buffer, this.counters.byteOffset, BATCH_BLOCKS * 4);
  private readonly salt: Uint8Array;

  /** `salt`: the 112-bit session salt (14 octets). */
  constructor(key: Uint8Array, salt: Uint8Array) {
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
    this.salt = salt;
  }

  /**
   * Writes `data[from, from + length)` XOR the keystream of (ssrc, index) to `out` at `to`
   * (`out` may be `data`). `indexHigh` is octets 8–11 of the index field, `indexLow` octets
   * 12–13: for SRTP the ROC and the sequence number (§3.3.1), for SRTCP the 31-bit index split
   * the same way.
   */
  apply(data: Uint8Array, from: number, out: Uint8Array, to: number, length: number, ssrc: number, indexHigh: number, indexLow: number): void {
    const c = this.counters;
    const s = this.salt;
    const blocks = Math.ceil(length / BLOCK);
    // The block with counter 0; the rest of the batch differs only in octets 14–15.
    c[0] = s[0]!; c[1] = s[1]!; c[2] = s[2]!; c[3] = s[3]!;
    c[4] = s[4]! ^ (ssrc >>> 24); c[5] = s[5]! ^ ((ssrc >>> 16) & 0xff); c[6] = s[6]! ^ ((ssrc >>> 8) & 0xff); c[7] = s[7]! ^ (ssrc & 0xff);
    c[8] = s[8]! ^ (indexHigh >>> 24); c[9] = s[9]! ^ ((indexHigh >>> 16) & 0xff); c[10] = s[10]! ^ ((indexHigh >>> 8) & 0xff); c[11] = s[11]! ^ (indexHigh & 0xff);
    c[12] = s[12]! ^ ((indexLow >>> 8) & 0xff); c[13] = s[13]! ^ (indexLow & 0xff);
    for (let done = 0; done < blocks; done += BATCH_BLOCKS) {
      const n = Math.min(BATCH_BLOCKS, blocks - done);
      const w = this.words;
      const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, c12 = c[12]!, c13 = c[13]!;
      for (let b = 0; b < n; b++) {
        const o = b * BLOCK;
        const k = b * 4;
        w[k] = w0; w[k + 1] = w1; w[k + 2] = w2;
        c[o + 12] = c12; c[o + 13] = c13;
        const counter = done + b;
        c[o + 14] = (counter >>> 8) & 0xff;
        c[o + 15] = counter & 0xff;
      }
      const keystream = this.ecb.update(n === BATCH_BLOCKS ? c : c.subarray(0, n * BLOCK));
      const start = done * BLOCK;
      const end = Math.min(length, start + n * BLOCK);
      for (let i = start; i < end; i++) out[to + i] = data[from + i]! ^ keystream[i - start]!;
    }
  }
}

/**
 * The AES-CM PRF of §4.3.3 with key_derivation_rate 0 (SDES's default, and all RFC 4568 allows
 * without the KDR session parameter): `x = (label || 0^48) XOR master_salt`, and the session key
 * is the first `octets` of AES-CM keystream with IV `x · 2^16`.
 */
export function deriveSessionKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, octets: number): Uint8Array {
  const x = Uint8Array.from(masterSalt);
  x[7] = x[7]! ^ label; // key_id = label || r (7 octets), right-aligned in the 14-octet salt
  const out = new Uint8Array(octets);
  new AesCounterMode(masterKey, x).apply(out, 0, out, 0, octets, 0, 0, 0);
  return out;
}

/** §4.3.2 labels: RTP's encryption key, authentication key and salt, then SRTCP's. */
export const KDF_LABEL = { rtpCipher: 0, rtpAuth: 1, rtpSalt: 2, rtcpCipher: 3, rtcpAuth: 4, rtcpSalt: 5 } as const;
