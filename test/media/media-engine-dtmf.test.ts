/**
 * RFC 4733 telephone-events on an RTP leg, over loopback UDP: they are never decoded as audio
 * (nor is any payload type other than the codec's), each digit is reported once, and audio
 * interleaved with events in one sequence space plays on without loss.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RtpLeg } from '../../src/media/rtp/rtp-leg.js';
import { EngineHarness, present } from './engine-harness.js';
import { level } from './rtp-peer.js';
import type { RtpPeer } from './rtp-peer.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const TE = 101;

/** One RFC 4733 packet payload (§2.3): event, E bit, volume 10 (−10 dBm0), duration. */
function event(code: number, end: boolean, duration: number): Uint8Array {
  return new Uint8Array([code, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
}

/** A digit as a sender emits it: updates while pressed, then the end packet three times. */
function sendDigit(peer: RtpPeer, code: number, timestamp: number): number {
  let packets = 0;
  for (let d = 1; d <= 3; d++, packets++) peer.sendRaw(TE, event(code, false, d * 160), timestamp);
  for (let k = 0; k < 3; k++, packets++) peer.sendRaw(TE, event(code, true, 640), timestamp);
  return packets;
}

describe('telephone-events (DTMF)', () => {
  it('never plays events or unknown payload types as audio, and reports each digit once', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    const d = await h.addPeer('r', 'D', null, { telephoneEventPayloadType: TE });
    await h.addPeer('r', 'L', null);
    await h.step(1); // D's leg knows its remote, D's peer its target

    let events = sendDigit(d, 5, 8000);
    events += sendDigit(d, 11, 16000);
    // A stray payload type with a payload that would be loud as μ-law (0x00 = −32124).
    d.sendRaw(96, new Uint8Array(160));
    // An event payload padded to a G.711 frame: as μ-law it would be loud too.
    const padded = new Uint8Array(160);
    padded.set(event(1, false, 160));
    d.sendRaw(TE, padded, 24000);
    events++;
    const rtp = h.engine.rtpLegOf('D')!;
    await h.arrived(() => rtp.stats.telephoneEvents === events && rtp.stats.otherPayloadType === 1, 'events received');
    await h.step(4);

    expect(level(h.heard('L', 4))).toBeLessThan(4);
    expect(rtp.stats.packetsReceived).toBe(0);
    expect(rtp.jitterBuffer.stats.received).toBe(0);
    const digits = h.notes.flatMap((n) => (n.type === 'dtmf' ? [`${n.legId}:${n.digit}`] : []));
    expect(digits).toEqual(['D:5', 'D:#']);
  });

  it('keeps audio interleaved with events gapless (events share its sequence numbers)', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    const a = await h.addPeer('r', 'A', 1000, { telephoneEventPayloadType: TE });
    await h.addPeer('r', 'L', null);
    await h.step(4);
    const jb = h.engine.rtpLegOf('A')!.jitterBuffer.stats;
    const before = { ...jb };
    // A sender that keeps sending audio while a key is held: one event packet per frame.
    for (let k = 0; k < 8; k++) {
      a.sendRaw(TE, event(7, k >= 5, (k + 1) * 160), 50_000);
      await h.step(1);
      expect(present(h.heard('L'), 1000), `frame ${k}`).toBe(true);
    }
    expect(jb.lost - before.lost).toBe(0);
    expect(jb.underruns - before.underruns).toBe(0);
    expect(jb.resyncs).toBe(0);
    expect(h.notes.filter((n) => n.type === 'dtmf')).toEqual([{ kind: 'notify', type: 'dtmf', legId: 'A', digit: '7' }]);
  });

  it('rejects a telephone-event payload type that is the codec\'s or out of range', async () => {
    await expect(RtpLeg.open({ codec: 'PCMA', telephoneEventPayloadType: 8 })).rejects.toThrow(/telephone-event/);
    await expect(RtpLeg.open({ telephoneEventPayloadType: 128 })).rejects.toThrow(/telephone-event/);
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await expect(h.engine.request('addLeg', { roomId: 'r', legId: 'x', kind: 'rtp', codec: 'PCMU', telephoneEventPayloadType: 0 })).rejects.toThrow(/telephone-event/);
  });
});
