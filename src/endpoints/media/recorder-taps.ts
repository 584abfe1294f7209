/**
 * The recordings' taps on the media plane (domain/recording-ports.ts RecorderTaps): a
 * conference's room (its mix) or a call's leg (what it says and hears), handed over in batches
 * as the media worker mixes them (protocol.ts `startRecording`, `recorded`; the tap itself is
 * src/media/recording-tap.ts). A conference's room is named by its ConferenceSid
 * (conference-media.ts), a call's leg by its CallSid.
 *
 * Batches come in the order the worker numbered them (`seq`): a leg's tap moves with the leg
 * to another worker, and a batch that arrives early is held until the ones before it came.
 * `onAudio` runs on the main thread's event loop, where the recording's file is written.
 *
 * A tap ends when its leg or room closes: the worker sends its last batch before it says the
 * leg or room is gone, so `ended` resolves after the last audio. Should the worker die, the leg
 * or room closing with the plane ends it too (without what the worker had not sent).
 */
import type { RecorderTap, RecorderTaps, RecordingTarget, TapOptions } from '../../domain/recording-ports.js';
import type { PauseBehavior } from '../../domain/recording.js';
import { isGone, MediaError } from '../../media/media-error.js';
import type { TapEnd, TapTarget } from '../../media/protocol.js';
import type { MediaPlane, RecordedBatch } from './media-plane.js';

/** Where a tap listens, and how its requests are run there. */
interface TapPlace {
  target: TapTarget;
  /** Runs a request in order with the others about the leg or room. */
  run<T>(op: () => Promise<T>): Promise<T>;
  /** Settles once the leg or room is gone, after everything its worker sent about it. */
  gone: Promise<unknown>;
}

export class MediaRecorderTaps implements RecorderTaps {
  private readonly live = new Map<string, MediaRecorderTap>();

  constructor(private readonly plane: MediaPlane) {
    plane.onRecorded((batch) => this.live.get(batch.tapId)?.receive(batch));
  }

  /** Rejects with MediaError `no-leg` or `no-room` when the call or conference has no media here. */
  async start(recordingSid: string, target: RecordingTarget, options: TapOptions, onAudio: (pcm: Int16Array) => void): Promise<RecorderTap> {
    if (this.live.has(recordingSid)) throw new MediaError('exists', `recording ${recordingSid} has a tap already`);
    const place = this.placeOf(target);
    const tap = new MediaRecorderTap(recordingSid, place, this.plane, onAudio, () => this.live.delete(recordingSid));
    // Known before the worker is asked: its first batch may follow the reply closely.
    this.live.set(recordingSid, tap);
    try {
      await place.run(() => this.plane.request('startRecording', { tapId: recordingSid, target: place.target, channels: options.channels, track: options.track }));
    } catch (error) {
      this.live.delete(recordingSid);
      throw error;
    }
    void place.gone.then(() => tap.sourceGone());
    return tap;
  }

  private placeOf(target: RecordingTarget): TapPlace {
    if ('callSid' in target) {
      const leg = this.plane.leg(target.callSid);
      if (!leg) throw new MediaError('no-leg', `call ${target.callSid} has no media leg here`);
      return { target: { legId: leg.callSid }, run: (op) => leg.run(op), gone: leg.ended };
    }
    const room = this.plane.findRoom(target.conferenceSid);
    if (!room) throw new MediaError('no-room', `conference ${target.conferenceSid} has no room here`);
    return {
      target: { roomId: room.id },
      run: async (op) => {
        await room.created;
        return op();
      },
      gone: room.ended,
    };
  }
}

class MediaRecorderTap implements RecorderTap {
  readonly ended: Promise<void>;
  private resolveEnded: () => void = () => {};
  private done = false;
  private stopping: Promise<void> | undefined;
  /** The next batch's sequence number, and batches that came before it. */
  private next = 0;
  private readonly early = new Map<number, RecordedBatch>();

  constructor(
    private readonly id: string,
    private readonly place: TapPlace,
    private readonly plane: MediaPlane,
    private readonly onAudio: (pcm: Int16Array) => void,
    private readonly forget: () => void,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  pause(behavior: PauseBehavior): Promise<void> {
    return this.set(behavior);
  }

  resume(): Promise<void> {
    return this.set(null);
  }

  stop(): Promise<void> {
    this.stopping ??= this.done
      ? Promise.resolve()
      : this.place
          .run(() => this.plane.request('stopRecording', { tapId: this.id, target: this.place.target }))
          .then(
            () => undefined,
            (error: unknown) => {
              // Gone: it ended by itself meanwhile, and its last batch came before this answer.
              if (!isGone(error)) throw error;
            },
          )
          .finally(() => this.finish('stopped'));
    return this.stopping;
  }

  receive(batch: RecordedBatch): void {
    if (batch.seq !== this.next) {
      this.early.set(batch.seq, batch);
      return;
    }
    this.deliver(batch);
    for (let b = this.early.get(this.next); b !== undefined; b = this.early.get(this.next)) {
      this.early.delete(b.seq);
      this.deliver(b);
    }
  }

  /** The leg or room is gone (or the plane with it): whatever came is handed over, and it ended. */
  sourceGone(): void {
    for (const seq of [...this.early.keys()].sort((a, b) => a - b)) this.deliver(this.early.get(seq)!);
    this.early.clear();
    this.finish('closed');
  }

  private set(paused: PauseBehavior | null): Promise<void> {
    if (this.done || this.stopping) return Promise.resolve();
    return this.place.run(() => this.plane.request('setRecording', { tapId: this.id, target: this.place.target, paused })).then(
      () => undefined,
      (error: unknown) => {
        if (!isGone(error)) throw error;
      },
    );
  }

  private deliver(batch: RecordedBatch): void {
    this.next = batch.seq + 1;
    if (this.done) return;
    if (batch.pcm.length > 0) {
      try {
        this.onAudio(batch.pcm);
      } catch (error) {
        this.plane.log.warn({ err: error, recordingSid: this.id }, 'recording: the audio of a tap could not be taken');
      }
    }
    if (batch.end !== null) this.finish(batch.end);
  }

  private finish(end: TapEnd): void {
    if (this.done) return;
    this.done = true;
    this.forget();
    if (end === 'closed') this.resolveEnded();
  }
}
