/**
 * HA1 of HTTP digest, what a credential keeps instead of its password:
 * H(username ":" realm ":" password), lower-case hex, for MD5 (RFC 2617 §3.2.2.2) and SHA-256
 * (RFC 7616 §3.4.2; RFC 8760 brings it to SIP). A SIP verifier needs no more than these to
 * check a response of either algorithm (non-`-sess` variants).
 */
import { createHash } from 'node:crypto';

export interface Ha1s {
  md5: string;
  sha256: string;
}

export function digestHa1s(username: string, realm: string, password: string): Ha1s {
  const a1 = `${username}:${realm}:${password}`;
  return { md5: createHash('md5').update(a1, 'utf8').digest('hex'), sha256: createHash('sha256').update(a1, 'utf8').digest('hex') };
}
