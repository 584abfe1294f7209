import opus from '@discordjs/opus';
import { describe, expect, it } from 'vitest';
import { OPUS_CLOCK_RATE, OPUS_TICKS_PER_FRAME, OpusFrameDecoder, OpusFrameEncoder } from '../../src/media/codec/opus.js';
import { nativeOpusError } from '../../src/media/codec/opus-native.js';
import { ToneSource, goertzel } from './goertzel.js';
import { speechLike } from './speech-like.js';

const FRAME = 160;

/** `frames` 20 ms frames of a tone through our encoder, as packets. */
function encodeTone(encoder: OpusFrameEncoder, hz: number, frames: number): Uint8Array[] {
  const tone = new ToneSource(hz, 8000);
  const packets: Uint8Array[] = [];
  // The view is valid until the next encode: keep copies.
  for (let f = 0; f < frames; f++) packets.push(Uint8Array.from(encoder.encode(tone.pop())));
  return packets;
}

/** Signal-to-error ratio of `got` against `want`, in dB, over all the frames. */
function snr(want: Int16Array[], got: Int16Array[]): number {
  let signal = 0;
  let error = 0;
  want.forEach((w, f) => {
    for (let i = 0; i < w.length; i++) {
      signal += w[i]! * w[i]!;
      error += (w[i]! - got[f]![i]!) ** 2;
    }
  });
  return 10 * Math.log10(signal / Math.max(error, 1));
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

  it.each([true, false])('a 1 kHz tone encoded and decoded comes back as that tone, in packets of a sane size (native decoder: %s)', (native) => {
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder({ native });
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

  it('has the native decoder (native/opus_decode.c, built by npm install)', () => {
    expect(nativeOpusError).toBeNull();
    expect(new OpusFrameDecoder().fec).toBe(true);
  });

  it('recovers a lost frame from the next packet\'s FEC far better than it conceals one', () => {
    const voice = speechLike(4);
    const encoder = new OpusFrameEncoder();
    const packets: Uint8Array[] = [];
    for (let at = 0; at + FRAME <= voice.length; at += FRAME) packets.push(Uint8Array.from(encoder.encode(voice.subarray(at, at + FRAME))));
    // What a decoder that lost nothing makes, frame by frame.
    const reference = new Int16Array(packets.length * FRAME);
    const whole = new OpusFrameDecoder();
    for (let f = 0; f < packets.length; f++) expect(whole.decode(packets[f]!, reference.subarray(f * FRAME, (f + 1) * FRAME))).toBe(true);
    // Every tenth packet lost: one decoder recovers it from the next packet, one conceals it.
    const recovered = new Int16Array(reference.length);
    const concealed = new Int16Array(reference.length);
    const fec = new OpusFrameDecoder();
    const plc = new OpusFrameDecoder();
    const lost = (f: number): boolean => f % 10 === 5 && f + 1 < packets.length;
    for (let f = 0; f < packets.length; f++) {
      const r = recovered.subarray(f * FRAME, (f + 1) * FRAME);
      const c = concealed.subarray(f * FRAME, (f + 1) * FRAME);
      if (lost(f)) {
        expect(fec.recover(packets[f + 1]!, r)).toBe(true);
        plc.conceal(c);
      } else {
        expect(fec.decode(packets[f]!, r)).toBe(true);
        expect(plc.decode(packets[f]!, c)).toBe(true);
      }
    }
    const lostFrames = (pcm: Int16Array): Int16Array[] =>
      packets.flatMap((_, f) => (lost(f) ? [pcm.subarray(f * FRAME, (f + 1) * FRAME)] : []));
    const snrFec = snr(lostFrames(reference), lostFrames(recovered));
    const snrPlc = snr(lostFrames(reference), lostFrames(concealed));
    expect(snrFec).toBeGreaterThan(12);
    expect(snrFec).toBeGreaterThan(snrPlc + 6);
  });

  it('conceals a run of losses with libopus\'s PLC: near the last level, then fading to silence', () => {
    const decoder = new OpusFrameDecoder();
    const packets = encodeTone(new OpusFrameEncoder(), 1000, 40);
    const out = new Int16Array(FRAME);
    for (let f = 0; f < 30; f++) decoder.decode(packets[f]!, out);
    const level = rms(out);
    const concealed: number[] = [];
    for (let f = 0; f < 10; f++) {
      decoder.conceal(out);
      concealed.push(rms(out));
    }
    expect(concealed[0]).toBeGreaterThan(level * 0.3);
    expect(concealed[0]).toBeLessThan(level * 1.2);
    expect(concealed[9]).toBeLessThan(level * 0.05);
    expect(decoder.decode(packets[38]!, out)).toBe(true);
  });

  it('without the native decoder, conceals with the last frame at −6 dB, then fading, and is at level on the next packet', () => {
    const decoder = new OpusFrameDecoder({ native: false });
    expect(decoder.fec).toBe(false);
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
    // And it cannot recover: out is left alone.
    out.fill(7);
    expect(decoder.recover(packets[37]!, out)).toBe(false);
    expect(out.every((s) => s === 7)).toBe(true);
  });

  it.each([true, false])('says so when it cannot decode, leaving out untouched (native decoder: %s)', (native) => {
    const decoder = new OpusFrameDecoder({ native });
    const out = new Int16Array(FRAME).fill(7);
    // TOC code 3 asking for 63 frames: more than 120 ms, an invalid packet (RFC 6716 §3.2.5).
    expect(decoder.decode(Uint8Array.of(0xff, 0xff, 0xff), out)).toBe(false);
    expect(decoder.decode(new Uint8Array(0), out)).toBe(false);
    expect(decoder.recover(Uint8Array.of(0xff, 0xff, 0xff), out)).toBe(false);
    expect(out.every((s) => s === 7)).toBe(true);
  });

  it.each([true, false])('closes once, however often it is closed (native decoder: %s)', (native) => {
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder({ native });
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
