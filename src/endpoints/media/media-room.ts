/**
 * A room of the media worker that legs share — a conference (named by its ConferenceSid) or a
 * `<Dial>` bridge — as the control plane holds it. It counts its members: made on first use,
 * it is destroyed when the last leg leaves, and a room of the same name asked for meanwhile is
 * made only once the old one is gone in the worker. Like a leg it has an idempotent `close()`,
 * a `closed` getter, and plays to it settle `false` when it closes.
 */
import { isGone } from '../../media/media-error.js';
import type { SoundSpec } from '../../media/protocol.js';
import type { MediaChannel } from './media-channel.js';
import type { MediaLeg } from './media-leg.js';

export class MediaRoom {
  /** Settles once the worker has the room (rejects when it could not be made). */
  readonly created: Promise<void>;
  /** Settles once the worker no longer has it (after `close()`). */
  destroyed: Promise<void> | undefined;
  /** Resolves once it is gone in the worker, or with its plane: whatever it sent has arrived. */
  readonly ended: Promise<void>;
  private resolveEnded: () => void = () => {};
  private readonly members = new Set<MediaLeg>();
  private readonly plays = new Set<(played: boolean) => void>();
  private isClosed = false;

  constructor(
    readonly id: string,
    private readonly channel: MediaChannel,
    /** A previous room of the same id still being destroyed. */
    after: Promise<void> = Promise.resolve(),
  ) {
    this.created = after.then(async () => {
      await channel.request('createRoom', { roomId: id });
    });
    // A room that could not be made is reported to whoever enters it (MediaLeg.enter).
    this.created.catch(() => undefined);
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** How many legs are in it (or on their way in). */
  get size(): number {
    return this.members.size;
  }

  add(leg: MediaLeg): void {
    this.members.add(leg);
  }

  /** A leg left; the last one leaving closes the room. */
  remove(leg: MediaLeg): void {
    if (this.members.delete(leg) && this.members.size === 0) void this.close();
  }

  /** Plays to everyone in the room; true when played, false when stopped or the room closed. */
  async play(sound: SoundSpec, signal?: AbortSignal): Promise<boolean> {
    if (this.isClosed || signal?.aborted) return false;
    let playId: number;
    try {
      await this.created;
      playId = (await this.channel.request('play', { target: { roomId: this.id }, sound })).playId;
    } catch (error) {
      if (this.isClosed || isGone(error)) return false;
      throw error;
    }
    return this.channel.awaitPlay(playId, { roomId: this.id }, this.plays, signal);
  }

  /** Destroys the room in the worker; its plays settle false. Idempotent. */
  close(): Promise<void> {
    if (this.destroyed) return this.destroyed;
    this.settle();
    this.destroyed = this.created
      .then(() => this.channel.request('destroyRoom', { roomId: this.id }))
      .then(
        () => undefined,
        (error: unknown) => {
          if (!isGone(error)) this.channel.log.warn({ err: error, roomId: this.id }, 'media: could not destroy the room');
        },
      );
    void this.destroyed.then(this.resolveEnded);
    return this.destroyed;
  }

  /** The plane closed or its worker died: the room is gone with it. */
  planeClosed(): void {
    this.destroyed ??= Promise.resolve();
    this.settle();
    this.resolveEnded();
  }

  private settle(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const settle of [...this.plays]) settle(false);
    this.plays.clear();
    this.members.clear();
    this.channel.roomClosed(this);
  }
}
