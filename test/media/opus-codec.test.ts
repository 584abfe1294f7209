import opus from '@discordjs/opus';
import { describe, expect, it } from 'vitest';
import { OPUS_CLOCK_RATE, OPUS_TICKS_PER_FRAME, OpusFrameDecoder, OpusFrameEncoder } from '../../src/media/codec/opus.js';
import { ToneSource, goertzel } from './goertzel.js';

const FRAME = 160;

/** `frames` 20 ms frames of a tone through our encoder, as packets. */
function encodeTone(encoder: OpusFrameEncoder, hz: number, frames: number): Uint8Array[] {
  const tone = new ToneSource(hz, 8000);
  const packets: Uint8Array[] = [];
  // The view is valid until the next encode: keep copies.
  for (let f = 0; f < frames; f++) packets.push(Uint8Array.from(encoder.encode(tone.pop())));
  return packets;
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / pcm.length);
}

describe('Opus frames at 8 kHz', () => {
  it('uses the RTP clock of RFC 7587: 48 kHz, 960 ticks per 20 ms', () => {
    expect(OPUS_CLOCK_RATE).toBe(48_000);
    expect(OPUS_TICKS_PER_FRAME).toBe((OPUS_CLOCK_RATE * 20) / 1000);
  });

  it('a 1 kHz tone encoded and decoded comes back as that tone, in packets of a sane size', () => {
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder();
    const packets = encodeTone(encoder, 1000, 50);
    // 24 kbit/s is 60 octets per 20 ms on average (VBR: each packet varies).
    const total = packets.reduce((n, p) => n + p.length, 0);
    expect(total / packets.length).toBeGreaterThan(20);
    expect(total / packets.length).toBeLessThan(90);
    for (const p of packets) expect(p.length).toBeLessThan(200);
    const out = new Int16Array(FRAME);
    for (let f = 0; f < packets.length; f++) {
      expect(decoder.decode(packets[f]!, out)).toBe(true);
      // Past the codec's start-up, each frame is the tone at its level and little else.
      if (f >= 10) {
        expect(goertzel(out, 1000)).toBeGreaterThan(6000);
        expect(goertzel(out, 1000)).toBeLessThan(10_000);
        expect(goertzel(out, 2000)).toBeLessThan(400);
        expect(goertzel(out, 500)).toBeLessThan(400);
      }
    }
    encoder.close();
    decoder.close();
  });

  it('decodes what a browser sends (48 kHz stereo) into 160 samples of 8 kHz mono', () => {
    const browser = new opus.OpusEncoder(48_000, 2);
    const frame = Buffer.alloc(960 * 2 * 2);
    const decoder = new OpusFrameDecoder();
    const out = new Int16Array(FRAME);
    let n = 0;
    for (let f = 0; f < 30; f++) {
      for (let i = 0; i < 960; i++, n++) {
        const s = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * n) / 48_000));
        frame.writeInt16LE(s, i * 4);
        frame.writeInt16LE(s, i * 4 + 2);
      }
      expect(decoder.decode(browser.encode(frame), out)).toBe(true);
    }
    expect(goertzel(out, 1000)).toBeGreaterThan(6000);
    expect(goertzel(out, 3000)).toBeLessThan(400);
  });

  it('conceals a loss with the last frame at −6 dB, then fading, and is at level on the next packet', () => {
    const decoder = new OpusFrameDecoder();
    const packets = encodeTone(new OpusFrameEncoder(), 1000, 40);
    const out = new Int16Array(FRAME);
    for (let f = 0; f < 30; f++) decoder.decode(packets[f]!, out);
    const level = rms(out);
    const concealed: number[] = [];
    for (let f = 0; f < 6; f++) {
      decoder.conceal(out);
      concealed.push(rms(out));
    }
    expect(concealed[0]! / level).toBeCloseTo(0.5, 1);
    expect(concealed[1]! / level).toBeCloseTo(0.25, 1);
    expect(concealed[3]).toBeLessThan(level * 0.07);
    expect(concealed[4]).toBe(0);
    expect(concealed[5]).toBe(0);
    // libopus was not told of the loss, so the first packet after it decodes at full level.
    expect(decoder.decode(packets[36]!, out)).toBe(true);
    expect(goertzel(out, 1000)).toBeGreaterThan(6000);
    decoder.conceal(out);
    expect(rms(out) / goertzel(out, 1000)).toBeGreaterThan(0.3);
    expect(goertzel(out, 1000)).toBeGreaterThan(3000);
  });

  it('says so when it cannot decode or recover, leaving out untouched', () => {
    const decoder = new OpusFrameDecoder();
    const out = new Int16Array(FRAME).fill(7);
    // TOC code 3 asking for 63 frames: more than 120 ms, an invalid packet (RFC 6716 §3.2.5).
    expect(decoder.decode(Uint8Array.of(0xff, 0xff, 0xff), out)).toBe(false);
    expect(decoder.decode(new Uint8Array(0), out)).toBe(false);
    // No FEC decode through @discordjs/opus (see src/media/codec/opus.ts).
    const packets = encodeTone(new OpusFrameEncoder(), 1000, 3);
    expect(decoder.recover(packets[2]!, out)).toBe(false);
    expect(out.every((s) => s === 7)).toBe(true);
  });

  it('closes once, however often it is closed', () => {
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder();
    expect(encoder.closed).toBe(false);
    expect(decoder.closed).toBe(false);
    encoder.close();
    encoder.close();
    decoder.close();
    decoder.close();
    expect(encoder.closed).toBe(true);
    expect(decoder.closed).toBe(true);
    expect(() => encoder.encode(new Int16Array(FRAME))).toThrow(/closed/);
    const out = new Int16Array(FRAME).fill(3);
    expect(decoder.decode(Uint8Array.of(0x08, 0x00), out)).toBe(false);
    decoder.conceal(out);
    expect(out.every((s) => s === 0)).toBe(true);
  });
});
