/**
 * The media engine: rooms (one N-1 Mixer each), legs (RTP endpoints or simulated endpoints),
 * players and recorders, all driven by ONE MediaClock. It runs inside the media worker
 * (worker.ts) and can also be used in-process (tests drive `tick()` by hand).
 *
 * Each tick, for each room (reference/media-plane.md §0, §2.3):
 *   1. room players (e.g. the enter beep) are read into the room overlay;
 *   2. the mixer pops one frame from every leg's input (jitter buffer or generated tone) and
 *      mixes N-1 outputs; hold and wait music are the legs' hold and wait sources;
 *   3. each leg's output gets the room overlay (when it hears the room), its own players and
 *      the in-band tones of digits it sends (keypad.ts); an RTP leg sending digits as RFC 4733
 *      events sends those instead of its audio;
 *   4. recording taps (recording-tap.ts) copy the room's mix and their legs' input and output
 *      into batches; a full batch is posted to the main thread (copied by postMessage);
 *   5. outputs are encoded and sent. Every listener whose output is the room's shared mix (with
 *      the overlay, if any) reuses ONE encoding per codec — Asterisk's softmix_translate_helper
 *      idea — and only legs with a private output (talkers' N-1, coached legs, per-leg players)
 *      are encoded one by one.
 * RTP legs that receive nothing for their timeout are closed (`legClosed` 'rtp-timeout').
 *
 * A leg belongs to one room at a time but outlives it: `moveLeg` hands its input and hold/wait
 * sources to another room's mixer (a call that played TwiML joins a conference), while its
 * socket, RTP stream, players and recorder stay the leg's own. Sim legs speak a tone or looped
 * PCM (`voice`) and can press keys (`pressKeys`); RTP legs report digits as `dtmf`, from RFC 4733
 * events or, without them, detected in the audio (see rtp/rtp-leg.ts). When rooms
 * are sharded over several workers (media-client.ts), a move into another worker's room is
 * `detachLeg` here and `attachLeg` there: the leg travels as plain data (leg-state.ts) and the
 * destination binds the same ports.
 *
 * This file is the request protocol, the clock and the tick; the rooms and legs and what
 * changes them live in engine-rooms.ts, a room's step in engine-room.ts.
 *
 * Socket I/O is batched per tick where the native module loaded (rtp/udp-batch.ts): every
 * datagram waiting is read before the rooms mix, and every packet they produced leaves after.
 *
 * Steady state allocates nothing per tick: frames, overlays and encode buffers are made when a
 * room, leg or player is created.
 */
import { performance } from 'node:perf_hooks';
import { legStatsOf, tickRoom } from './engine-room.js';
import type { TickContext } from './engine-room.js';
import { EngineRooms } from './engine-rooms.js';
import { TickTimes, workerStatsOf } from './engine-stats.js';
import { MediaClock } from './media-clock.js';
import type {
  EngineStats,
  LegStats,
  MediaEngineOptions,
  MediaNotification,
  MediaReply,
  MediaRequest,
  MediaRequestParams,
  MediaRequestResult,
  MediaRequestType,
  WorkerRequest,
  WorkerStats,
} from './protocol.js';
import type { RtpLeg } from './rtp/rtp-leg.js';
import { MediaError } from './media-error.js';

export { PcmPlayer } from './sources.js';

export type NotifyFn = (n: MediaNotification) => void;

export class MediaEngine {
  private readonly state: EngineRooms;
  private readonly clock: MediaClock;
  private readonly ctx: TickContext = { finished: [], expired: [], keysDone: [], pressed: [], sharedEncodes: 0, privateEncodes: 0 };
  private readonly workerIndex: number;
  private tickNo = 0;
  /** Set by the worker when it put its thread under SCHED_FIFO. */
  realtime = false;
  private nextRequestId = 1;
  private readonly tickTimes = new TickTimes();
  private closed = false;

  constructor(private readonly notify: NotifyFn, options: MediaEngineOptions = {}) {
    this.workerIndex = options.workerIndex ?? 0;
    this.state = new EngineRooms(notify, options);
    this.clock = new MediaClock(() => this.tick(), { intervalMs: options.intervalMs ?? 20 });
  }

  /** Starts the 20 ms clock (the worker does; in-process tests may call `tick()` instead). */
  start(): void {
    if (!this.closed) this.clock.start();
  }

  stop(): void {
    this.clock.stop();
  }

  /** Stops the clock and closes every leg (no notifications). */
  async close(): Promise<void> {
    this.closed = true;
    this.clock.stop();
    await this.state.closeAll();
  }

  /**
   * Reads the datagrams waiting on batched sockets now (each tick does this first). For
   * in-process callers that drive `tick()` themselves and need to see arrivals between ticks;
   * with dgram sockets, datagrams arrive on their own and this does nothing.
   */
  readSockets(): void {
    this.state.udp?.receive();
  }

  /** Whether this engine's sockets use the batched native path (stats, diagnostics). */
  get batchedUdp(): boolean {
    return this.state.udp !== null;
  }

  /** The RTP endpoint of a leg (tests, diagnostics); null for sim legs or unknown ids. */
  rtpLegOf(legId: string): RtpLeg | null {
    return this.state.legs.get(legId)?.rtp ?? null;
  }

  /** Handles one request and always resolves with its reply. */
  async handle(req: MediaRequest | WorkerRequest): Promise<MediaReply> {
    try {
      const result = await this.dispatch(req);
      return { kind: 'reply', id: req.id, ok: true, result };
    } catch (err) {
      const error = MediaError.from(err);
      return { kind: 'reply', id: req.id, ok: false, error: error.message, code: error.code };
    }
  }

  /** In-process convenience: a typed request that throws on error. */
  async request<K extends MediaRequestType>(type: K, params: MediaRequestParams<K>): Promise<MediaRequestResult<K>> {
    const id = this.nextRequestId++;
    const reply = await this.handle({ kind: 'request', id, type, params } as MediaRequest);
    if (!reply.ok) throw MediaError.fromReply(reply.code, reply.error);
    return reply.result as MediaRequestResult<K>;
  }

  private dispatch(req: WorkerRequest): unknown {
    const st = this.state;
    switch (req.type) {
      case 'createRoom':
        return st.createRoom(req.params.roomId);
      case 'destroyRoom':
        return st.destroyRoom(req.params.roomId);
      case 'addLeg':
        return st.addLeg(req.params);
      case 'setLeg': {
        const { legId, ...patch } = req.params;
        return st.setLeg(legId, patch);
      }
      case 'setRemote':
        return st.setRemote(req.params);
      case 'startRtpTimeout':
        return st.startRtpTimeout(req.params.legId);
      case 'play':
        return { playId: st.play(req.id, req.params.target, req.params.sound, req.params.loop ?? false) };
      case 'sendDigits':
        return { playId: st.sendDigits(req.id, req.params.legId, req.params.digits) };
      case 'pressKeys':
        return { playId: st.pressKeys(req.id, req.params.legId, req.params.digits) };
      case 'stopPlay':
        return { stopped: st.stopPlay(req.params.target, req.params.playId) };
      case 'removeLeg':
        return st.removeLeg(req.params.legId);
      case 'moveLeg':
        return st.moveLeg(req.params.legId, req.params.roomId, req.params.flags ?? {});
      case 'setSources':
        return st.setSources(req.params);
      case 'takeRecording':
        return st.takeRecording(req.params.legId);
      case 'startRecording':
        return st.startRecording(req.params);
      case 'setRecording':
        return st.setRecording(req.params);
      case 'stopRecording':
        return st.stopRecording(req.params);
      case 'stats':
        return this.stats();
      case 'detachLeg':
        return st.detachLeg(req.params.legId);
      case 'attachLeg':
        return st.attachLeg(req.params.roomId, req.params.leg, req.params.flags ?? {});
      default: {
        const never: never = req;
        throw new MediaError('invalid', `unknown request ${(never as { type: string }).type}`);
      }
    }
  }

  private stats(): EngineStats {
    const w = this.workerStats();
    const { ticks, lateTicks, skippedTicks, maxLateMs, rooms, tickMeanUs, tickMaxUs } = w;
    const legs: LegStats[] = [];
    for (const leg of this.state.legs.values()) legs.push(legStatsOf(leg));
    const { sharedEncodes, privateEncodes } = this.ctx;
    return { ticks, lateTicks, skippedTicks, maxLateMs, rooms, tickMeanUs, tickMaxUs, sharedEncodes, privateEncodes, legs, workers: [w] };
  }

  private workerStats(): WorkerStats {
    return workerStatsOf({
      worker: this.workerIndex,
      ticks: this.tickNo,
      clock: this.clock.stats,
      times: this.tickTimes,
      rooms: this.state.rooms.size,
      legs: this.state.legs.size,
      udp: this.state.udp !== null ? 'native' : 'dgram',
      realtime: this.realtime,
      closedLegPackets: this.state.closedLegPackets,
    });
  }

  /** One 20 ms step for every room. Public so in-process tests can drive time. */
  tick(): void {
    const t0 = performance.now();
    const tick = ++this.tickNo;
    const udp = this.state.udp;
    if (udp !== null) udp.receive();
    const rooms = this.state.roomList;
    for (let r = 0; r < rooms.length; r++) tickRoom(rooms[r]!, tick, t0, this.ctx);
    if (udp !== null) udp.flush();

    // Deferred work: finished players and keypad jobs, simulated keys, and timed-out legs (not
    // removed mid-iteration).
    const { finished, expired, keysDone, pressed } = this.ctx;
    for (let i = 0; i < finished.length; i++) this.notify({ kind: 'notify', type: 'played', id: finished[i]!.id, stopped: false });
    finished.length = 0;
    for (let i = 0; i + 1 < pressed.length; i += 2) this.notify({ kind: 'notify', type: 'dtmf', legId: pressed[i]!, digit: pressed[i + 1]! });
    pressed.length = 0;
    for (let i = 0; i < keysDone.length; i++) this.notify({ kind: 'notify', type: 'played', id: keysDone[i]!, stopped: false });
    keysDone.length = 0;
    for (let i = 0; i < expired.length; i++) void this.state.closeLeg(expired[i]!, 'rtp-timeout');
    expired.length = 0;

    this.tickTimes.add((performance.now() - t0) * 1000);
  }
}
