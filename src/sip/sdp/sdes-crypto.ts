/**
 * SDES keying for SRTP (RFC 4568): the `a=crypto:<tag> <suite> inline:<key||salt>[|lifetime][|MKI:length]`
 * attribute, read from a peer's SDP and written into ours.
 *
 * What Conclave takes: the two suites of srtp-keys.ts, one `inline` key whose base64 gives
 * the 16-octet master key and 14-octet salt. What it leaves (the line is skipped, so another
 * line of the offer can still match, else the offer fails):
 * - an MKI (§6.1): the peer's packets would carry the MKI field, which our SRTP does not read;
 * - several keys in one line (they only make sense with MKIs);
 * - any session parameter (§6.3: KDR, UNENCRYPTED_SRTP, …): §6.3 says an unknown one makes
 *   the line unusable, and we implement none.
 * The lifetime is ignored: SRTP's own limit (2^48 packets) is far beyond a call, and we never
 * re-key on our own (a peer that wants to re-keys with a re-INVITE).
 */
import { MASTER_KEY_OCTETS, MASTER_SALT_OCTETS, isSrtpSuite, newSrtpKey } from '../../media/rtp/srtp-keys.js';
import type { SrtpKey } from '../../media/rtp/srtp-keys.js';

/** One `a=crypto` line: its tag (which the answer echoes, §5.1.2) and the key it carries. */
export interface SdesCrypto {
  tag: number;
  key: SrtpKey;
}

/** The attribute as sdp-transform splits it. */
export interface CryptoAttribute {
  id: number;
  suite: string;
  config: string;
  sessionConfig?: string;
}

/** The line's key, or null when it is one we cannot use (see the module comment). */
export function readCrypto(line: CryptoAttribute): SdesCrypto | null {
  if (!isSrtpSuite(line.suite) || line.sessionConfig !== undefined) return null;
  if (!Number.isInteger(line.id) || line.id < 0 || line.id > 999_999_999) return null; // §9.1: 1*9DIGIT
  const keyParams = line.config.split(';');
  if (keyParams.length !== 1 || !keyParams[0]!.startsWith('inline:')) return null;
  const [material, ...rest] = keyParams[0]!.slice('inline:'.length).split('|');
  // Left: at most a lifetime (2^n or a number) and no MKI (n:m).
  if (rest.length > 1 || (rest.length === 1 && !/^(2\^\d+|\d+)$/.test(rest[0]!))) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material!)) return null;
  const bytes = Buffer.from(material!, 'base64');
  if (bytes.length !== MASTER_KEY_OCTETS + MASTER_SALT_OCTETS) return null;
  return {
    tag: line.id,
    key: { suite: line.suite, masterKey: new Uint8Array(bytes.subarray(0, MASTER_KEY_OCTETS)), masterSalt: new Uint8Array(bytes.subarray(MASTER_KEY_OCTETS)) },
  };
}

/** Our `a=crypto` line for a key: the inline key and salt, no lifetime, no MKI. */
export function writeCrypto(crypto: SdesCrypto): CryptoAttribute {
  const material = Buffer.concat([crypto.key.masterKey, crypto.key.masterSalt]).toString('base64');
  return { id: crypto.tag, suite: crypto.key.suite, config: `inline:${material}` };
}

/** Fresh keys for our offer: both suites, the 80-bit tag first (tags 1 and 2). */
export function offerCrypto(): SdesCrypto[] {
  return [
    { tag: 1, key: newSrtpKey('AES_CM_128_HMAC_SHA1_80') },
    { tag: 2, key: newSrtpKey('AES_CM_128_HMAC_SHA1_32') },
  ];
}

/** Our key for an answer to the peer's chosen line: its tag and suite, a fresh key (§5.1.2). */
export function answerCrypto(chosen: SdesCrypto): SdesCrypto {
  return { tag: chosen.tag, key: newSrtpKey(chosen.key.suite) };
}

/**
 * Which of our offered lines the peer's answer accepted (§5.1.3: same tag, same suite), i.e.
 * the key we send with; null when the answer names no line we offered.
 */
export function offeredCryptoFor(offered: readonly SdesCrypto[], answered: SdesCrypto): SdesCrypto | null {
  return offered.find((c) => c.tag === answered.tag && c.key.suite === answered.key.suite) ?? null;
}
