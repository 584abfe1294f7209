/**
 * Test harness: an in-process MediaEngine with rooms and raw RTP peers over loopback UDP. The
 * test drives ticks itself, one per frame, only after the frames it needs have arrived, so the
 * assertions hold on a loaded machine (no sleeps, only bounded waits on packets).
 */
import { MediaEngine } from '../../src/media/media-engine.js';
import type { AddRtpLegParams, G711CodecName, MediaNotification } from '../../src/media/protocol.js';
import type { RtpLeg } from '../../src/media/rtp/rtp-leg.js';
import { dbfs, goertzel } from './goertzel.js';
import { RtpPeer } from './rtp-peer.js';
import { until } from '../helpers/until.js';

export const present = (pcm: Int16Array, hz: number): boolean => goertzel(pcm, hz) > 3000;
export const absent = (pcm: Int16Array, hz: number): boolean => dbfs(goertzel(pcm, hz)) < -40;

/**
 * Resolves once the leg has accepted `count` audio packets in total. Batched sockets deliver
 * only when the engine reads them, so this reads between turns of the event loop until then.
 */
export async function accepted(engine: MediaEngine, leg: RtpLeg, count: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    engine.readSockets();
    if (leg.stats.packetsReceived >= count) return;
    if (Date.now() > end) throw new Error(`leg accepted ${leg.stats.packetsReceived}/${count}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export class EngineHarness {
  readonly notes: MediaNotification[] = [];
  readonly engine: MediaEngine;
  readonly peers = new Map<string, RtpPeer>();
  /** Audio packets each talking peer sent since its leg's stream (re)started. */
  private readonly sent = new Map<string, number>();
  /** Engine tick count when each peer's leg was added (its packets start then). */
  private readonly ticksSeen = new Map<string, number>();
  private ticks = 0;

  /** `udp` picks the engine's socket path; the default is production's (native where built). */
  constructor(
    private readonly cleanup: (() => Promise<void>)[],
    udp?: 'native' | 'dgram',
  ) {
    this.engine = new MediaEngine((n) => this.notes.push(n), { rtpTimeoutMs: 0, ...(udp ? { udp } : {}) });
    cleanup.push(() => this.engine.close());
  }

  async createRooms(...roomIds: string[]): Promise<void> {
    for (const roomId of roomIds) await this.engine.request('createRoom', { roomId });
  }

  /** Adds an RTP leg whose peer sends `hz` (null = listen only). */
  async addPeer(roomId: string, id: string, hz: number | null, extra: Partial<AddRtpLegParams> = {}, peerCodec: G711CodecName = extra.codec === 'PCMA' ? 'PCMA' : 'PCMU'): Promise<RtpPeer> {
    const peer = await RtpPeer.open(hz, peerCodec);
    this.cleanup.push(() => peer.close());
    const { localPort } = await this.engine.request('addLeg', { roomId, legId: id, kind: 'rtp', codec: 'PCMU', remote: { address: '127.0.0.1', port: peer.port }, ...extra });
    peer.target = localPort!;
    this.peers.set(id, peer);
    this.sent.set(id, 0);
    this.ticksSeen.set(id, this.ticks);
    // Prime the jitter buffer to its 40 ms target so each later tick plays one frame.
    if (hz !== null) this.prime(id);
    return peer;
  }

  /** Sends two frames ahead, as after a stream (re)start, so each later tick plays one frame. */
  prime(id: string): void {
    const peer = this.peers.get(id)!;
    // Count from what the leg accepted: packets it dropped (e.g. another codec) never will be.
    this.sent.set(id, this.engine.rtpLegOf(id)!.stats.packetsReceived);
    for (let i = 0; i < 2; i++) peer.sendFrame();
    this.sent.set(id, this.sent.get(id)! + 2);
  }

  /** n frames: every talking peer sends one packet, the engine ticks once, every peer gets one. */
  async step(n = 1): Promise<void> {
    const { engine, peers, sent } = this;
    for (let k = 0; k < n; k++) {
      const waits: Promise<void>[] = [];
      for (const [id, peer] of peers) {
        if (peer.hz === null || !engine.rtpLegOf(id)) continue;
        peer.sendFrame();
        sent.set(id, sent.get(id)! + 1);
        waits.push(accepted(engine, engine.rtpLegOf(id)!, sent.get(id)!));
      }
      await Promise.all(waits);
      engine.tick();
      this.ticks++;
      await Promise.all([...peers].filter(([id]) => engine.rtpLegOf(id)).map(([id, p]) => p.waitFor(this.ticks - this.ticksSeen.get(id)!)));
    }
  }

  /** Waits until `cond` holds, reading the engine's sockets as it goes (see `accepted`). */
  async arrived(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    await until(() => {
      this.engine.readSockets();
      return cond();
    }, timeoutMs, what);
  }

  /** The last n frames peer `id` received, concatenated. */
  heard(id: string, n = 1): Int16Array {
    return this.peers.get(id)!.last(n);
  }
}
