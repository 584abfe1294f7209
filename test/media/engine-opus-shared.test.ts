/**
 * The room's shared mix encoded once per tick for all its Opus listeners (engine-room.ts): two
 * G.711 talkers, a G.711 listener and Opus listeners on raw loopback sockets; the engine is ticked by the test
 * (engine-harness.ts). Every listener of the shared mix gets the very same Opus packet each tick,
 * and it decodes to both talkers.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { OpusFrameDecoder, OpusFrameEncoder } from '../../src/media/codec/opus.js';
import { closeRoom, newRoom } from '../../src/media/engine-room.js';
import { parseRtp } from '../../src/media/rtp/rtp-packet.js';
import { until } from '../helpers/until.js';
import { EngineHarness, present } from './engine-harness.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const OPUS_PT = 111;

/** A listen-only Opus peer: the payloads it received, in order. */
async function opusListener(h: EngineHarness, id: string): Promise<Uint8Array[]> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const payloads: Uint8Array[] = [];
  socket.on('message', (msg) => {
    const p = parseRtp(msg);
    if (p && p.payloadType === OPUS_PT) payloads.push(Uint8Array.from(p.payload));
  });
  await h.engine.request('addLeg', {
    roomId: 'r1',
    legId: id,
    kind: 'rtp',
    codec: 'opus',
    payloadType: OPUS_PT,
    remote: { address: '127.0.0.1', port: socket.address().port },
  });
  return payloads;
}

describe('shared Opus encode', () => {
  it('encodes the shared mix once per tick and sends every Opus listener the same packet', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r1');
    await h.addPeer('r1', 'A', 400);
    await h.addPeer('r1', 'B', 1000);
    await h.addPeer('r1', 'L', null); // a G.711 listener of the same shared mix
    const o1 = await opusListener(h, 'O1');
    const o2 = await opusListener(h, 'O2');
    const before = await h.engine.request('stats', {});
    const ticks = 25;
    await h.step(ticks);
    await until(() => o1.length >= ticks && o2.length >= ticks, 5000, 'the Opus listeners to get a packet per tick');
    const after = await h.engine.request('stats', {});
    // Per tick: the shared mix once as μ-law and once as Opus (for both Opus listeners), and a
    // private G.711 encode per talker.
    expect(after.sharedEncodes - before.sharedEncodes).toBe(2 * ticks);
    expect(after.privateEncodes - before.privateEncodes).toBe(2 * ticks);
    for (let i = 0; i < ticks; i++) expect(o2[i]).toEqual(o1[i]);
    const decoder = new OpusFrameDecoder();
    const pcm = new Int16Array(160);
    for (const p of o1) expect(decoder.decode(p, pcm)).toBe(true);
    expect(present(pcm, 400)).toBe(true);
    expect(present(pcm, 1000)).toBe(true);
    expect(present(h.heard('L'), 400) && present(h.heard('L'), 1000)).toBe(true);
  });

  it('closes a room\'s shared encoder with the room, once', () => {
    const room = newRoom('r', () => undefined);
    const encoder = new OpusFrameEncoder();
    room.encOpus = encoder;
    closeRoom(room);
    closeRoom(room);
    expect(encoder.closed).toBe(true);
    expect(room.encOpus).toBeNull();
  });
});
