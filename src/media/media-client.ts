/**
 * The control plane's handle on the media plane: starts N media worker threads (default: one
 * per core), sends typed requests (promises with a timeout) and emits the workers'
 * notifications as events ('talking', 'legClosed', 'played', 'dtmf', 'recorded'), plus 'error' and 'exit'
 * for the workers themselves.
 *
 * Why several workers: one worker does all socket I/O and mixing on one core, and at ~1,000
 * G.711 participants that core saturates (BENCHMARKS.md, "Media plane capacity"). Rooms are
 * sharded: a new room goes to the worker with the fewest legs (then rooms), and every request
 * is routed by its roomId or legId to the worker that holds it. A room never spans workers, so
 * mixing stays local. `moveLeg` into a room of another worker is done here: the leg is detached
 * from its worker (sockets closed, state returned) and attached in the other, which binds the
 * SAME ports and carries the RTP stream on (leg-state.ts). Requests about a leg that is moving
 * wait for the move. The API is the single-worker one, unchanged.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { DTLS_HANDSHAKE_TIMEOUT_MS } from './protocol.js';
import type {
  CertificateFingerprint,
  EngineStats,
  LegFlagsPatch,
  MediaEngineOptions,
  MediaNotification,
  MediaRequestParams,
  MediaRequestResult,
  MediaRequestType,
  PlayTarget,
  WorkerStats,
} from './protocol.js';
import { WorkerHandle } from './worker-handle.js';
import { MediaError } from './media-error.js';
import { createDtlsCertificate, pemFingerprint } from './rtp/dtls-certificate.js';

export interface MediaClientOptions extends MediaEngineOptions {
  /** Default request timeout in ms (default 5000). */
  requestTimeoutMs?: number;
  /** Media worker threads (default: the number of cores, os.availableParallelism()). */
  workers?: number;
}

type NotificationOf<T extends MediaNotification['type']> = Extract<MediaNotification, { type: T }>;

export interface MediaClientEvents {
  talking: [NotificationOf<'talking'>];
  legClosed: [NotificationOf<'legClosed'>];
  played: [NotificationOf<'played'>];
  dtmf: [NotificationOf<'dtmf'>];
  recorded: [NotificationOf<'recorded'>];
  error: [Error];
  exit: [number];
}

/** The leg a request is about, if any (requests about a moving leg wait for the move). */
function legOf(type: MediaRequestType, params: unknown): string | undefined {
  if (hasTarget(type)) {
    const target = (params as { target: PlayTarget }).target;
    return 'legId' in target ? target.legId : undefined;
  }
  return (params as { legId?: string }).legId;
}

/** Requests that name a leg or a room as their `target`: routed to the worker that holds it. */
function hasTarget(type: MediaRequestType): boolean {
  return type === 'play' || type === 'stopPlay' || type === 'startRecording' || type === 'setRecording' || type === 'stopRecording';
}

export class MediaClient extends EventEmitter<MediaClientEvents> {
  private readonly workers: WorkerHandle[];
  private readonly roomWorker = new Map<string, WorkerHandle>();
  private readonly legWorker = new Map<string, WorkerHandle>();
  private readonly addingLegs = new Set<string>();
  private readonly moving = new Map<string, Promise<unknown>>();
  private readonly timeoutMs: number;
  private nextId = 1;
  private exited = false;
  /**
   * The sha-256 fingerprint of the DTLS certificate every worker presents to WebRTC peers (the
   * a=fingerprint of our SDP, RFC 8122): `options.dtlsCertificate`, or one made here before the
   * workers start (rtp/dtls-certificate.ts), so a leg moved between workers keeps it.
   */
  readonly dtlsFingerprint: CertificateFingerprint;

  constructor(options: MediaClientOptions = {}) {
    super();
    const { requestTimeoutMs, workers, ...rest } = options;
    let certificate = rest.dtlsCertificate;
    if (certificate) {
      this.dtlsFingerprint = pemFingerprint(certificate.certPem);
    } else {
      const made = createDtlsCertificate();
      certificate = { certPem: made.certPem, keyPem: made.keyPem };
      this.dtlsFingerprint = made.fingerprint;
    }
    const engineOptions: MediaEngineOptions = { ...rest, dtlsCertificate: certificate };
    this.timeoutMs = requestTimeoutMs ?? 5000;
    const count = Math.max(1, Math.floor(workers ?? os.availableParallelism()));
    this.workers = [];
    for (let i = 0; i < count; i++) {
      const handle: WorkerHandle = new WorkerHandle(i, engineOptions, {
        notify: (n) => this.onNotify(handle, n),
        error: (err) => {
          if (this.listenerCount('error') > 0) this.emit('error', err);
        },
        exit: (code) => this.onExit(code),
      });
      this.workers.push(handle);
    }
  }

  /** The number of media worker threads. */
  get workerCount(): number {
    return this.workers.length;
  }

  /** Sends a request; resolves with its result, rejects on error, timeout or worker exit. */
  request<K extends MediaRequestType>(type: K, params: MediaRequestParams<K>, timeoutMs = this.timeoutMs): Promise<MediaRequestResult<K>> {
    if (this.exited) return Promise.reject(new MediaError('worker-exited', 'media worker is not running'));
    const legId = legOf(type, params);
    const move = legId === undefined ? undefined : this.moving.get(legId);
    const run = (): Promise<MediaRequestResult<K>> => this.route(type, params, timeoutMs) as Promise<MediaRequestResult<K>>;
    return move ? move.then(run, run) : run();
  }

  /** Terminates the workers (their sockets close with them). */
  async close(): Promise<void> {
    if (this.exited) return;
    const err = new MediaError('closed', 'media client closed');
    for (const w of this.workers) w.failAll(err);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.exited = true;
  }

  private async route(type: MediaRequestType, params: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    switch (type) {
      case 'stats':
        return this.stats(timeoutMs);
      case 'createRoom': {
        const { roomId } = params as MediaRequestParams<'createRoom'>;
        if (this.roomWorker.has(roomId)) throw new MediaError('exists', `room ${roomId} exists`);
        const w = this.leastLoaded();
        this.roomWorker.set(roomId, w);
        try {
          return await w.request(id, type, params as MediaRequestParams<'createRoom'>, timeoutMs);
        } catch (err) {
          if (this.roomWorker.get(roomId) === w) this.roomWorker.delete(roomId);
          throw err;
        }
      }
      case 'destroyRoom': {
        const { roomId } = params as MediaRequestParams<'destroyRoom'>;
        const w = this.workerOfRoom(roomId);
        // The worker forgets the room at once too; its legs' legClosed arrive before the reply.
        this.roomWorker.delete(roomId);
        return w.request(id, type, params as MediaRequestParams<'destroyRoom'>, timeoutMs);
      }
      case 'addLeg': {
        const p = params as MediaRequestParams<'addLeg'>;
        const w = this.workerOfRoom(p.roomId);
        if (this.legWorker.has(p.legId) || this.addingLegs.has(p.legId)) throw new MediaError('exists', `leg ${p.legId} exists`);
        this.addingLegs.add(p.legId);
        try {
          const result = await w.request(id, type, p, timeoutMs);
          this.legWorker.set(p.legId, w);
          return result;
        } finally {
          this.addingLegs.delete(p.legId);
        }
      }
      case 'moveLeg': {
        const p = params as MediaRequestParams<'moveLeg'>;
        const from = this.workerOfLeg(p.legId);
        const to = this.workerOfRoom(p.roomId);
        if (from === to) return from.request(id, type, p, timeoutMs);
        const move = this.moveAcross(p.legId, p.roomId, p.flags, from, to, timeoutMs);
        this.moving.set(p.legId, move);
        try {
          return await move;
        } finally {
          if (this.moving.get(p.legId) === move) this.moving.delete(p.legId);
        }
      }
      case 'play':
      case 'stopPlay':
      case 'startRecording':
      case 'setRecording':
      case 'stopRecording': {
        const target = (params as { target: PlayTarget }).target;
        const w = 'legId' in target ? this.workerOfLeg(target.legId) : this.workerOfRoom(target.roomId);
        return w.request(id, type, params as never, timeoutMs);
      }
      default:
        return this.workerOfLeg((params as { legId: string }).legId).request(id, type, params as never, timeoutMs);
    }
  }

  /**
   * A leg into a room of another worker: detach (sockets closed, state out), then attach there
   * on the same ports. Should the attach fail (the room went away, a port was taken in the
   * instant between), the leg goes back into its old room, or, failing that, is reported closed.
   */
  private async moveAcross(legId: string, roomId: string, flags: LegFlagsPatch | undefined, from: WorkerHandle, to: WorkerHandle, timeoutMs: number): Promise<Record<string, never>> {
    // A WebRTC leg in the middle of its DTLS handshake is detached once the handshake is over
    // (engine-rooms.ts detachLeg): its deadline comes on top of the request's own.
    const detached = await from.request(this.nextId++, 'detachLeg', { legId }, timeoutMs + DTLS_HANDSHAKE_TIMEOUT_MS);
    this.legWorker.set(legId, to);
    try {
      await to.request(this.nextId++, 'attachLeg', { roomId, leg: detached.leg, ...(flags ? { flags } : {}) }, timeoutMs);
      return {};
    } catch (err) {
      try {
        await from.request(this.nextId++, 'attachLeg', { roomId: detached.roomId, leg: detached.leg }, timeoutMs);
        this.legWorker.set(legId, from);
      } catch {
        this.legWorker.delete(legId);
        this.emit('legClosed', { kind: 'notify', type: 'legClosed', legId, roomId: detached.roomId, reason: 'removed' });
      }
      throw err;
    }
  }

  private workerOfRoom(roomId: string): WorkerHandle {
    const w = this.roomWorker.get(roomId);
    if (!w) throw new MediaError('no-room', `no room ${roomId}`);
    return w;
  }

  private workerOfLeg(legId: string): WorkerHandle {
    const w = this.legWorker.get(legId);
    if (!w) throw new MediaError('no-leg', `no leg ${legId}`);
    return w;
  }

  /** Fewest legs, then fewest rooms: rooms of a conference fill up after they are created. */
  private leastLoaded(): WorkerHandle {
    const legs = new Array<number>(this.workers.length).fill(0);
    const rooms = new Array<number>(this.workers.length).fill(0);
    for (const w of this.legWorker.values()) legs[w.index]!++;
    for (const w of this.roomWorker.values()) rooms[w.index]!++;
    let best = this.workers[0]!;
    for (const w of this.workers) {
      const d = legs[w.index]! - legs[best.index]! || rooms[w.index]! - rooms[best.index]!;
      if (d < 0) best = w;
    }
    return best;
  }

  /** The workers' stats added up (see EngineStats.workers). */
  private async stats(timeoutMs: number): Promise<EngineStats> {
    const all = await Promise.all(this.workers.map((w) => w.request(this.nextId++, 'stats', {}, timeoutMs)));
    const workers: WorkerStats[] = all.flatMap((s) => s.workers ?? []);
    const ticks = all.reduce((a, s) => a + s.ticks, 0);
    return {
      ticks,
      lateTicks: all.reduce((a, s) => a + s.lateTicks, 0),
      skippedTicks: all.reduce((a, s) => a + s.skippedTicks, 0),
      maxLateMs: Math.max(...all.map((s) => s.maxLateMs)),
      rooms: all.reduce((a, s) => a + s.rooms, 0),
      tickMeanUs: ticks > 0 ? all.reduce((a, s) => a + s.tickMeanUs * s.ticks, 0) / ticks : 0,
      tickMaxUs: Math.max(...all.map((s) => s.tickMaxUs)),
      sharedEncodes: all.reduce((a, s) => a + s.sharedEncodes, 0),
      privateEncodes: all.reduce((a, s) => a + s.privateEncodes, 0),
      legs: all.flatMap((s) => s.legs),
      workers,
    };
  }

  private onNotify(from: WorkerHandle, n: MediaNotification): void {
    switch (n.type) {
      case 'talking':
        this.emit('talking', n);
        break;
      case 'legClosed':
        if (this.legWorker.get(n.legId) === from) this.legWorker.delete(n.legId);
        this.emit('legClosed', n);
        break;
      case 'played':
        this.emit('played', n);
        break;
      case 'dtmf':
        this.emit('dtmf', n);
        break;
      case 'recorded':
        this.emit('recorded', n);
        break;
    }
  }

  /** One worker gone means the media plane is gone: the others are stopped, 'exit' fires once. */
  private onExit(code: number): void {
    if (this.exited) return;
    this.exited = true;
    const err = new MediaError('worker-exited', `media worker exited (${code})`);
    for (const w of this.workers) {
      w.failAll(err);
      void w.terminate();
    }
    this.emit('exit', code);
  }
}
