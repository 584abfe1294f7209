/**
 * SDP for SRTP (RFC 4568 SDES): an `RTP/SAVP` offer is refused unless the caller asks for SRTP;
 * asked, the first usable `a=crypto` line is taken (suites we do not speak, MKIs and session
 * parameters skipped) and answered with our own fresh key under its tag and suite; our offer
 * carries both suites, and the peer's answer names the line whose key we send with. The keys
 * read from the text are the ones that decrypt the peer's packets.
 */
import { describe, expect, it } from 'vitest';
import { readAudio, writeAnswer, writeOffer } from '../../src/sip/sdp/audio-session.js';
import { answerCrypto, offerCrypto, offeredCryptoFor, readCrypto } from '../../src/sip/sdp/sdes-crypto.js';
import { SrtpContext } from '../../src/media/rtp/srtp-context.js';

const KEY_80 = Buffer.from(Array.from({ length: 30 }, (_, i) => i + 1)).toString('base64');
const KEY_32 = Buffer.from(Array.from({ length: 30 }, (_, i) => 200 - i)).toString('base64');

/** As a softphone with mandatory SRTP writes it: a GCM suite first, which we skip. */
const SAVP_OFFER = [
  'v=0',
  'o=- 1415826305 2103520593 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 10010 RTP/SAVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=ptime:20',
  `a=crypto:1 AEAD_AES_256_GCM inline:${Buffer.alloc(44, 7).toString('base64')}`,
  `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}|2^20|1:4`,
  `a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:${KEY_32}|2^31`,
  `a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`,
  '',
].join('\r\n');

const local = { address: '127.0.0.1', port: 20000, sessionId: '42', sessionVersion: 1 };

describe('SRTP offer/answer (RFC 4568)', () => {
  it('refuses RTP/SAVP unless the caller asks for SRTP, as before', () => {
    const read = readAudio(SAVP_OFFER);
    expect(read).toEqual({ ok: false, reason: 'unsupported transport RTP/SAVP: Conclave speaks plain RTP/AVP' });
  });

  it('takes the first usable line (skipping GCM and an MKI) and answers RTP/SAVP with a fresh key of its tag and suite', () => {
    const read = readAudio(SAVP_OFFER, ['PCMU', 'PCMA'], { srtp: true });
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.audio).toMatchObject({ port: 10010, codec: 'PCMU', telephoneEvent: 101 });
    expect(read.audio.crypto!.tag).toBe(3);
    expect(read.audio.crypto!.key.suite).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(Buffer.concat([read.audio.crypto!.key.masterKey, read.audio.crypto!.key.masterSalt]).toString('base64')).toBe(KEY_32);

    const ours = answerCrypto(read.audio.crypto!);
    const answer = writeAnswer(local, read.audio, { crypto: [ours] });
    expect(answer).toContain('m=audio 20000 RTP/SAVP 0 101');
    const lines = answer.split('\r\n').filter((l) => l.startsWith('a=crypto:'));
    expect(lines).toEqual([`a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:${Buffer.concat([ours.key.masterKey, ours.key.masterSalt]).toString('base64')}`]);
    expect(lines[0]).not.toContain(KEY_32); // our own key, not the peer's echoed

    // The peer reads our answer back: our key is what it decrypts our packets with.
    const back = readAudio(answer, ['PCMU'], { srtp: true });
    expect(back.ok && back.audio.crypto).toEqual(ours);
  });

  it('offers both suites with fresh keys, and the answer picks the key we send with', () => {
    const offered = offerCrypto();
    const offer = writeOffer(local, { crypto: offered });
    expect(offer).toContain('m=audio 20000 RTP/SAVP 0 8 101');
    expect(offer).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}\r\n/);
    expect(offer).toMatch(/a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:[A-Za-z0-9+/]{40}\r\n/);
    expect(offerCrypto()[0]!.key.masterKey).not.toEqual(offered[0]!.key.masterKey);

    // Another Conclave would take line 1; a peer preferring the 32-bit tag takes line 2 and
    // answers with its own key under tag 2: we send with our tag-2 key.
    const peerSide = readAudio(offer, ['PCMU'], { srtp: true });
    expect(peerSide.ok && peerSide.audio.crypto).toEqual(offered[0]);
    if (!peerSide.ok) return;
    const peerKey = answerCrypto(offered[1]!);
    const answer = writeAnswer({ ...local, port: 30000 }, { ...peerSide.audio, crypto: offered[1]! }, { crypto: [peerKey] });
    const read = readAudio(answer, ['PCMU'], { srtp: true });
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.audio.crypto).toEqual(peerKey);
    expect(offeredCryptoFor(offered, read.audio.crypto!)).toBe(offered[1]);
    expect(offeredCryptoFor(offered, { tag: 2, key: { ...peerKey.key, suite: 'AES_CM_128_HMAC_SHA1_80' } })).toBeNull();
  });

  it('refuses an SRTP offer with no usable line, and ignores crypto in a plain RTP/AVP offer', () => {
    const none = SAVP_OFFER.split('\r\n').filter((l) => !l.startsWith('a=crypto:3') && !l.startsWith('a=crypto:4')).join('\r\n');
    expect(readAudio(none, ['PCMU'], { srtp: true })).toEqual({ ok: false, reason: 'no usable a=crypto: Conclave takes AES_CM_128_HMAC_SHA1_80 or _32 with one inline key, no MKI' });
    const bestEffort = readAudio(SAVP_OFFER.replace('RTP/SAVP', 'RTP/AVP'), ['PCMU'], { srtp: true });
    expect(bestEffort.ok && bestEffort.audio.crypto).toBeUndefined();
    if (bestEffort.ok) expect(writeAnswer(local, bestEffort.audio)).toContain('m=audio 20000 RTP/AVP 0 101');
  });

  it('will not answer SRTP with plain RTP, nor plain RTP with crypto, nor with another tag', () => {
    const read = readAudio(SAVP_OFFER, ['PCMU'], { srtp: true });
    if (!read.ok) throw new Error(read.reason);
    expect(() => writeAnswer(local, read.audio)).toThrow(/one crypto line/);
    expect(() => writeAnswer(local, read.audio, { crypto: [{ tag: 4, key: read.audio.crypto!.key }] })).toThrow(/one crypto line/);
    const plain = readAudio(SAVP_OFFER.replace('RTP/SAVP', 'RTP/AVP'));
    if (!plain.ok) throw new Error(plain.reason);
    expect(() => writeAnswer(local, plain.audio, { crypto: offerCrypto() })).toThrow(/without crypto/);
  });

  it('reads key parameters as RFC 4568 §9.1 writes them', () => {
    const line = (config: string, suite = 'AES_CM_128_HMAC_SHA1_80', sessionConfig?: string) => readCrypto({ id: 1, suite, config, ...(sessionConfig ? { sessionConfig } : {}) });
    expect(line(`inline:${KEY_80}`)).not.toBeNull();
    expect(line(`inline:${KEY_80}|2^20`)).not.toBeNull();
    expect(line(`inline:${KEY_80}|1048576`)).not.toBeNull();
    expect(line(`inline:${KEY_80}|2^20|1:4`)).toBeNull(); // MKI
    expect(line(`inline:${KEY_80};inline:${KEY_32}`)).toBeNull(); // several keys
    expect(line(`inline:${KEY_80}`, 'AES_CM_128_HMAC_SHA1_80', 'KDR=1')).toBeNull();
    expect(line(`inline:${KEY_80}`, 'F8_128_HMAC_SHA1_80')).toBeNull();
    expect(line(`inline:${Buffer.alloc(29).toString('base64')}`)).toBeNull();
    expect(line(`uri:https://example.com/key`)).toBeNull();
  });

  it('the key read from the offer decrypts what the peer protects with it', () => {
    const read = readAudio(SAVP_OFFER, ['PCMU'], { srtp: true });
    if (!read.ok) throw new Error(read.reason);
    const peer = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', masterKey: Buffer.from(KEY_32, 'base64').subarray(0, 16), masterSalt: Buffer.from(KEY_32, 'base64').subarray(16) });
    const rtp = new Uint8Array(172);
    rtp[0] = 0x80;
    rtp.fill(0x55, 12);
    const wire = new Uint8Array(180);
    const n = peer.protectRtp(rtp, rtp.length, wire);
    const out = new Uint8Array(180);
    expect(new SrtpContext(read.audio.crypto!.key).unprotectRtp(wire, n, out)).toBe(172);
    expect(out.subarray(0, 172)).toEqual(rtp);
  });
});
