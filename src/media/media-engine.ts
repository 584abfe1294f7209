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
 * Steady state allocates nothing per tick: frames, overlays and encode buffers are made when a
 * room, leg or player is created.
 */
import { performance } from 'node:perf_hooks';
import { ALAW_ENCODE, MULAW_ENCODE } from './codec/g711.js';
import { MediaClock } from './media-clock.js';
import { Mixer } from './mixer.js';
import type { FrameSource, LegFlags, MixerLeg } from './mixer.js';
import type {
  AddLegParams,
  EngineStats,
  LegFlagsPatch,
  LegStats,
  MediaEngineOptions,
  MediaNotification,
  MediaReply,
  MediaRequest,
  MediaRequestParams,
  MediaRequestResult,
  MediaRequestType,
  PlayTarget,
  SoundSpec,
  ToneSpec,
  LegClosedReason,
} from './protocol.js';
import { RtpLeg } from './rtp/rtp-leg.js';
import { builtinSounds, encodeWav } from './sounds.js';

const FRAME = 160;
const DEFAULT_RTP_TIMEOUT_MS = 30_000;

/** Plays PCM (once or looped) one frame per pop; null once finished. */
export class PcmPlayer implements FrameSource {
  done = false;
  private pos = 0;
  private readonly frame = new Int16Array(FRAME);

  constructor(readonly id: number, private readonly pcm: Int16Array, private readonly loop: boolean) {
    if (pcm.length === 0) this.done = true;
  }

  pop(): Int16Array | null {
    if (this.done) return null;
    const pcm = this.pcm;
    const len = pcm.length;
    const out = this.frame;
    for (let i = 0; i < FRAME; i++) {
      if (this.pos >= len) {
        if (this.loop) this.pos = 0;
        else {
          out.fill(0, i);
          this.done = true;
          break;
        }
      }
      out[i] = pcm[this.pos++]!;
    }
    if (!this.loop && this.pos >= len) this.done = true;
    return out;
  }
}

/** A continuous sine: the voice of a simulated endpoint. */
class ToneVoice implements FrameSource {
  private readonly frame = new Int16Array(FRAME);
  private phase = 0;
  private readonly step: number;
  constructor(private readonly spec: ToneSpec) {
    this.step = (2 * Math.PI * spec.frequencyHz) / 8000;
  }
  pop(): Int16Array {
    const a = Math.max(0, Math.min(32767, this.spec.amplitude));
    for (let i = 0; i < FRAME; i++) {
      this.frame[i] = Math.round(a * Math.sin(this.phase));
      this.phase += this.step;
    }
    if (this.phase > 2 * Math.PI * 1e6) this.phase %= 2 * Math.PI;
    return this.frame;
  }
}

/** Records what a simulated endpoint hears; grows by doubling (amortised, not per tick). */
class Recorder {
  private buf = new Int16Array(8000 * 8);
  private length = 0;
  append(frame: Int16Array | null): void {
    if (this.length + FRAME > this.buf.length) {
      const bigger = new Int16Array(this.buf.length * 2);
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    if (frame === null) this.buf.fill(0, this.length, this.length + FRAME);
    else this.buf.set(frame, this.length);
    this.length += FRAME;
  }
  take(): Int16Array {
    const pcm = this.buf.slice(0, this.length);
    this.length = 0;
    return pcm;
  }
}

interface Leg {
  readonly id: string;
  readonly room: Room;
  readonly kind: 'rtp' | 'sim';
  readonly rtp: RtpLeg | null;
  readonly recorder: Recorder | null;
  readonly mix: MixerLeg;
  readonly players: PcmPlayer[];
  /** Private output scratch (overlay and players added). */
  readonly out: Int16Array;
  readonly timeoutMs: number;
  lastRx: number;
  lastRxAt: number;
  packetsOut: number;
}

interface Room {
  readonly id: string;
  readonly mixer: Mixer;
  readonly legs: Map<string, Leg>;
  /** The same legs as an array, iterated per tick without an iterator object. */
  readonly legList: Leg[];
  readonly players: PcmPlayer[];
  readonly overlay: Int16Array;
  readonly overlayAcc: Int32Array;
  overlayActive: boolean;
  /** The shared mix with the overlay added, computed at most once per tick. */
  readonly sharedOverlay: Int16Array;
  sharedOverlayTick: number;
  /** The shared output encoded, per codec, with the tick it was encoded at. */
  readonly encMulaw: Uint8Array;
  readonly encAlaw: Uint8Array;
  encMulawTick: number;
  encAlawTick: number;
}

export type NotifyFn = (n: MediaNotification) => void;

export class MediaEngine {
  private readonly rooms = new Map<string, Room>();
  private readonly roomList: Room[] = [];
  private readonly legs = new Map<string, Leg>();
  private readonly pending = new Set<string>();
  private readonly clock: MediaClock;
  private readonly expired: Leg[] = [];
  private readonly finished: PcmPlayer[] = [];
  private readonly host: string;
  private readonly rtpTimeoutMs: number;
  private readonly portRange: { min: number; max: number } | undefined;
  private tickNo = 0;
  private nextRequestId = 1;
  private tickTotalUs = 0;
  private tickMaxUs = 0;
  private ticksMeasured = 0;
  private sharedEncodes = 0;
  private privateEncodes = 0;
  private closed = false;

  constructor(private readonly notify: NotifyFn, options: MediaEngineOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.rtpTimeoutMs = options.rtpTimeoutMs ?? DEFAULT_RTP_TIMEOUT_MS;
    this.portRange = options.portRange;
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
  }

  /** The RTP endpoint of a leg (tests, diagnostics); null for sim legs or unknown ids. */
  rtpLegOf(legId: string): RtpLeg | null {
    return this.legs.get(legId)?.rtp ?? null;
  }

  /** Handles one request and always resolves with its reply. */
  async handle(req: MediaRequest): Promise<MediaReply> {
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

  private async dispatch(req: MediaRequest): Promise<unknown> {
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
      case 'takeRecording': {
        const leg = this.leg(req.params.legId);
        if (!leg.recorder) throw new Error(`leg ${leg.id} does not record`);
        return { wav: encodeWav(leg.recorder.take()) };
      }
      case 'stats':
        return this.stats();
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
    const mixer = new Mixer({ onTalking: (legId, talking) => this.notify({ kind: 'notify', type: 'talking', legId, talking }) });
    const room: Room = {
      id: roomId,
      mixer,
      legs: new Map(),
      legList: [],
      players: [],
      overlay: new Int16Array(FRAME),
      overlayAcc: new Int32Array(FRAME),
      overlayActive: false,
      sharedOverlay: new Int16Array(FRAME),
      sharedOverlayTick: -1,
      encMulaw: new Uint8Array(FRAME),
      encAlaw: new Uint8Array(FRAME),
      encMulawTick: -1,
      encAlawTick: -1,
    };
    this.rooms.set(roomId, room);
    this.roomList.push(room);
    return {};
  }

  private async destroyRoom(roomId: string): Promise<Record<string, never>> {
    const room = this.room(roomId);
    for (const leg of [...room.legs.values()]) await this.closeLeg(leg, 'room-destroyed');
    for (const p of room.players) this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
    room.players.length = 0;
    this.rooms.delete(roomId);
    this.roomList.splice(this.roomList.indexOf(room), 1);
    return {};
  }

  private async addLeg(p: AddLegParams): Promise<MediaRequestResult<'addLeg'>> {
    const room = this.room(p.roomId);
    if (this.legs.has(p.legId) || this.pending.has(p.legId)) throw new Error(`leg ${p.legId} exists`);
    const sounds = builtinSounds();
    const flags: Partial<LegFlags> = toFlags(p.flags ?? {});
    let rtp: RtpLeg | null = null;
    let recorder: Recorder | null = null;
    let input: FrameSource | null = null;
    let timeoutMs = 0;
    if (p.kind === 'rtp') {
      this.pending.add(p.legId);
      try {
        const range = p.portRange ?? this.portRange;
        rtp = await RtpLeg.open({ codec: p.codec, host: this.host, ...(range ? { portRange: range } : {}), ...(p.remote ? { remote: p.remote } : {}) });
      } finally {
        this.pending.delete(p.legId);
      }
      if (this.closed || this.rooms.get(p.roomId) !== room) {
        await rtp.close();
        throw new Error(this.closed ? 'engine closed' : `room ${p.roomId} was destroyed`);
      }
      input = rtp;
      timeoutMs = p.rtpTimeoutMs ?? this.rtpTimeoutMs;
    } else {
      if (p.tone) input = new ToneVoice(p.tone);
      if (p.record) recorder = new Recorder();
    }
    const mix = room.mixer.addLeg(
      p.legId,
      {
        input,
        holdSource: new PcmPlayer(0, sounds['hold-music'], true),
        waitSource: new PcmPlayer(0, sounds['wait-music'], true),
      },
      flags,
    );
    const leg: Leg = {
      id: p.legId,
      room,
      kind: p.kind,
      rtp,
      recorder,
      mix,
      players: [],
      out: new Int16Array(FRAME),
      timeoutMs,
      lastRx: 0,
      lastRxAt: performance.now(),
      packetsOut: 0,
    };
    room.legs.set(leg.id, leg);
    room.legList.push(leg);
    this.legs.set(leg.id, leg);
    return rtp ? { localAddress: rtp.localAddress, localPort: rtp.localPort } : { localAddress: null, localPort: null };
  }

  private setLeg(legId: string, patch: LegFlagsPatch): Record<string, never> {
    const leg = this.leg(legId);
    leg.room.mixer.setFlags(legId, toFlags(patch));
    return {};
  }

  private play(id: number, target: PlayTarget, sound: SoundSpec, loop: boolean): number {
    const pcm = typeof sound === 'string' ? builtinSounds()[sound] : sound.pcm;
    if (!(pcm instanceof Int16Array)) throw new Error('unknown sound');
    const player = new PcmPlayer(id, pcm, loop);
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
    leg.room.legs.delete(leg.id);
    leg.room.legList.splice(leg.room.legList.indexOf(leg), 1);
    leg.room.mixer.removeLeg(leg.id);
    for (const p of leg.players) this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
    leg.players.length = 0;
    this.notify({ kind: 'notify', type: 'legClosed', legId: leg.id, roomId: leg.room.id, reason });
    if (leg.rtp) await leg.rtp.close();
  }

  private stats(): EngineStats {
    const legs: LegStats[] = [];
    for (const leg of this.legs.values()) {
      legs.push({
        legId: leg.id,
        roomId: leg.room.id,
        kind: leg.kind,
        packetsIn: leg.rtp ? leg.rtp.stats.packetsReceived : 0,
        packetsOut: leg.rtp ? leg.rtp.stats.packetsSent : leg.packetsOut,
        packetsLost: leg.rtp ? leg.rtp.jitterBuffer.stats.lost : 0,
        talking: leg.mix.talking,
      });
    }
    const c = this.clock.stats;
    return {
      ticks: this.tickNo,
      lateTicks: c.late,
      skippedTicks: c.skipped,
      maxLateMs: c.maxLateMs,
      rooms: this.rooms.size,
      tickMeanUs: this.ticksMeasured > 0 ? this.tickTotalUs / this.ticksMeasured : 0,
      tickMaxUs: this.tickMaxUs,
      sharedEncodes: this.sharedEncodes,
      privateEncodes: this.privateEncodes,
      legs,
    };
  }

  /** One 20 ms step for every room. Public so in-process tests can drive time. */
  tick(): void {
    const t0 = performance.now();
    const tick = ++this.tickNo;
    const rooms = this.roomList;
    for (let r = 0; r < rooms.length; r++) this.tickRoom(rooms[r]!, tick, t0);

    // Deferred work: finished players and timed-out legs (not removed mid-iteration).
    for (let i = 0; i < this.finished.length; i++) {
      this.notify({ kind: 'notify', type: 'played', id: this.finished[i]!.id, stopped: false });
    }
    this.finished.length = 0;
    for (let i = 0; i < this.expired.length; i++) void this.closeLeg(this.expired[i]!, 'rtp-timeout');
    this.expired.length = 0;

    const us = (performance.now() - t0) * 1000;
    this.tickTotalUs += us;
    this.ticksMeasured++;
    if (us > this.tickMaxUs) this.tickMaxUs = us;
  }

  private tickRoom(room: Room, tick: number, now: number): void {
    // 1. Room overlay.
    room.overlayActive = mixPlayers(room.players, room.overlayAcc, room.overlay, this.finished);

    // 2. Mix.
    room.mixer.tick();

    // 3–4. Per-leg output and send.
    const legs = room.legList;
    for (let l = 0; l < legs.length; l++) {
      const leg = legs[l]!;
      const mix = leg.mix;
      const f = mix.flags;
      let out: Int16Array | null = mix.output;
      let shared = mix.outputShared;
      if (room.overlayActive && !f.hold && !f.waiting && f.canHear) {
        if (shared || out === null) {
          if (room.sharedOverlayTick !== tick) {
            // No contributor → silence + overlay; otherwise the shared mix + overlay.
            addClamped(out, room.overlay, room.sharedOverlay);
            room.sharedOverlayTick = tick;
          }
          out = room.sharedOverlay;
          shared = true;
        } else {
          addClamped(out, room.overlay, leg.out);
          out = leg.out;
        }
      }
      if (leg.players.length > 0) {
        const start = out;
        if (mixPlayersOnto(leg.players, start, leg.out, this.finished)) {
          out = leg.out;
          shared = false;
        }
      }

      if (leg.rtp !== null) {
        const rtp = leg.rtp;
        if (out === null) {
          rtp.send(null);
        } else if (shared) {
          rtp.sendPayload(this.encodeShared(room, out, rtp.codec === 'PCMU', tick));
        } else {
          rtp.send(out);
          this.privateEncodes++;
        }
        // Inactivity: no accepted packet for timeoutMs (not counted while on hold).
        const rx = rtp.stats.packetsReceived;
        if (rx !== leg.lastRx || f.hold) {
          leg.lastRx = rx;
          leg.lastRxAt = now;
        } else if (leg.timeoutMs > 0 && now - leg.lastRxAt > leg.timeoutMs) {
          this.expired.push(leg);
        }
      } else {
        leg.packetsOut++;
        if (leg.recorder !== null) leg.recorder.append(out);
      }
    }
  }

  private encodeShared(room: Room, frame: Int16Array, mulaw: boolean, tick: number): Uint8Array {
    const enc = mulaw ? room.encMulaw : room.encAlaw;
    if ((mulaw ? room.encMulawTick : room.encAlawTick) !== tick) {
      const table = mulaw ? MULAW_ENCODE : ALAW_ENCODE;
      for (let i = 0; i < FRAME; i++) enc[i] = table[frame[i]! & 0xffff]!;
      if (mulaw) room.encMulawTick = tick;
      else room.encAlawTick = tick;
      this.sharedEncodes++;
    }
    return enc;
  }
}

function toFlags(patch: LegFlagsPatch): Partial<LegFlags> {
  const flags: Partial<LegFlags> = {};
  if (patch.muted !== undefined) flags.muted = patch.muted;
  if (patch.hold !== undefined) flags.hold = patch.hold;
  if (patch.canHear !== undefined) flags.canHear = patch.canHear;
  if (patch.coachOf !== undefined) flags.coachOf = patch.coachOf;
  if (patch.waiting !== undefined) flags.waiting = patch.waiting;
  return flags;
}

/** Sums the players' next frames into `out`; finished ones move to `finished`. */
function mixPlayers(players: PcmPlayer[], acc: Int32Array, out: Int16Array, finished: PcmPlayer[]): boolean {
  if (players.length === 0) return false;
  acc.fill(0);
  let any = false;
  for (let p = 0; p < players.length; p++) {
    const frame = players[p]!.pop();
    if (frame === null) continue;
    any = true;
    for (let i = 0; i < FRAME; i++) acc[i] = acc[i]! + frame[i]!;
  }
  removeDone(players, finished);
  if (any) {
    for (let i = 0; i < FRAME; i++) {
      const v = acc[i]!;
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
  }
  return any;
}

/** Adds the players' next frames onto `base` (null = silence) into `out`. */
function mixPlayersOnto(players: PcmPlayer[], base: Int16Array | null, out: Int16Array, finished: PcmPlayer[]): boolean {
  let any = false;
  for (let p = 0; p < players.length; p++) {
    const frame = players[p]!.pop();
    if (frame === null) continue;
    const src = any ? out : base;
    addClamped(src, frame, out);
    any = true;
  }
  removeDone(players, finished);
  return any;
}

function removeDone(players: PcmPlayer[], finished: PcmPlayer[]): void {
  for (let p = players.length - 1; p >= 0; p--) {
    if (players[p]!.done) {
      finished.push(players[p]!);
      players.splice(p, 1);
    }
  }
}

/** out = clamp(a + b); a null = silence. `out` may be `a`. */
function addClamped(a: Int16Array | null, b: Int16Array, out: Int16Array): void {
  if (a === null) {
    out.set(b);
    return;
  }
  for (let i = 0; i < FRAME; i++) {
    const v = a[i]! + b[i]!;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}
