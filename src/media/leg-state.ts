/**
 * A leg as plain data, for moving it to a room in another media worker (MediaClient shards
 * rooms over several workers). Everything the leg owns travels: its RTP stream (rtp-leg.ts
 * snapshot: SSRC, sequence, timestamp, codec, remote, counters, RTCP state), its sim voice,
 * its hold and wait sources, its players and its pending keypad digits with their positions,
 * what its recorder holds, and its recording taps with their unfinished batches (the full ones
 * were posted by the worker it leaves, before its reply, so no frame is lost or sent twice).
 * Not carried: the jitter buffer's few queued frames (40–60 ms), which the new worker's buffer
 * refills from the same stream, and the flags, which a move resets anyway.
 *
 * Built-in sounds travel by name: every worker has its own copy, so the samples (hold music is
 * seconds of PCM) are not structured-cloned with every move.
 */
import type { Leg } from './engine-room.js';
import type { FrameSource } from './mixer.js';
import type { BuiltinSound, ToneSpec } from './protocol.js';
import type { RtpLegState } from './rtp/rtp-leg.js';
import { builtinSounds } from './sounds.js';
import { PcmPlayer, Recorder, ToneVoice } from './sources.js';
import type { KeypadJobState } from './keypad.js';
import type { RecordingTapState } from './recording-tap.js';

export interface PlayerState {
  id: number;
  pcm: Int16Array | BuiltinSound;
  loop: boolean;
  pos: number;
  done: boolean;
}

export type InputState = { kind: 'rtp' } | { kind: 'none' } | { kind: 'tone'; spec: ToneSpec; phase: number } | { kind: 'pcm'; player: PlayerState };

export interface MovedLeg {
  legId: string;
  kind: 'rtp' | 'sim';
  rtp: RtpLegState | null;
  timeoutMs: number;
  input: InputState;
  hold: PlayerState | null;
  wait: PlayerState | null;
  players: PlayerState[];
  /** Keypad digits still to go out or be pressed, where they were (keypad.ts). */
  keypad: KeypadJobState[];
  /** null = the leg does not record. */
  recorded: Int16Array | null;
  /** Recording taps on the leg (recording-tap.ts). */
  taps: RecordingTapState[];
  packetsOut: number;
}

export function playerState(p: PcmPlayer): PlayerState {
  const s = p.state();
  const sounds = builtinSounds();
  const name = (Object.keys(sounds) as BuiltinSound[]).find((k) => sounds[k] === s.pcm);
  return { id: s.id, pcm: name ?? s.pcm, loop: s.loop, pos: s.pos, done: s.done };
}

export function playerFrom(s: PlayerState): PcmPlayer {
  const pcm = typeof s.pcm === 'string' ? builtinSounds()[s.pcm] : s.pcm;
  const p = new PcmPlayer(s.id, pcm, s.loop, s.pos);
  if (s.done) p.done = true;
  return p;
}

/** A hold/wait source: the engine only ever puts PcmPlayers there. */
export function sourceState(src: FrameSource | null): PlayerState | null {
  return src instanceof PcmPlayer ? playerState(src) : null;
}

export function inputState(input: FrameSource | null, isRtp: boolean): InputState {
  if (isRtp) return { kind: 'rtp' };
  if (input instanceof ToneVoice) return { kind: 'tone', spec: input.spec, phase: input.phase };
  if (input instanceof PcmPlayer) return { kind: 'pcm', player: playerState(input) };
  return { kind: 'none' };
}

/** A sim leg's input rebuilt; RTP legs use their re-opened RtpLeg instead. */
export function inputFrom(s: InputState): FrameSource | null {
  if (s.kind === 'tone') return new ToneVoice(s.spec, s.phase);
  if (s.kind === 'pcm') return playerFrom(s.player);
  return null;
}

export function recorderFrom(recorded: Int16Array | null): Recorder | null {
  if (recorded === null) return null;
  const r = new Recorder();
  for (let o = 0; o + 160 <= recorded.length; o += 160) r.append(recorded.subarray(o, o + 160));
  return r;
}

/** A leg (already out of its room) as plain data; the caller then closes its sockets. */
export function movedLegOf(leg: Leg): MovedLeg {
  return {
    legId: leg.id,
    kind: leg.kind,
    rtp: leg.rtp ? leg.rtp.snapshot() : null,
    timeoutMs: leg.timeoutMs,
    input: inputState(leg.mix.input, leg.rtp !== null),
    hold: sourceState(leg.mix.holdSource),
    wait: sourceState(leg.mix.waitSource),
    players: leg.players.map(playerState),
    keypad: leg.keypad.map((k) => k.state()),
    recorded: leg.recorder ? leg.recorder.peek().slice() : null,
    taps: leg.taps.map((t) => t.state()),
    packetsOut: leg.packetsOut,
  };
}
