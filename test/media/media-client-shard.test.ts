/**
 * MediaClient with two media workers: rooms are spread over them, and a leg moved into a room
 * of the other worker keeps its local port (the destination worker binds the same one), its RTP
 * stream (SSRC, consecutive sequence numbers), its players and its recording, and is heard and
 * hears in the new room. Waits are bounded polls on packets and stats, never fixed sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaClient } from '../../src/media/media-client.js';
import type { EngineStats, MediaNotification } from '../../src/media/protocol.js';
import { goertzel } from './goertzel.js';
import { RtpPeer } from './rtp-peer.js';
import { until } from '../helpers/until.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const tone = (hz: number, amplitude = 6000): Int16Array => Int16Array.from({ length: 8000 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000)));
const legOf = (s: EngineStats, id: string) => s.legs.find((l) => l.legId === id)!;

describe('MediaClient over two workers', () => {
  it('moves an RTP leg across workers on the same port, with its stream, player and recording', async () => {
    const client = new MediaClient({ workers: 2, rtpTimeoutMs: 0 });
    cleanup.push(() => client.close());
    expect(client.workerCount).toBe(2);
    const notes: MediaNotification[] = [];
    client.on('legClosed', (n) => notes.push(n));

    // Two empty workers: the second room goes to the worker without a room.
    await client.request('createRoom', { roomId: 'a' });
    await client.request('createRoom', { roomId: 'b' });
    let stats = await client.request('stats', {});
    expect(stats.workers!.map((w) => w.rooms)).toEqual([1, 1]);

    const peer = await RtpPeer.open(400);
    cleanup.push(() => peer.close());
    const { localPort } = await client.request('addLeg', { roomId: 'a', legId: 'X', kind: 'rtp', codec: 'PCMU', remote: { address: '127.0.0.1', port: peer.port } });
    peer.target = localPort!;
    await client.request('addLeg', { roomId: 'a', legId: 'S1', kind: 'sim', tone: { frequencyHz: 1000, amplitude: 6000 } });
    await client.request('addLeg', { roomId: 'a', legId: 'R', kind: 'sim', record: true });
    await client.request('addLeg', { roomId: 'b', legId: 'S2', kind: 'sim', tone: { frequencyHz: 2000, amplitude: 6000 } });
    // A looped per-leg player (3000 Hz) that must follow X.
    await client.request('play', { target: { legId: 'X' }, sound: { pcm: tone(3000, 3000) }, loop: true });

    const pacer = setInterval(() => peer.sendFrame(), 20);
    cleanup.push(async () => clearInterval(pacer));
    await until(() => peer.received.length > 0 && goertzel(peer.last(), 1000) > 3000 && goertzel(peer.last(), 3000) > 2000, 5000, 'room a at the peer');
    stats = await client.request('stats', {});
    const workerA = stats.workers!.findIndex((w) => w.legs === 3);
    expect(workerA).toBeGreaterThanOrEqual(0);
    const inBefore = legOf(stats, 'X').packetsIn;
    const seen = peer.headers.length;

    // X and the recorder R move to room b, on the other worker.
    await client.request('moveLeg', { legId: 'X', roomId: 'b' });
    await client.request('moveLeg', { legId: 'R', roomId: 'b' });
    stats = await client.request('stats', {});
    expect(stats.workers![workerA]!.legs).toBe(1);
    expect(stats.workers![1 - workerA]!.legs).toBe(3);
    expect(legOf(stats, 'X').roomId).toBe('b');

    // Same port both ways: the peer still sends to localPort and hears room b from it.
    await until(() => peer.received.length > seen + 5 && goertzel(peer.last(), 2000) > 3000, 5000, 'room b at the peer');
    expect(goertzel(peer.last(), 1000)).toBeLessThan(330);
    expect(goertzel(peer.last(), 3000)).toBeGreaterThan(2000);
    await until(async () => legOf(await client.request('stats', {}), 'X').packetsIn > inBefore + 10, 5000, 'the peer heard in the new worker');
    const after = peer.headers.slice(seen - 1);
    expect(new Set(after.map((h) => h.fromPort))).toEqual(new Set([localPort]));
    expect(new Set(after.map((h) => h.ssrc)).size).toBe(1);
    for (let i = 1; i < after.length; i++) expect(after[i]!.seq).toBe((after[i - 1]!.seq + 1) & 0xffff);

    // R recorded room a before the move and room b (2000 Hz + the peer) after it.
    const wavFrames: Int16Array[] = [];
    await until(async () => {
      const { wav } = await client.request('takeRecording', { legId: 'R' });
      const pcm = new Int16Array(wav.slice(44).buffer);
      for (let o = 0; o + 160 <= pcm.length; o += 160) wavFrames.push(pcm.slice(o, o + 160));
      return wavFrames.some((f) => goertzel(f, 2000) > 3000 && goertzel(f, 400) > 3000);
    }, 5000, 'room b in the recording');
    // What R heard in room a before the move (S1's 1000 Hz) travelled with it.
    expect(wavFrames.some((f) => goertzel(f, 1000) > 3000)).toBe(true);

    expect(notes).toEqual([]);
  });
});
