/**
 * A recording tap: what a room's mix or a leg's audio sounds like, frame by frame as the tick
 * makes it, gathered into batches that go to the main thread whole (issue 13). The media thread
 * never writes a file: one message every BATCH_FRAMES frames carries a batch, and the main
 * thread appends it wherever the recording is kept.
 *
 * The batch buffer is the tap's own, made once and reused: postMessage copies it into the
 * message (structured clone), and the tick writes on. Transferring it instead means a new
 * ArrayBuffer per batch on the media thread, and their garbage: with a dual tap on each of
 * 1,000 legs that made the tick slower than the copy does (BENCHMARKS.md, "Recording").
 *
 * A leg's tap follows Twilio's call recording conventions (Call Recording `track`,
 * `RecordingChannels`): `inbound` is what the call says, `outbound` what it hears, mono `both`
 * the two mixed; dual channel keeps what it says on the first channel and what it hears on the
 * second, interleaved. A room's tap is mono: the room as a listener who says nothing hears it.
 *
 * Paused with `silence`, each frame is written as zeros so the recording keeps its time; with
 * `skip`, nothing is written. The tap is plain data (`state()`, `RecordingTap.from`) so that it
 * moves with its leg to another worker, the frames of its unfinished batch included.
 *
 * Nothing here allocates per frame, nor per batch but the last.
 */
import { performance } from 'node:perf_hooks';
import { FRAME } from './sources.js';
import type { RecordingTrack, TapEnd, TapPause } from './protocol.js';

/** 25 frames: half a second a batch, two messages a second per tap. */
export const BATCH_FRAMES = 25;
/** A leg away from every room longer than this (a move that took long) is padded up to it only. */
const MAX_GAP_FRAMES = 50 * 10;

/** What a leg without input says, or a leg hearing nothing hears. */
const SILENCE = new Int16Array(FRAME);

export interface RecordingTapState {
  id: string;
  channels: 1 | 2;
  track: RecordingTrack;
  paused: TapPause | null;
  /** The next batch's sequence number. */
  seq: number;
  /** The frames of the batch not yet handed over. */
  pending: Int16Array;
  /** Epoch ms of the last frame written, null before the first. */
  lastFrameAt: number | null;
}

/**
 * Hands a batch over (the engine posts it as a `recorded` notification); `pcm` is the tap's own
 * buffer, valid during the call only, so the receiver copies it (postMessage does). `end`: the
 * tap's last batch.
 */
export type SendBatch = (tap: RecordingTap, pcm: Int16Array, end: TapEnd | null) => void;

export class RecordingTap {
  paused: TapPause | null = null;
  private seq = 0;
  private readonly batch: Int16Array;
  /** Samples written into `batch`. */
  private used = 0;
  /** performance.now() of the last frame written (the tick's start). */
  private lastAt = -1;
  /** Set by a move: the first frame after it pads the time the leg spent between workers. */
  private resumeFrom: number | null = null;

  constructor(
    readonly id: string,
    readonly channels: 1 | 2,
    readonly track: RecordingTrack,
    private readonly send: SendBatch,
  ) {
    this.batch = new Int16Array(BATCH_FRAMES * FRAME * channels);
  }

  /**
   * One frame of a leg: what it said (`inbound`) and what it heard (`outbound`), null = silence.
   * `now` is the tick's performance.now().
   */
  writeLeg(inbound: Int16Array | null, outbound: Int16Array | null, now: number): void {
    if (this.resumeFrom !== null) this.padGap(now);
    this.lastAt = now;
    if (this.paused === 'skip') return;
    const b = this.batch;
    const o = this.used;
    if (this.paused === 'silence') {
      b.fill(0, o, o + FRAME * this.channels);
    } else if (this.channels === 2) {
      const said = inbound ?? SILENCE;
      const heard = outbound ?? SILENCE;
      for (let i = 0, j = o; i < FRAME; i++, j += 2) {
        b[j] = said[i]!;
        b[j + 1] = heard[i]!;
      }
    } else if (this.track === 'inbound') {
      this.copy(inbound, o);
    } else if (this.track === 'outbound' || inbound === null) {
      this.copy(outbound, o);
    } else if (outbound === null) {
      this.copy(inbound, o);
    } else {
      for (let i = 0; i < FRAME; i++) {
        const v = inbound[i]! + outbound[i]!;
        b[o + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
    }
    this.advance();
  }

  /** One frame of a room's mix (mono); null = silence. */
  writeMix(mix: Int16Array | null, now: number): void {
    this.lastAt = now;
    if (this.paused === 'skip') return;
    this.copy(this.paused === 'silence' ? null : mix, this.used);
    this.advance();
  }

  /** The next sequence number, for the batch being handed over. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Hands over the unfinished batch (maybe empty) as the last: stopped, or its leg or room closed. */
  end(why: TapEnd): void {
    const last = this.batch.slice(0, this.used);
    this.used = 0;
    this.send(this, last, why);
  }

  /** Plain data to carry the tap to another worker with its leg. */
  state(): RecordingTapState {
    return {
      id: this.id,
      channels: this.channels,
      track: this.track,
      paused: this.paused,
      seq: this.seq,
      pending: this.batch.slice(0, this.used),
      lastFrameAt: this.lastAt < 0 ? null : performance.timeOrigin + this.lastAt,
    };
  }

  /** The tap again in another worker: the same batch numbering and unfinished batch. */
  static from(s: RecordingTapState, send: SendBatch): RecordingTap {
    const tap = new RecordingTap(s.id, s.channels, s.track, send);
    tap.paused = s.paused;
    tap.seq = s.seq;
    tap.batch.set(s.pending);
    tap.used = s.pending.length;
    tap.resumeFrom = s.lastFrameAt;
    return tap;
  }

  private copy(frame: Int16Array | null, at: number): void {
    if (frame === null) this.batch.fill(0, at, at + FRAME);
    else this.batch.set(frame, at);
  }

  private advance(): void {
    this.used += FRAME * this.channels;
    if (this.used < this.batch.length) return;
    this.used = 0;
    this.send(this, this.batch, null);
  }

  /**
   * The leg spent some ticks in no room while it moved between workers: those frames are
   * written as silence (or skipped when paused so), so the recording keeps the call's time.
   * Worker clocks are not in phase, so this is right to a frame.
   */
  private padGap(now: number): void {
    const away = performance.timeOrigin + now - this.resumeFrom!;
    this.resumeFrom = null;
    const missing = Math.min(MAX_GAP_FRAMES, Math.round(away / 20) - 1);
    if (this.paused === 'skip') return;
    for (let k = 0; k < missing; k++) {
      this.batch.fill(0, this.used, this.used + FRAME * this.channels);
      this.advance();
    }
  }
}
