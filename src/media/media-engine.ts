/**
 * The media engine: rooms (one N-1 Mixer each), legs (RTP endpoints or simulated endpoints),
 * players and recorders, all driven by ONE MediaClock. It runs inside the media worker
 * (worker.ts) and can also be used in-process (tests drive `tick()` by hand).
 *
 * Each tick, for each room (reference/media-plane.md §0, §2.3):
 *   1. room players (e.g. the enter beep) are read into the room overlay;
 *   2. the mixer pops one frame from every leg's input (jitter buffer or generated tone) and
 *      mixes N-1 outputs; hold and wait music are the legs' hold and wait sources;
 *   3. each leg's output gets the room overlay (when it hears the room) and its own players;
 *   4. outputs are encoded and sent. Every listener whose output is the room's shared mix (with
 *      the overlay, if any) reuses ONE encoding per codec — Asterisk's softmix_translate_helper
 *      idea — and only legs with a private output (talkers' N-1, coached legs, per-leg players)
 *      are encoded one by one.
 * RTP legs that receive nothing for their timeout are closed (`legClosed` 'rtp-timeout').
 *
 * A leg belongs to one room at a time but outlives it: `moveLeg` hands its input and hold/wait
 * sources to another room's mixer (a call that played TwiML joins a conference), while its
 * socket, RTP stream, players and recorder stay the leg's own. Sim legs speak a tone or looped
 * PCM (`voice`); RTP legs report RFC 4733 digits as `dtmf` (see rtp/rtp-leg.ts). When rooms
 * are sharded over several workers (media-client.ts), a move into another worker's room is
 * `detachLeg` here and `attachLeg` there: the leg travels as plain data (leg-state.ts) and the
 * destination binds the same ports.
 *
 * Socket I/O is batched per tick where the native module loaded (rtp/udp-batch.ts): every
 * datagram waiting is read before the rooms mix, and every packet they produced leaves after.
 *
 * Steady state allocates nothing per tick: frames, overlays and encode buffers are made when a
 * room, leg or player is created.
 */
import { performance } from 'node:perf_hooks';
import { flagsOf, joinRoom, leaveRoom, legStatsOf, newRoom, tickRoom } from './engine-room.js';
import type { Leg, Room, TickContext } from './engine-room.js';
import { MediaClock } from './media-clock.js';
import { TickTimes, workerStatsOf } from './engine-stats.js';
import type { FrameSource, LegFlags } from './mixer.js';
import { inputFrom, movedLegOf, playerFrom, recorderFrom } from './leg-state.js';
import type { MovedLeg } from './leg-state.js';
import type {
  AddLegParams,
  EngineStats,
  LegFlagsPatch,
  LegStats,
  MediaEngineOptions,
  MediaNotification,
  MediaReply,
  MediaRequest,
  WorkerRequest,
  MediaRequestParams,
  MediaRequestResult,
  MediaRequestType,
  PlayTarget,
  SoundSpec,
  LegClosedReason,
  WorkerStats,
} from './protocol.js';
import { nativeUdp } from './rtp/native-udp.js';
import { RtpLeg } from './rtp/rtp-leg.js';
import type { RtpLegOptions } from './rtp/rtp-leg.js';
import { UdpBatch } from './rtp/udp-batch.js';
import { PcmPlayer, Recorder, ToneVoice, soundPcm } from './sources.js';
import { builtinSounds, encodeWav } from './sounds.js';

export { PcmPlayer } from './sources.js';

const DEFAULT_RTP_TIMEOUT_MS = 30_000;

export type NotifyFn = (n: MediaNotification) => void;

export class MediaEngine {
  private readonly rooms = new Map<string, Room>();
  private readonly roomList: Room[] = [];
  private readonly legs = new Map<string, Leg>();
  private readonly pending = new Set<string>();
  private readonly clock: MediaClock;
  private readonly ctx: TickContext = { finished: [], expired: [], sharedEncodes: 0, privateEncodes: 0 };
  private readonly host: string;
  private readonly rtpTimeoutMs: number;
  private readonly portRange: { min: number; max: number } | undefined;
  private readonly rtcpIntervalMs: number | undefined;
  private readonly workerIndex: number;
  /** This engine's batched sockets; null = node:dgram (no native module, IPv6, or asked for). */
  private readonly udp: UdpBatch | null;
  private tickNo = 0;
  /** Set by the worker when it put its thread under SCHED_FIFO. */
  realtime = false;
  private nextRequestId = 1;
  private readonly tickTimes = new TickTimes();
  private closed = false;

  constructor(private readonly notify: NotifyFn, options: MediaEngineOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.rtpTimeoutMs = options.rtpTimeoutMs ?? DEFAULT_RTP_TIMEOUT_MS;
    this.portRange = options.portRange;
    this.rtcpIntervalMs = options.rtcpIntervalMs;
    this.workerIndex = options.workerIndex ?? 0;
    this.udp = nativeUdp !== null && options.udp !== 'dgram' && !this.host.includes(':') ? new UdpBatch(nativeUdp) : null;
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
    const closing: Promise<void>[] = [];
    for (const leg of this.legs.values()) if (leg.rtp) closing.push(leg.rtp.close());
    this.legs.clear();
    this.rooms.clear();
    this.roomList.length = 0;
    await Promise.all(closing);
    this.udp?.close();
  }

  /**
   * Reads the datagrams waiting on batched sockets now (each tick does this first). For
   * in-process callers that drive `tick()` themselves and need to see arrivals between ticks;
   * with dgram sockets, datagrams arrive on their own and this does nothing.
   */
  readSockets(): void {
    if (this.udp !== null) this.udp.receive();
  }

  /** Whether this engine's sockets use the batched native path (stats, diagnostics). */
  get batchedUdp(): boolean {
    return this.udp !== null;
  }

  /** The RTP endpoint of a leg (tests, diagnostics); null for sim legs or unknown ids. */
  rtpLegOf(legId: string): RtpLeg | null {
    return this.legs.get(legId)?.rtp ?? null;
  }

  /** Handles one request and always resolves with its reply. */
  async handle(req: MediaRequest | WorkerRequest): Promise<MediaReply> {
    try {
      const result = await this.dispatch(req);
      return { kind: 'reply', id: req.id, ok: true, result };
    } catch (err) {
      return { kind: 'reply', id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** In-process convenience: a typed request that throws on error. */
  async request<K extends MediaRequestType>(type: K, params: MediaRequestParams<K>): Promise<MediaRequestResult<K>> {
    const id = this.nextRequestId++;
    const reply = await this.handle({ kind: 'request', id, type, params } as MediaRequest);
    if (!reply.ok) throw new Error(reply.error);
    return reply.result as MediaRequestResult<K>;
  }

  private async dispatch(req: WorkerRequest): Promise<unknown> {
    switch (req.type) {
      case 'createRoom':
        return this.createRoom(req.params.roomId);
      case 'destroyRoom':
        return this.destroyRoom(req.params.roomId);
      case 'addLeg':
        return this.addLeg(req.params);
      case 'setLeg': {
        const { legId, ...patch } = req.params;
        return this.setLeg(legId, patch);
      }
      case 'setRemote': {
        const leg = this.leg(req.params.legId);
        if (!leg.rtp) throw new Error(`leg ${leg.id} is not an RTP leg`);
        if (req.params.codec !== undefined) leg.rtp.setCodec(req.params.codec);
        leg.rtp.setRemote(req.params.address, req.params.port);
        return {};
      }
      case 'play':
        return { playId: this.play(req.id, req.params.target, req.params.sound, req.params.loop ?? false) };
      case 'stopPlay':
        return { stopped: this.stopPlay(req.params.target, req.params.playId) };
      case 'removeLeg':
        await this.closeLeg(this.leg(req.params.legId), 'removed');
        return {};
      case 'moveLeg':
        return this.moveLeg(req.params.legId, req.params.roomId, req.params.flags ?? {});
      case 'setSources': {
        const { legId, hold, wait } = req.params;
        const leg = this.leg(legId);
        // Absent = unchanged, null = silence, a sound = that sound looped from its start.
        leg.room.mixer.setSources(legId, {
          ...(hold !== undefined ? { holdSource: hold === null ? null : new PcmPlayer(0, soundPcm(hold), true) } : {}),
          ...(wait !== undefined ? { waitSource: wait === null ? null : new PcmPlayer(0, soundPcm(wait), true) } : {}),
        });
        return {};
      }
      case 'takeRecording': {
        const leg = this.leg(req.params.legId);
        if (!leg.recorder) throw new Error(`leg ${leg.id} does not record`);
        return { wav: encodeWav(leg.recorder.take()) };
      }
      case 'stats':
        return this.stats();
      case 'detachLeg':
        return this.detachLeg(req.params.legId);
      case 'attachLeg':
        return this.attachLeg(req.params.roomId, req.params.leg, req.params.flags ?? {});
      default: {
        const never: never = req;
        throw new Error(`unknown request ${(never as { type: string }).type}`);
      }
    }
  }

  private room(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId}`);
    return room;
  }

  private leg(legId: string): Leg {
    const leg = this.legs.get(legId);
    if (!leg) throw new Error(`no leg ${legId}`);
    return leg;
  }

  private createRoom(roomId: string): Record<string, never> {
    if (this.rooms.has(roomId)) throw new Error(`room ${roomId} exists`);
    const room = newRoom(roomId, (legId, talking) => this.notify({ kind: 'notify', type: 'talking', legId, talking }));
    this.rooms.set(roomId, room);
    this.roomList.push(room);
    return {};
  }

  private async destroyRoom(roomId: string): Promise<Record<string, never>> {
    const room = this.room(roomId);
    // Gone at once, so nothing is moved or added into it while its legs close (closing awaits);
    // a leg moved out meanwhile is no longer its own and is left alone.
    this.rooms.delete(roomId);
    this.roomList.splice(this.roomList.indexOf(room), 1);
    for (const leg of [...room.legs.values()]) if (leg.room === room) await this.closeLeg(leg, 'room-destroyed');
    for (const p of room.players) this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
    room.players.length = 0;
    return {};
  }

  private async addLeg(p: AddLegParams): Promise<MediaRequestResult<'addLeg'>> {
    const room = this.room(p.roomId);
    if (this.legs.has(p.legId) || this.pending.has(p.legId)) throw new Error(`leg ${p.legId} exists`);
    const sounds = builtinSounds();
    const flags: Partial<LegFlags> = flagsOf(p.flags ?? {});
    let rtp: RtpLeg | null = null;
    let recorder: Recorder | null = null;
    let input: FrameSource | null = null;
    let timeoutMs = 0;
    if (p.kind === 'rtp') {
      const range = p.portRange ?? this.portRange;
      rtp = await this.openRtp(p.legId, room, {
        codec: p.codec,
        host: this.host,
        ...(range ? { portRange: range } : {}),
        ...(p.remote ? { remote: p.remote } : {}),
        telephoneEventPayloadType: p.telephoneEventPayloadType ?? null,
        ...(this.rtcpIntervalMs !== undefined ? { rtcpIntervalMs: this.rtcpIntervalMs } : {}),
      });
      input = rtp;
      timeoutMs = p.rtpTimeoutMs ?? this.rtpTimeoutMs;
    } else {
      if (p.voice) input = new PcmPlayer(0, p.voice, true);
      else if (p.tone) input = new ToneVoice(p.tone);
      if (p.record) recorder = new Recorder();
    }
    const leg = joinRoom(
      room,
      { id: p.legId, kind: p.kind, rtp, recorder, players: [], timeoutMs, packetsOut: 0 },
      { input, holdSource: new PcmPlayer(0, sounds['hold-music'], true), waitSource: new PcmPlayer(0, sounds['wait-music'], true) },
      flags,
    );
    this.legs.set(leg.id, leg);
    return rtp ? { localAddress: rtp.localAddress, localPort: rtp.localPort } : { localAddress: null, localPort: null };
  }

  private setLeg(legId: string, patch: LegFlagsPatch): Record<string, never> {
    const leg = this.leg(legId);
    leg.room.mixer.setFlags(legId, flagsOf(patch));
    return {};
  }

  /**
   * Takes the leg out of its room's mixer (a talking leg gets `talking false` there) and puts its
   * same input and hold/wait sources into the new room's, so the socket, SSRC, sequence numbers,
   * jitter buffer, players and recorder carry on untouched; only the flags start afresh.
   */
  private moveLeg(legId: string, roomId: string, patch: LegFlagsPatch): Record<string, never> {
    const leg = this.leg(legId);
    const to = this.room(roomId);
    const { input, holdSource, waitSource } = leg.mix;
    leaveRoom(leg);
    leg.room = to;
    leg.mix = to.mixer.addLeg(legId, { input, holdSource, waitSource }, flagsOf(patch));
    to.legs.set(legId, leg);
    to.legList.push(leg);
    return {};
  }

  private play(id: number, target: PlayTarget, sound: SoundSpec, loop: boolean): number {
    const player = new PcmPlayer(id, soundPcm(sound), loop);
    this.playersOf(target).push(player);
    return id;
  }

  private stopPlay(target: PlayTarget, playId: number | undefined): number {
    const players = this.playersOf(target);
    let stopped = 0;
    for (let i = players.length - 1; i >= 0; i--) {
      const p = players[i]!;
      if (playId === undefined || p.id === playId) {
        players.splice(i, 1);
        stopped++;
        this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
      }
    }
    return stopped;
  }

  private playersOf(target: PlayTarget): PcmPlayer[] {
    return 'legId' in target ? this.leg(target.legId).players : this.room(target.roomId).players;
  }

  private async closeLeg(leg: Leg, reason: LegClosedReason): Promise<void> {
    if (this.legs.get(leg.id) !== leg) return;
    this.legs.delete(leg.id);
    leaveRoom(leg);
    for (const p of leg.players) this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
    leg.players.length = 0;
    this.notify({ kind: 'notify', type: 'legClosed', legId: leg.id, roomId: leg.room.id, reason });
    if (leg.rtp) await leg.rtp.close();
  }

  private stats(): EngineStats {
    const w = this.workerStats();
    const { ticks, lateTicks, skippedTicks, maxLateMs, rooms, tickMeanUs, tickMaxUs } = w;
    const legs: LegStats[] = [];
    for (const leg of this.legs.values()) legs.push(legStatsOf(leg));
    const { sharedEncodes, privateEncodes } = this.ctx;
    return { ticks, lateTicks, skippedTicks, maxLateMs, rooms, tickMeanUs, tickMaxUs, sharedEncodes, privateEncodes, legs, workers: [w] };
  }

  private workerStats(): WorkerStats {
    return workerStatsOf({
      worker: this.workerIndex,
      ticks: this.tickNo,
      clock: this.clock.stats,
      times: this.tickTimes,
      rooms: this.rooms.size,
      legs: this.legs.size,
      udp: this.udp !== null ? 'native' : 'dgram',
      realtime: this.realtime,
    });
  }

  /**
   * Takes a leg out of this worker for a room in another: out of its room (a talking leg gets
   * `talking false`, as on any move), its state captured, its sockets closed so the other
   * worker can bind the same ports. No `legClosed`: the leg lives on.
   */
  private async detachLeg(legId: string): Promise<{ roomId: string; leg: MovedLeg }> {
    const leg = this.leg(legId);
    this.legs.delete(legId);
    leaveRoom(leg);
    const moved = movedLegOf(leg);
    leg.players.length = 0;
    if (leg.rtp) await leg.rtp.close();
    return { roomId: leg.room.id, leg: moved };
  }

  /** The other half of a cross-worker move: the same ports, stream, players and recorder. */
  private async attachLeg(roomId: string, m: MovedLeg, patch: LegFlagsPatch): Promise<Record<string, never>> {
    const room = this.room(roomId);
    if (this.legs.has(m.legId) || this.pending.has(m.legId)) throw new Error(`leg ${m.legId} exists`);
    const rtp = m.rtp ? await this.openRtp(m.legId, room, { restore: m.rtp }) : null;
    const leg = joinRoom(
      room,
      { id: m.legId, kind: m.kind, rtp, recorder: recorderFrom(m.recorded), players: m.players.map(playerFrom), timeoutMs: m.timeoutMs, packetsOut: m.packetsOut },
      { input: rtp ?? inputFrom(m.input), holdSource: m.hold ? playerFrom(m.hold) : null, waitSource: m.wait ? playerFrom(m.wait) : null },
      flagsOf(patch),
    );
    this.legs.set(leg.id, leg);
    return {};
  }

  /**
   * Binds an RTP leg's sockets (which awaits), then checks that the engine and the room are
   * still there: a room destroyed meanwhile gets no leg, and its sockets are closed again.
   */
  private async openRtp(legId: string, room: Room, options: RtpLegOptions): Promise<RtpLeg> {
    this.pending.add(legId);
    let rtp: RtpLeg;
    try {
      rtp = await RtpLeg.open(this.udp !== null ? { ...options, openSocket: this.udp.open } : options);
    } finally {
      this.pending.delete(legId);
    }
    if (this.closed || this.rooms.get(room.id) !== room) {
      await rtp.close();
      throw new Error(this.closed ? 'engine closed' : `room ${room.id} was destroyed`);
    }
    rtp.onDtmf = (digit) => this.notify({ kind: 'notify', type: 'dtmf', legId, digit });
    return rtp;
  }

  /** One 20 ms step for every room. Public so in-process tests can drive time. */
  tick(): void {
    const t0 = performance.now();
    const tick = ++this.tickNo;
    const udp = this.udp;
    if (udp !== null) udp.receive();
    const rooms = this.roomList;
    for (let r = 0; r < rooms.length; r++) tickRoom(rooms[r]!, tick, t0, this.ctx);
    if (udp !== null) udp.flush();

    // Deferred work: finished players and timed-out legs (not removed mid-iteration).
    const { finished, expired } = this.ctx;
    for (let i = 0; i < finished.length; i++) this.notify({ kind: 'notify', type: 'played', id: finished[i]!.id, stopped: false });
    finished.length = 0;
    for (let i = 0; i < expired.length; i++) void this.closeLeg(expired[i]!, 'rtp-timeout');
    expired.length = 0;

    this.tickTimes.add((performance.now() - t0) * 1000);
  }
}
