/**
 * The SRTP crypto suites Conclave speaks and their master keys (RFC 4568 §6.2, keyed with SDES
 * `a=crypto` lines): AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 both take a 128-bit
 * master key and a 112-bit master salt; they differ only in the SRTP authentication tag, 80 or
 * 32 bits. SRTCP's tag is 80 bits under both (§6.2.2: "the SRTCP authentication tag is 80 bits"
 * for _32 too). Plain data, structured-clone safe, so keys cross to a media worker.
 */
import { randomBytes } from 'node:crypto';

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

/** In order of preference when we offer: the 80-bit tag first, as RFC 4568 §6.2 advises. */
export const SRTP_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

export const MASTER_KEY_OCTETS = 16;
export const MASTER_SALT_OCTETS = 14;

/** One direction's keying: the suite and the master key and salt (RFC 3711 §8.1). */
export interface SrtpKey {
  suite: SrtpSuite;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
}

/** SRTP's authentication tag length in octets (RFC 4568 §6.2.1 / §6.2.2). */
export function srtpTagOctets(suite: SrtpSuite): number {
  return suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10;
}

export function isSrtpSuite(name: string): name is SrtpSuite {
  return (SRTP_SUITES as readonly string[]).includes(name);
}

/** A fresh key from the system's CSPRNG (RFC 4568 §6.1: keys MUST be random). */
export function newSrtpKey(suite: SrtpSuite): SrtpKey {
  const bytes = randomBytes(MASTER_KEY_OCTETS + MASTER_SALT_OCTETS);
  return { suite, masterKey: new Uint8Array(bytes.subarray(0, MASTER_KEY_OCTETS)), masterSalt: new Uint8Array(bytes.subarray(MASTER_KEY_OCTETS)) };
}

/** Throws unless the key and salt have the suite's lengths (a bad key must fail at setup, not per packet). */
export function checkSrtpKey(key: SrtpKey): void {
  if (!isSrtpSuite(key.suite)) throw new RangeError(`unsupported SRTP suite ${String(key.suite)}`);
  if (key.masterKey.length !== MASTER_KEY_OCTETS || key.masterSalt.length !== MASTER_SALT_OCTETS) {
    throw new RangeError(`an SRTP master key is ${MASTER_KEY_OCTETS} octets and its salt ${MASTER_SALT_OCTETS}`);
  }
}
