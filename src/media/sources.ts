/**
 * What the engine plays and records besides the mixer itself: PCM players (sounds, hold and
 * wait sources, a sim leg's voice), a sine voice, a recorder, and the helpers that lay players
 * over a frame. Each allocates its frame once, so pops in the tick loop allocate nothing.
 */
import type { FrameSource } from './mixer.js';
import type { SoundSpec, ToneSpec } from './protocol.js';
import { builtinSounds } from './sounds.js';
import { MediaError } from './media-error.js';

export const FRAME = 160;

/** The PCM of a sound spec (built-in name or caller PCM); throws on an unknown name. */
export function soundPcm(sound: SoundSpec): Int16Array {
  const pcm = typeof sound === 'string' ? builtinSounds()[sound] : sound.pcm;
  if (!(pcm instanceof Int16Array)) throw new MediaError('invalid', 'unknown sound');
  return pcm;
}

/** Plays PCM (once or looped) one frame per pop; null once finished. */
export class PcmPlayer implements FrameSource {
  done = false;
  private pos = 0;
  private readonly frame = new Int16Array(FRAME);

  constructor(readonly id: number, private readonly pcm: Int16Array, private readonly loop: boolean, pos = 0) {
    if (pcm.length === 0) this.done = true;
    this.pos = pos;
  }

  /** Plain data to re-create this player in another worker (leg-state.ts). */
  state(): { id: number; pcm: Int16Array; loop: boolean; pos: number; done: boolean } {
    return { id: this.id, pcm: this.pcm, loop: this.loop, pos: this.pos, done: this.done };
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
export class ToneVoice implements FrameSource {
  private readonly frame = new Int16Array(FRAME);
  private readonly step: number;
  constructor(readonly spec: ToneSpec, public phase = 0) {
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
export class Recorder {
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
  /** What was recorded and not taken yet, without taking it. */
  peek(): Int16Array {
    return this.buf.subarray(0, this.length);
  }
  take(): Int16Array {
    const pcm = this.buf.slice(0, this.length);
    this.length = 0;
    return pcm;
  }
}

/** Sums the players' next frames into `out`; finished ones move to `finished`. */
export function mixPlayers(players: PcmPlayer[], acc: Int32Array, out: Int16Array, finished: PcmPlayer[]): boolean {
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
export function mixPlayersOnto(players: PcmPlayer[], base: Int16Array | null, out: Int16Array, finished: PcmPlayer[]): boolean {
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
export function addClamped(a: Int16Array | null, b: Int16Array, out: Int16Array): void {
  if (a === null) {
    out.set(b);
    return;
  }
  for (let i = 0; i < FRAME; i++) {
    const v = a[i]! + b[i]!;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}
