/**
 * The DTLS certificate of WebRTC legs (RFC 5763 §5: self-signed, its fingerprint in SDP) and
 * the fingerprints of certificates (RFC 8122 §5).
 *
 * One certificate per process: a leg moves between media workers, and its peer pinned the
 * fingerprint in our SDP, so every worker must present the same one. MediaClient makes it
 * before it starts its workers and hands it to each in workerData.
 *
 * Why it is built here and not with werift-dtls's `CipherContext.createSelfSignedCertificateWithKey`:
 * that helper is asynchronous (WebCrypto), while MediaClient's constructor — and MediaPlane,
 * which starts workers on first use — are synchronous. node:crypto makes the P-256 key and
 * signs synchronously; the certificate around it is a few fixed DER fields (RFC 5280 §4.1:
 * v3, random serial, CN=Conclave, one year of validity, no extensions), which WebRTC peers
 * accept because they check the fingerprint, not a chain (RFC 8827 §6.5).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import type { CertificateFingerprint, DtlsCertificatePem } from '../protocol.js';

/** A certificate with its PEM forms and its sha-256 fingerprint (what our SDP says). */
export interface DtlsCertificate extends DtlsCertificatePem {
  fingerprint: CertificateFingerprint;
}

const VALIDITY_MS = 365 * 24 * 3600 * 1000;
/** Peers' clocks may be behind ours. */
const BACKDATE_MS = 24 * 3600 * 1000;

/** ecdsa-with-SHA256, RFC 5758 §3.2 (1.2.840.10045.4.3.2), no parameters. */
const ECDSA_WITH_SHA256 = der(0x30, der(0x06, Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));
/** id-at-commonName, 2.5.4.3. */
const COMMON_NAME_OID = der(0x06, Buffer.from([0x55, 0x04, 0x03]));

/** A new self-signed ECDSA P-256 certificate (synchronous: see the header). */
export function createDtlsCertificate(commonName = 'Conclave'): DtlsCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(8);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and not zero-led (RFC 5280 §4.1.2.2)
  const name = der(0x30, der(0x31, der(0x30, Buffer.concat([COMMON_NAME_OID, der(0x0c, Buffer.from(commonName, 'utf8'))]))));
  const now = Date.now();
  const tbs = der(
    0x30,
    Buffer.concat([
      der(0xa0, der(0x02, Buffer.from([0x02]))), // [0] EXPLICIT version v3
      der(0x02, serial),
      ECDSA_WITH_SHA256,
      name,
      der(0x30, Buffer.concat([derTime(new Date(now - BACKDATE_MS)), derTime(new Date(now + VALIDITY_MS))])),
      name,
      publicKey.export({ type: 'spki', format: 'der' }),
    ]),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const certDer = der(0x30, Buffer.concat([tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
  const certPem = `-----BEGIN CERTIFICATE-----\n${certDer.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`.replace('\n\n', '\n');
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem, keyPem, fingerprint: certificateFingerprint(certDer, 'sha-256') };
}

/** The fingerprint of a PEM certificate (what our SDP says, for a certificate given in options). */
export function pemFingerprint(certPem: string): CertificateFingerprint {
  return certificateFingerprint(new X509Certificate(certPem).raw, 'sha-256');
}

/**
 * RFC 8122 §5: the hash of the DER certificate, uppercase hex pairs joined by colons, under
 * the SDP's name of the hash function (`sha-1`, `sha-256`, `sha-384`, `sha-512`). Throws for
 * a hash function this process does not know.
 */
export function certificateFingerprint(certDer: Uint8Array, algorithm: string): CertificateFingerprint {
  const name = algorithm.toLowerCase();
  const digest = createHash(name.replace('-', '')).update(certDer).digest('hex').toUpperCase();
  return { algorithm: name, value: digest.replace(/(..)(?=.)/g, '$1:') };
}

/** Whether a certificate (DER) matches the peer's a=fingerprint (hex case and algorithm case ignored). */
export function matchesFingerprint(certDer: Uint8Array, expected: CertificateFingerprint): boolean {
  let actual: CertificateFingerprint;
  try {
    actual = certificateFingerprint(certDer, expected.algorithm);
  } catch {
    return false; // a hash function we do not have cannot vouch for the certificate
  }
  return actual.value === expected.value.trim().toUpperCase();
}

/** One DER element: tag, definite length (X.690 §8.1.3), contents. */
function der(tag: number, contents: Buffer): Buffer {
  const n = contents.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, contents]);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function derTime(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`));
}
