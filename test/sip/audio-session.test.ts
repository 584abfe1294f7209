/**
 * SDP offer/answer for one G.711 audio stream, against the offer baresip really sends
 * (as baresip 1.0 writes it; test/interop runs the real one) and the cases RFC 3264 names: hold, no common codec.
 */
import { describe, expect, it } from 'vitest';
import { readAudio, writeAnswer, writeOffer } from '../../src/sip/sdp/audio-session.js';

const BARESIP_OFFER = [
  'v=0',
  'o=- 1415826305 2103520593 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 10010 RTP/AVP 0 8 96 9 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=rtcp-rsize',
  'a=ptime:20',
  '',
].join('\r\n');

const local = { address: '127.0.0.1', port: 20000, sessionId: '42', sessionVersion: 1 };

describe('audio offer/answer', () => {
  it('reads baresip offer: PCMU, telephone-event 101, where to send', () => {
    const read = readAudio(BARESIP_OFFER);
    expect(read).toEqual({
      ok: true,
      audio: { address: '127.0.0.1', port: 10010, codec: 'PCMU', payloadType: 0, telephoneEvent: 101, ptime: 20, direction: 'sendrecv', onHold: false, sessionId: '1415826305', sessionVersion: 2103520593 },
    });
  });

  it('prefers the codec asked for, and answers with it and telephone-event only', () => {
    const read = readAudio(BARESIP_OFFER, ['PCMA', 'PCMU']);
    expect(read.ok && read.audio.codec).toBe('PCMA');
    if (!read.ok) return;
    const answer = writeAnswer(local, read.audio);
    expect(answer).toContain('m=audio 20000 RTP/AVP 8 101');
    expect(answer).toContain('a=rtpmap:8 PCMA/8000');
    expect(answer).toContain('a=rtpmap:101 telephone-event/8000');
    expect(answer).toContain('a=ptime:20');
    expect(answer).toContain('a=sendrecv');
    expect(answer).not.toContain('opus');
    const back = readAudio(answer);
    expect(back.ok && back.audio).toMatchObject({ port: 20000, codec: 'PCMA', telephoneEvent: 101 });
  });

  it('sees hold (sendonly, inactive, c=0.0.0.0) and mirrors the direction', () => {
    const held = readAudio(BARESIP_OFFER.replace('a=sendrecv', 'a=sendonly'));
    expect(held.ok && held.audio.onHold).toBe(true);
    if (held.ok) expect(writeAnswer(local, held.audio)).toContain('a=recvonly');
    const inactive = readAudio(BARESIP_OFFER.replace('a=sendrecv', 'a=inactive'));
    expect(inactive.ok && inactive.audio.onHold).toBe(true);
    const old = readAudio(BARESIP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0'));
    expect(old.ok && old.audio.onHold).toBe(true);
  });

  it('refuses what it cannot speak, saying why', () => {
    expect(readAudio(BARESIP_OFFER.replace('m=audio 10010 RTP/AVP 0 8 96 9 101', 'm=audio 10010 RTP/AVP 96 9'))).toMatchObject({ ok: false, reason: expect.stringContaining('codec') });
    expect(readAudio(BARESIP_OFFER.replace('RTP/AVP', 'RTP/SAVP'))).toMatchObject({ ok: false, reason: expect.stringContaining('RTP/SAVP') });
    expect(readAudio(BARESIP_OFFER.replace('m=audio 10010', 'm=audio 0'))).toMatchObject({ ok: false });
    expect(readAudio('garbage')).toMatchObject({ ok: false });
    expect(readAudio('')).toMatchObject({ ok: false });
  });

  it('offers PCMU, PCMA and telephone-event with ptime 20', () => {
    const offer = writeOffer(local);
    expect(offer).toContain('m=audio 20000 RTP/AVP 0 8 101');
    expect(offer).toContain('c=IN IP4 127.0.0.1');
    const read = readAudio(offer);
    expect(read.ok && read.audio).toMatchObject({ codec: 'PCMU', telephoneEvent: 101, ptime: 20, direction: 'sendrecv' });
  });
});
