/**
 * RtpLeg over real UDP on 127.0.0.1 with an in-process peer socket: a tone sent as G.711 comes
 * out of the jitter buffer intact, frames sent by the leg carry proper RTP headers, the leg
 * latches onto the sender, and junk is counted and ignored. No fixed sleeps: every wait is for a
 * packet or an event.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../../src/media/codec/g711.js';
import { parseRtp, serializeRtp } from '../../src/media/rtp/rtp-packet.js';
import type { RtpPacket } from '../../src/media/rtp/rtp-packet.js';
import { RtpLeg } from '../../src/media/rtp/rtp-leg.js';
import { ToneSource, goertzel } from './goertzel.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function peer(): Promise<{ socket: dgram.Socket; port: number; next: () => Promise<RtpPacket> }> {
  const socket = dgram.createSocket('udp4');
  const queue: Uint8Array[] = [];
  let waiter: ((b: Uint8Array) => void) | null = null;
  socket.on('message', (msg) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(msg);
    } else queue.push(msg);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const next = async (): Promise<RtpPacket> => {
    const raw = queue.shift() ?? (await new Promise<Uint8Array>((resolve) => (waiter = resolve)));
    const p = parseRtp(raw);
    if (!p) throw new Error('peer received a malformed packet');
    return p;
  };
  return { socket, port: socket.address().port, next };
}

async function openLeg(options: Parameters<typeof RtpLeg.open>[0] = {}): Promise<RtpLeg> {
  const leg = await RtpLeg.open(options);
  cleanup.push(() => leg.close());
  return leg;
}

/** Resolves once the leg has accepted `count` audio packets in total. */
function packetsAccepted(leg: RtpLeg, count: number): Promise<void> {
  return new Promise((resolve) => {
    if (leg.stats.packetsReceived >= count) return resolve();
    leg.onPacket = () => {
      if (leg.stats.packetsReceived >= count) {
        leg.onPacket = null;
        resolve();
      }
    };
  });
}

describe('RtpLeg receive path', () => {
  for (const codec of ['PCMU', 'PCMA'] as const) {
    it(`decodes a ${codec} tone from the network into the jitter buffer`, async () => {
      const leg = await openLeg({ codec });
      const p = await peer();
      const tone = new ToneSource(1000, 8000);
      const payload = new Uint8Array(160);
      const frames = 10;
      // Send out of order (pairs swapped) to go through the reordering too.
      const order = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8];
      const packets: Uint8Array[] = [];
      for (let i = 0; i < frames; i++) {
        (codec === 'PCMU' ? encodeMulaw : encodeAlaw)(tone.pop(), payload);
        packets.push(serializeRtp({ marker: i === 0, payloadType: codec === 'PCMU' ? 0 : 8, sequenceNumber: 65530 + i, timestamp: 1000 + i * 160, ssrc: 42, payload }));
      }
      for (const i of order) p.socket.send(packets[i]!, leg.localPort, '127.0.0.1');
      await packetsAccepted(leg, frames);
      let played = 0;
      for (let i = 0; i < frames; i++) {
        const f = leg.pop();
        if (f === null) continue;
        played++;
        expect(Math.abs(goertzel(f, 1000) - 8000)).toBeLessThan(300);
      }
      expect(played).toBe(frames);
      expect(leg.jitterBuffer.stats.lost).toBe(0);
      expect(leg.remote).toEqual({ address: '127.0.0.1', port: p.port }); // latched
    });
  }

  it('counts and ignores malformed packets and other payload types', async () => {
    const leg = await openLeg();
    const p = await peer();
    p.socket.send(new Uint8Array([1, 2, 3]), leg.localPort, '127.0.0.1');
    p.socket.send(serializeRtp({ marker: false, payloadType: 101, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: new Uint8Array(4) }), leg.localPort, '127.0.0.1');
    p.socket.send(serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 2, timestamp: 0, ssrc: 1, payload: new Uint8Array(160).fill(0xff) }), leg.localPort, '127.0.0.1');
    await packetsAccepted(leg, 1); // datagrams on loopback arrive in order
    expect(leg.stats.malformed).toBe(1);
    expect(leg.stats.otherPayloadType).toBe(1);
  });
});

describe('RtpLeg send path', () => {
  it('sends encoded frames with a fixed SSRC and consecutive seq/timestamp', async () => {
    const p = await peer();
    const leg = await openLeg({ codec: 'PCMA', remote: { address: '127.0.0.1', port: p.port } });
    const tone = new ToneSource(400, 8000);
    leg.send(tone.pop());
    leg.send(tone.pop());
    leg.send(null);
    const got = [await p.next(), await p.next(), await p.next()];
    expect(got.map((g) => g.payloadType)).toEqual([8, 8, 8]);
    expect(got.map((g) => g.ssrc)).toEqual([leg.ssrc, leg.ssrc, leg.ssrc]);
    expect(got.map((g) => g.marker)).toEqual([true, false, false]);
    expect((got[1]!.sequenceNumber - got[0]!.sequenceNumber) & 0xffff).toBe(1);
    expect((got[2]!.sequenceNumber - got[1]!.sequenceNumber) & 0xffff).toBe(1);
    expect((got[1]!.timestamp - got[0]!.timestamp) >>> 0).toBe(160);
    const pcm = new Int16Array(160);
    decodeAlaw(got[1]!.payload, pcm);
    expect(Math.abs(goertzel(pcm, 400) - 8000)).toBeLessThan(300);
    decodeAlaw(got[2]!.payload, pcm);
    expect(Math.max(...pcm.map(Math.abs))).toBeLessThanOrEqual(8); // A-law silence
    expect(leg.stats.packetsSent).toBe(3);
  });

  it('sends a payload encoded once (shared mix) as is', async () => {
    const p = await peer();
    const leg = await openLeg({ remote: { address: '127.0.0.1', port: p.port } });
    const shared = new Uint8Array(160);
    encodeMulaw(new ToneSource(1000, 5000).pop(), shared);
    leg.sendPayload(shared);
    const got = await p.next();
    expect(Array.from(got.payload)).toEqual(Array.from(shared));
    const pcm = new Int16Array(160);
    decodeMulaw(got.payload, pcm);
    expect(Math.abs(goertzel(pcm, 1000) - 5000)).toBeLessThan(250);
  });

  it('replies to the latched source when no remote was given', async () => {
    const leg = await openLeg();
    const p = await peer();
    p.socket.send(serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 9, timestamp: 0, ssrc: 5, payload: new Uint8Array(160) }), leg.localPort, '127.0.0.1');
    await packetsAccepted(leg, 1);
    leg.send(null);
    const got = await p.next();
    expect(got.ssrc).toBe(leg.ssrc);
  });
});

describe('RtpLeg ports', () => {
  it('takes a free even port of a range (and the odd one after it), never one in use', async () => {
    const first = await openLeg({ portRange: { min: 41000, max: 41100 } });
    expect(first.localPort % 2).toBe(0);
    expect(first.localPort).toBeGreaterThanOrEqual(41000);
    expect(first.localPort).toBeLessThan(41100);
    const second = await openLeg({ portRange: { min: first.localPort, max: first.localPort + 3 } });
    expect(second.localPort).toBe(first.localPort + 2);
    expect(second.rtcpPort).toBe(first.localPort + 3);
  });

  it('walks the range from the last pair taken, so a pair just freed is not reused at once', async () => {
    const range = { min: 42000, max: 42019 };
    const a = await openLeg({ portRange: range });
    const freed = a.localPort;
    await a.close();
    const b = await openLeg({ portRange: range });
    expect(b.localPort).not.toBe(freed);
  });

  it('fails cleanly when the range is exhausted', async () => {
    const only = await openLeg({ portRange: { min: 41200, max: 41300 } });
    await expect(RtpLeg.open({ portRange: { min: only.localPort, max: only.localPort + 1 } })).rejects.toThrow(/no free even UDP port/);
  });
});
