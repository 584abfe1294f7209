/**
 * A room's and a leg's state inside the media engine, and one room's 20 ms step: room players
 * into the overlay, the mixer, each leg's output with overlay, players and keypad tones, then
 * encode and send, or an RFC 4733 event in the audio's place (the steps are listed in
 * media-engine.ts). Split from the engine so request handling and the per-tick hot path can be
 * read apart; nothing here allocates per tick.
 */
import { performance } from 'node:perf_hooks';
import { ALAW_ENCODE, MULAW_ENCODE } from './codec/g711.js';
import { OpusFrameEncoder } from './codec/opus.js';
import { Mixer } from './mixer.js';
import type { LegFlags, LegSources, MixerLeg } from './mixer.js';
import type { LegFlagsPatch, LegStats } from './protocol.js';
import type { RtpLeg } from './rtp/rtp-leg.js';
import { FRAME, addClamped, mixPlayers, mixPlayersOnto } from './sources.js';
import type { PcmPlayer, Recorder } from './sources.js';
import { DIGITS } from './keypad.js';
import type { KeypadJob } from './keypad.js';
import type { RecordingTap } from './recording-tap.js';

export interface Leg {
  readonly id: string;
  /** Changes on moveLeg, with `mix`; everything else (socket, players, recorder) moves along. */
  room: Room;
  readonly kind: 'rtp' | 'sim';
  readonly rtp: RtpLeg | null;
  readonly recorder: Recorder | null;
  mix: MixerLeg;
  readonly players: PcmPlayer[];
  /** Keypad digits going out or pressed (keypad.ts), run one after the other, the first now. */
  readonly keypad: KeypadJob[];
  /** Recording taps on what it says and hears; they move with it. */
  readonly taps: RecordingTap[];
  /** Private output scratch (overlay and players added). */
  readonly out: Int16Array;
  /** RTP inactivity timeout (0 = none: not answered yet, or none configured). */
  timeoutMs: number;
  lastRx: number;
  lastRxAt: number;
  packetsOut: number;
}

export interface Room {
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
  /**
   * The shared output as Opus: one encoder for every Opus listener of the shared mix (made when
   * the first one hears it; Opus costs 10–20× G.711 to encode), its packet and tick. Opus is
   * stateful, so all who get these packets must get every one: a listener moving between the
   * shared and a private mix changes encoder mid-stream, which the decoder takes as it takes
   * any packet (each Opus packet is self-describing, RFC 6716 §3.1).
   */
  encOpus: OpusFrameEncoder | null;
  encOpusPacket: Uint8Array;
  encOpusTick: number;
  /** Recording taps on the room's mix. */
  readonly taps: RecordingTap[];
  /** The mix as a listener who says nothing hears it, made for the taps. */
  readonly tapFrame: Int16Array;
}

/** What a room's tick hands back to the engine: deferred work and encode counters. */
export interface TickContext {
  /** Players that ended this tick (`played` is notified after all rooms ticked). */
  readonly finished: PcmPlayer[];
  /** RTP legs past their inactivity timeout (closed after all rooms ticked). */
  readonly expired: Leg[];
  /** Keypad jobs (their ids) that have sent or pressed every digit (`played` after the tick). */
  readonly keysDone: number[];
  /** Simulated keys released this tick, as leg id, digit, leg id, digit… (`dtmf` after the tick). */
  readonly pressed: string[];
  sharedEncodes: number;
  privateEncodes: number;
}

/** A room with its buffers made up front; `onTalking` is the mixer's talk event. */
export function newRoom(id: string, onTalking: (legId: string, talking: boolean) => void): Room {
  return {
    id,
    mixer: new Mixer({ onTalking }),
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
    encOpus: null,
    encOpusPacket: new Uint8Array(0),
    encOpusTick: -1,
    taps: [],
    tapFrame: new Int16Array(FRAME),
  };
}

/** Frees what a room holds beyond its legs (its shared Opus encoder); idempotent. */
export function closeRoom(room: Room): void {
  room.encOpus?.close();
  room.encOpus = null;
}

/** What a new leg is made of; the rest of a Leg starts from zero. */
export interface LegInit {
  id: string;
  kind: 'rtp' | 'sim';
  rtp: RtpLeg | null;
  recorder: Recorder | null;
  players: PcmPlayer[];
  keypad: KeypadJob[];
  taps: RecordingTap[];
  timeoutMs: number;
  packetsOut: number;
}

/** Puts a new leg into a room (and its mixer) with its sources and flags. */
export function joinRoom(room: Room, init: LegInit, sources: LegSources, flags: Partial<LegFlags>): Leg {
  const leg: Leg = {
    ...init,
    room,
    mix: room.mixer.addLeg(init.id, sources, flags),
    out: new Int16Array(FRAME),
    lastRx: init.rtp ? init.rtp.stats.packetsReceived + init.rtp.stats.telephoneEvents : 0,
    lastRxAt: performance.now(),
  };
  room.legs.set(leg.id, leg);
  room.legList.push(leg);
  return leg;
}

/** Takes a leg out of its room and mixer (a talking leg gets `talking false`). */
export function leaveRoom(leg: Leg): void {
  const room = leg.room;
  room.legs.delete(leg.id);
  room.legList.splice(room.legList.indexOf(leg), 1);
  room.mixer.removeLeg(leg.id);
}

export function legStatsOf(leg: Leg): LegStats {
  return {
    legId: leg.id,
    roomId: leg.room.id,
    kind: leg.kind,
    packetsIn: leg.rtp ? leg.rtp.stats.packetsReceived : 0,
    packetsOut: leg.rtp ? leg.rtp.stats.packetsSent : leg.packetsOut,
    packetsLost: leg.rtp ? leg.rtp.jitterBuffer.stats.lost : 0,
    talking: leg.mix.talking,
    ...(leg.rtp ? { receiver: leg.rtp.receiverFigures() } : {}),
    ...(leg.rtp?.secure ? { srtp: { authFailures: leg.rtp.stats.srtpAuthFailures, replays: leg.rtp.stats.srtpReplays } } : {}),
  };
}

/** One 20 ms step of one room; `now` (performance.now()) dates received packets for timeouts. */
export function tickRoom(room: Room, tick: number, now: number, ctx: TickContext): void {
  // 1. Room overlay.
  room.overlayActive = mixPlayers(room.players, room.overlayAcc, room.overlay, ctx.finished);

  // 2. Mix.
  room.mixer.tick();

  if (room.taps.length > 0) tapRoom(room, now);

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
      if (mixPlayersOnto(leg.players, start, leg.out, ctx.finished)) {
        out = leg.out;
        shared = false;
      }
    }
    const keys = leg.keypad.length > 0 ? keyFrame(leg, ctx) : null;
    if (keys !== null && keys.action === 'tone') {
      addClamped(out, keys.tone!, leg.out);
      out = leg.out;
      shared = false;
    }
    if (leg.taps.length > 0) tapLeg(leg.taps, mix.frame, out, now);

    if (leg.rtp !== null) {
      const rtp = leg.rtp;
      if (keys !== null && keys.action === 'event') {
        if (keys.marker) keys.eventStart = rtp.nextTimestamp;
        rtp.sendEvent(keys.code, keys.eventStart, keys.duration, keys.end, keys.marker);
      } else if (out === null) {
        rtp.send(null);
      } else if (shared) {
        rtp.sendPayload(encodeShared(room, out, rtp.codec, tick, ctx));
      } else {
        rtp.send(out);
        ctx.privateEncodes++;
      }
      // Inactivity: no accepted packet for timeoutMs (not counted while on hold).
      // DTMF is traffic from a live peer too (a caller keying digits in silence).
      const rx = rtp.stats.packetsReceived + rtp.stats.telephoneEvents;
      if (rx !== leg.lastRx || f.hold) {
        leg.lastRx = rx;
        leg.lastRxAt = now;
      } else if (leg.timeoutMs > 0 && now - leg.lastRxAt > leg.timeoutMs) {
        ctx.expired.push(leg);
      }
    } else {
      leg.packetsOut++;
      if (leg.recorder !== null) leg.recorder.append(out);
    }
  }
}

/** A leg's frame to its taps: what it said this tick (its input) and what it hears. */
function tapLeg(taps: RecordingTap[], said: Int16Array | null, heard: Int16Array | null, now: number): void {
  for (let t = 0; t < taps.length; t++) taps[t]!.writeLeg(said, heard, now);
}

/**
 * The room's frame to its taps: the sum of everyone heard and the room's players (beeps,
 * announcements), as a listener who says nothing hears it. Hold and wait music are what a held
 * or waiting leg hears instead of the room, never in its sum, so they are not recorded
 * (Twilio does not record wait music before a conference starts).
 */
function tapRoom(room: Room, now: number): void {
  let frame: Int16Array | null = room.mixer.mixInto(room.tapFrame) ? room.tapFrame : null;
  if (room.overlayActive) {
    addClamped(frame, room.overlay, room.tapFrame);
    frame = room.tapFrame;
  }
  for (let t = 0; t < room.taps.length; t++) room.taps[t]!.writeMix(frame, now);
}

/**
 * The leg's current keypad job moved one frame on (keypad.ts); a job that has just sent its
 * last frame leaves the queue (`played` unless it was stopped), and the next starts next tick.
 */
function keyFrame(leg: Leg, ctx: TickContext): KeypadJob {
  const job = leg.keypad[0]!;
  job.advance();
  if (job.action === 'released') ctx.pressed.push(leg.id, DIGITS[job.code]!);
  if (job.done) {
    leg.keypad.shift();
    if (!job.stopped) ctx.keysDone.push(job.id);
  }
  return job;
}

/** The shared mix encoded at most once per codec per tick, then sent to all who hear it. */
function encodeShared(room: Room, frame: Int16Array, codec: 'PCMU' | 'PCMA' | 'opus', tick: number, ctx: TickContext): Uint8Array {
  if (codec === 'opus') {
    if (room.encOpusTick !== tick) {
      room.encOpus ??= new OpusFrameEncoder();
      room.encOpusPacket = room.encOpus.encode(frame);
      room.encOpusTick = tick;
      ctx.sharedEncodes++;
    }
    return room.encOpusPacket;
  }
  const mulaw = codec === 'PCMU';
  const enc = mulaw ? room.encMulaw : room.encAlaw;
  if ((mulaw ? room.encMulawTick : room.encAlawTick) !== tick) {
    const table = mulaw ? MULAW_ENCODE : ALAW_ENCODE;
    for (let i = 0; i < FRAME; i++) enc[i] = table[frame[i]! & 0xffff]!;
    if (mulaw) room.encMulawTick = tick;
    else room.encAlawTick = tick;
    ctx.sharedEncodes++;
  }
  return enc;
}

/** The flags a request names (absent = unchanged), as the mixer takes them. */
export function flagsOf(patch: LegFlagsPatch): Partial<LegFlags> {
  const flags: Partial<LegFlags> = {};
  if (patch.muted !== undefined) flags.muted = patch.muted;
  if (patch.hold !== undefined) flags.hold = patch.hold;
  if (patch.canHear !== undefined) flags.canHear = patch.canHear;
  if (patch.coachOf !== undefined) flags.coachOf = patch.coachOf;
  if (patch.waiting !== undefined) flags.waiting = patch.waiting;
  return flags;
}
