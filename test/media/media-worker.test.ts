/**
 * The media plane through the real worker thread: MediaClient starts src/media/worker.ts (via
 * tsx under vitest), the worker's own 20 ms clock drives the engine, and a raw RTP peer paces
 * its packets in real time. Every wait is bounded and polls for the outcome, never a fixed sleep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaClient } from '../../src/media/media-client.js';
import type { MediaNotification } from '../../src/media/protocol.js';
import { goertzel } from './goertzel.js';
import { RtpPeer } from './rtp-peer.js';
import { until } from '../helpers/until.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('MediaClient and the media worker', () => {
  it('mixes an RTP peer with sim legs, records, notifies, times out and closes', async () => {
    const client = new MediaClient({ requestTimeoutMs: 5000 });
    cleanup.push(() => client.close());
    const notes: MediaNotification[] = [];
    client.on('talking', (n) => notes.push(n));
    client.on('legClosed', (n) => notes.push(n));

    await client.request('createRoom', { roomId: 'room' });
    const peer = await RtpPeer.open(400);
    cleanup.push(() => peer.close());
    const { localAddress, localPort } = await client.request('addLeg', {
      roomId: 'room',
      legId: 'A',
      kind: 'rtp',
      codec: 'PCMU',
      remote: { address: '127.0.0.1', port: peer.port },
      rtpTimeoutMs: 300,
    });
    expect(localAddress).toBe('127.0.0.1');
    peer.target = localPort!;
    await client.request('addLeg', { roomId: 'room', legId: 'S', kind: 'sim', tone: { frequencyHz: 1000, amplitude: 8000 } });
    await client.request('addLeg', { roomId: 'room', legId: 'R', kind: 'sim', record: true });

    const pacer = setInterval(() => peer.sendFrame(), 20);
    cleanup.push(async () => clearInterval(pacer));

    // The peer hears the sim tone, never itself.
    await until(() => peer.received.length > 0 && goertzel(peer.last(), 1000) > 3000, 5000, 'sim tone at the RTP peer');
    expect(goertzel(peer.last(), 400)).toBeLessThan(330);
    for (const legId of ['A', 'S']) {
      await until(() => notes.some((n) => n.type === 'talking' && n.legId === legId && n.talking), 5000, `${legId} talking`);
    }

    // The recorder hears both.
    const { wav } = await client.request('takeRecording', { legId: 'R' });
    const pcm = new Int16Array(wav.slice(44).buffer);
    let both = 0;
    for (let o = 0; o + 160 <= pcm.length; o += 160) {
      const f = pcm.subarray(o, o + 160);
      if (goertzel(f, 400) > 3000 && goertzel(f, 1000) > 3000) both++;
    }
    expect(both).toBeGreaterThan(0);

    const stats = await client.request('stats', {});
    expect(stats.ticks).toBeGreaterThan(0);
    expect(stats.legs.find((l) => l.legId === 'A')!.packetsIn).toBeGreaterThan(0);

    // The peer goes quiet: the worker closes its leg after 300 ms without RTP.
    clearInterval(pacer);
    await until(() => notes.some((n) => n.type === 'legClosed'), 5000, 'legClosed');
    expect(notes).toContainEqual({ kind: 'notify', type: 'legClosed', legId: 'A', roomId: 'room', reason: 'rtp-timeout' });

    await expect(client.request('setLeg', { legId: 'nope', muted: true })).rejects.toThrow(/no leg nope/);
    await client.close();
    await expect(client.request('stats', {})).rejects.toThrow(/not running/);
  });

  it('carries the new requests and the dtmf event across the thread boundary', async () => {
    const client = new MediaClient({ requestTimeoutMs: 5000, rtpTimeoutMs: 0 });
    cleanup.push(() => client.close());
    const digits: string[] = [];
    client.on('dtmf', (n) => digits.push(`${n.legId}:${n.digit}`));
    await client.request('createRoom', { roomId: 'ivr' });
    await client.request('createRoom', { roomId: 'conf' });
    const peer = await RtpPeer.open(null);
    cleanup.push(() => peer.close());
    const { localPort } = await client.request('addLeg', {
      roomId: 'ivr',
      legId: 'D',
      kind: 'rtp',
      codec: 'PCMU',
      remote: { address: '127.0.0.1', port: peer.port },
      telephoneEventPayloadType: 101,
    });
    peer.target = localPort!;
    // A PCM voice (structured-cloned Int16Array): 1000 Hz, 400 samples = 50 whole periods.
    const voice = Int16Array.from({ length: 400 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
    await client.request('addLeg', { roomId: 'conf', legId: 'V', kind: 'sim', voice });

    for (const end of [false, true, true, true]) peer.sendRaw(101, new Uint8Array([9, end ? 0x8a : 0x0a, 0, 160]), 4000);
    await until(() => digits.length > 0, 5000, 'dtmf event');

    await client.request('moveLeg', { legId: 'D', roomId: 'conf' });
    await until(() => peer.received.length > 0 && goertzel(peer.last(), 1000) > 3000, 5000, 'the voice in the new room');

    await client.request('setLeg', { legId: 'D', hold: true });
    await client.request('setSources', { legId: 'D', hold: { pcm: voice.map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 2000 * i) / 8000))) } });
    await until(() => goertzel(peer.last(), 2000) > 3000 && goertzel(peer.last(), 1000) < 330, 5000, 'the hold sound');
    expect(digits).toEqual(['D:9']);
    const stats = await client.request('stats', {});
    expect(stats.legs.find((l) => l.legId === 'D')!.roomId).toBe('conf');
  });
});
