/**
 * RTP fixed header (RFC 3550 §5.1): round trip, CSRCs, header extension skip, padding removal,
 * and malformed input that must be rejected without throwing.
 */
import { describe, expect, it } from 'vitest';
import { createRtpView, parseRtp, readRtp, serializeRtp, writeRtpHeader } from '../../src/media/rtp/rtp-packet.js';

const payload = Uint8Array.from({ length: 160 }, (_, i) => i & 0xff);

describe('RTP header round trip', () => {
  it('serialises and parses back every field, including 32-bit values above 2^31', () => {
    const bytes = serializeRtp({
      marker: true,
      payloadType: 8,
      sequenceNumber: 0xfffe,
      timestamp: 0xfedcba98,
      ssrc: 0x89abcdef,
      csrcs: [1, 0xffffffff],
      payload,
    });
    expect(bytes.length).toBe(12 + 8 + 160);
    const p = parseRtp(bytes)!;
    expect(p).toBeDefined();
    expect(p.marker).toBe(true);
    expect(p.payloadType).toBe(8);
    expect(p.sequenceNumber).toBe(0xfffe);
    expect(p.timestamp).toBe(0xfedcba98);
    expect(p.ssrc).toBe(0x89abcdef);
    expect(p.csrcs).toEqual([1, 0xffffffff]);
    expect(p.padding).toBe(false);
    expect(p.extension).toBe(false);
    expect(Array.from(p.payload)).toEqual(Array.from(payload));
  });

  it('writeRtpHeader writes the 12-byte header in place', () => {
    const buf = new Uint8Array(172);
    expect(writeRtpHeader(buf, false, 0, 258, 0x01020304, 0x05060708)).toBe(12);
    expect(Array.from(buf.subarray(0, 12))).toEqual([0x80, 0, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
    const view = createRtpView();
    expect(readRtp(buf, view)).toBe(true);
    expect(view).toMatchObject({ marker: false, payloadType: 0, sequenceNumber: 258, payloadOffset: 12, payloadLength: 160 });
  });

  it('skips a header extension', () => {
    const ext = [0xbe, 0xde, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8];
    const base = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: payload.subarray(0, 4) });
    const bytes = new Uint8Array([...base.subarray(0, 12), ...ext, ...base.subarray(12)]);
    bytes[0]! |= 0x10;
    const p = parseRtp(bytes)!;
    expect(p.extension).toBe(true);
    expect(Array.from(p.payload)).toEqual([0, 1, 2, 3]);
  });

  it('removes padding', () => {
    const base = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: payload.subarray(0, 5) });
    const bytes = new Uint8Array([...base, 0, 0, 3]);
    bytes[0]! |= 0x20;
    const p = parseRtp(bytes)!;
    expect(p.padding).toBe(true);
    expect(Array.from(p.payload)).toEqual([0, 1, 2, 3, 4]);
  });

  it('accepts an empty payload', () => {
    const p = parseRtp(serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: new Uint8Array(0) }));
    expect(p?.payload.length).toBe(0);
  });
});

describe('malformed packets', () => {
  const good = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: payload.subarray(0, 8) });

  it('rejects short buffers and wrong versions', () => {
    expect(parseRtp(new Uint8Array(0))).toBeUndefined();
    expect(parseRtp(good.subarray(0, 11))).toBeUndefined();
    for (const version of [0, 1, 3]) {
      const bad = good.slice();
      bad[0] = (version << 6) | (bad[0]! & 0x3f);
      expect(parseRtp(bad)).toBeUndefined();
    }
  });

  it('rejects a CSRC count that runs past the end', () => {
    const bad = good.slice(0, 16);
    bad[0] = 0x80 | 2; // two CSRCs need 8 bytes, only 4 follow the header
    expect(parseRtp(bad)).toBeUndefined();
  });

  it('rejects a truncated or overlong header extension', () => {
    const noRoom = good.slice(0, 14);
    noRoom[0]! |= 0x10;
    expect(parseRtp(noRoom)).toBeUndefined();
    const overlong = good.slice();
    overlong[0]! |= 0x10;
    overlong[14] = 0xff; // 65280+ words
    expect(parseRtp(overlong)).toBeUndefined();
  });

  it('rejects zero or oversized padding counts', () => {
    const zero = good.slice();
    zero[0]! |= 0x20;
    zero[zero.length - 1] = 0;
    expect(parseRtp(zero)).toBeUndefined();
    const big = good.slice();
    big[0]! |= 0x20;
    big[big.length - 1] = 8; // the whole 8-byte payload is padding: valid, empty
    expect(parseRtp(big)?.payload.length).toBe(0);
    big[big.length - 1] = 9; // reaches into the header
    expect(parseRtp(big)).toBeUndefined();
  });

  it('never throws on random garbage', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const view = createRtpView();
    for (let n = 0; n < 5000; n++) {
      const bytes = new Uint8Array(rand() % 64);
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand() & 0xff;
      if (bytes.length > 0 && n % 2 === 0) bytes[0] = 0x80 | (bytes[0]! & 0x3f); // half with V=2
      const p = parseRtp(bytes);
      const ok = readRtp(bytes, view);
      expect(p !== undefined).toBe(ok);
      if (p) {
        expect(p.payload.length).toBeGreaterThanOrEqual(0);
        expect(view.payloadOffset + view.payloadLength).toBeLessThanOrEqual(bytes.length);
      }
    }
  });
});
