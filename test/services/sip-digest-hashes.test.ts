/** HA1 as digest defines it, checked against RFC 2617's own example (§3.5). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestHa1s } from '../../src/services/sip-domains/digest-hashes.js';

describe('digestHa1s', () => {
  it('gives RFC 2617 §3.5’s HA1 for Mufasa, and SHA-256 of the same A1', () => {
    // RFC 2617 §3.5: the response 6629fae49393a05397450978507c4ef1 is built on this HA1.
    const ha1 = digestHa1s('Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(ha1.md5).toBe('939e7578ed9e3c518a452acee763bce9');
    const ha2 = createHash('md5').update('GET:/dir/index.html').digest('hex');
    const response = createHash('md5').update(`${ha1.md5}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:${ha2}`).digest('hex');
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
    expect(ha1.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ha1.sha256).toBe(createHash('sha256').update('Mufasa:testrealm@host.com:Circle Of Life').digest('hex'));
  });
});
