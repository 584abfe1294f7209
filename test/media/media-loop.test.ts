/**
 * End to end over loopback UDP (reference/media-plane.md §6, matrix item 1): three peers send
 * distinct tones as PCMU to their RtpLegs, the mixer mixes, and each leg sends its N-1 mix back;
 * a fourth, listen-only peer gets the shared mix, encoded once. Ticks are driven by the test
 * after the packets are known to have arrived, so nothing depends on timing.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../src/media/codec/g711.js';
import { Mixer } from '../../src/media/mixer.js';
import { RtpLeg } from '../../src/media/rtp/rtp-leg.js';
import { parseRtp, serializeRtp } from '../../src/media/rtp/rtp-packet.js';
import { ToneSource, dbfs, goertzel } from './goertzel.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

interface Peer {
  socket: dgram.Socket;
  port: number;
  received: Int16Array[];
  waitFor(count: number): Promise<void>;
}

async function peer(): Promise<Peer> {
  const socket = dgram.createSocket('udp4');
  const received: Int16Array[] = [];
  let want = Infinity;
  let done: (() => void) | null = null;
  socket.on('message', (msg) => {
    const p = parseRtp(msg);
    if (!p) return;
    const pcm = new Int16Array(160);
    decodeMulaw(p.payload, pcm);
    received.push(pcm);
    if (received.length >= want && done) done();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => socket.close(() => resolve())));
  return {
    socket,
    port: socket.address().port,
    received,
    waitFor: (count) =>
      new Promise((resolve) => {
        if (received.length >= count) return resolve();
        want = count;
        done = resolve;
      }),
  };
}

function accepted(leg: RtpLeg, count: number): Promise<void> {
  return new Promise((resolve) => {
    if (leg.stats.packetsReceived >= count) return resolve();
    leg.onPacket = () => {
      if (leg.stats.packetsReceived >= count) resolve();
    };
  });
}

describe('media loop over UDP', () => {
  it('returns N-1 mixes to talkers and one shared mix to a listener', async () => {
    const tones = { A: 400, B: 1000, C: 1800 } as const;
    const mixer = new Mixer();
    const legs = new Map<string, RtpLeg>();
    const peers = new Map<string, Peer>();
    for (const id of ['A', 'B', 'C', 'L']) {
      const p = await peer();
      const leg = await RtpLeg.open({ remote: { address: '127.0.0.1', port: p.port } });
      cleanup.push(() => leg.close());
      legs.set(id, leg);
      peers.set(id, p);
      mixer.addLeg(id, { input: leg });
    }

    const frames = 4;
    const payload = new Uint8Array(160);
    for (const [id, hz] of Object.entries(tones)) {
      const tone = new ToneSource(hz, 8000);
      for (let i = 0; i < frames; i++) {
        encodeMulaw(tone.pop(), payload);
        const pkt = serializeRtp({ marker: i === 0, payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 100 + hz, payload });
        peers.get(id)!.socket.send(pkt, legs.get(id)!.localPort, '127.0.0.1');
      }
    }
    await Promise.all(['A', 'B', 'C'].map((id) => accepted(legs.get(id)!, frames)));

    const shared = new Uint8Array(160);
    let sharedEncodes = 0;
    for (let t = 0; t < frames; t++) {
      mixer.tick();
      let sharedDone = false;
      for (const leg of mixer.legs) {
        const rtp = legs.get(leg.id)!;
        if (leg.output !== null && leg.outputShared) {
          if (!sharedDone) {
            encodeMulaw(leg.output, shared);
            sharedDone = true;
            sharedEncodes++;
          }
          rtp.sendPayload(shared);
        } else {
          rtp.send(leg.output);
        }
      }
    }
    expect(sharedEncodes).toBe(frames);
    await Promise.all([...peers.values()].map((p) => p.waitFor(frames)));

    const heard = (id: string, hz: number): number => goertzel(peers.get(id)!.received[frames - 1]!, hz);
    for (const [talker, hz] of Object.entries(tones)) {
      expect(dbfs(heard(talker, hz))).toBeLessThan(-40); // nobody hears themselves
      for (const other of Object.keys(tones)) {
        if (other !== talker) expect(Math.abs(heard(other, hz) - 8000)).toBeLessThan(800);
      }
      expect(Math.abs(heard('L', hz) - 8000)).toBeLessThan(800);
    }
  });
});
