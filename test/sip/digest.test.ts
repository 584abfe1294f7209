/** Digest authentication (RFC 2617 §3.5 worked example, RFC 3261 §22). */
import { describe, expect, it } from 'vitest';
import {
  buildAuthorization,
  buildChallenge,
  digestResponse,
  parseDigestChallenge,
  parseDigestCredentials,
  verifyDigest,
} from '../../src/sip/digest.js';

const RFC2617 = {
  username: 'Mufasa',
  password: 'Circle Of Life',
  realm: 'testrealm@host.com',
  nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  opaque: '5ccc069c403ebaf9f0171e9517f40e41',
  uri: '/dir/index.html',
  cnonce: '0a4f113b',
};

describe('digest', () => {
  it('computes the RFC 2617 §3.5 example response', () => {
    expect(
      digestResponse({ ...RFC2617, method: 'GET', qop: 'auth', nc: '00000001' }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('answers the RFC 2617 challenge with the example Authorization', () => {
    const challenge = parseDigestChallenge(
      `Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
    );
    expect(challenge).toMatchObject({ realm: RFC2617.realm, nonce: RFC2617.nonce, opaque: RFC2617.opaque, qop: ['auth', 'auth-int'], algorithm: 'MD5', stale: false });
    const value = buildAuthorization(challenge!, { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b' });
    expect(parseDigestCredentials(value)).toMatchObject({
      username: 'Mufasa', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
      response: '6629fae49393a05397450978507c4ef1', opaque: RFC2617.opaque,
    });
    expect(verifyDigest(value, { method: 'GET', password: 'Circle Of Life', realm: RFC2617.realm, nonce: RFC2617.nonce })).toBe(true);
  });

  it('verifies the RFC 2617 example header as written', () => {
    const header = `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`;
    expect(verifyDigest(header, { method: 'GET', password: 'Circle Of Life' })).toBe(true);
    expect(verifyDigest(header, { method: 'GET', password: 'wrong' })).toBe(false);
    expect(verifyDigest(header, { method: 'POST', password: 'Circle Of Life' })).toBe(false);
    expect(verifyDigest(header, { method: 'GET', password: 'Circle Of Life', nonce: 'other' })).toBe(false);
    expect(verifyDigest(header, { method: 'GET', password: () => undefined })).toBe(false);
    expect(verifyDigest('Basic abc', { method: 'GET', password: 'x' })).toBe(false);
  });

  it('round-trips RFC 2069 (no qop) and SHA-256 (RFC 8760)', () => {
    for (const algorithm of ['MD5', 'SHA-256', 'MD5-sess'] as const) {
      const challenge = parseDigestChallenge(`Digest realm="r", nonce="n1", algorithm=${algorithm}`)!;
      expect(challenge.qop).toEqual([]);
      const value = buildAuthorization(challenge, { username: 'u', password: 'p', method: 'INVITE', uri: 'sip:b@h' });
      expect(parseDigestCredentials(value)?.qop).toBeUndefined();
      expect(verifyDigest(value, { method: 'INVITE', password: 'p', uri: 'sip:b@h' })).toBe(true);
    }
  });

  it('builds challenges it can parse', () => {
    const challenge = parseDigestChallenge(buildChallenge({ realm: 'conclave', nonce: 'abc', opaque: 'o', stale: true }));
    expect(challenge).toEqual({ realm: 'conclave', nonce: 'abc', opaque: 'o', algorithm: 'MD5', qop: ['auth'], stale: true });
    expect(parseDigestChallenge('Digest realm="r"')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="r", nonce="n", algorithm=SHA-999')).toBeUndefined();
  });
});
