/**
 * What a MediaLeg and a MediaRoom need from their MediaPlane: the worker's request channel,
 * plays that settle, and the plane's bookkeeping when they close. Implemented by MediaPlane
 * only; legs and rooms never reach the worker any other way.
 */
import type { MediaRequestParams, MediaRequestResult, MediaRequestType, PlayTarget } from '../../media/protocol.js';
import type { MediaLeg, LegEnd } from './media-leg.js';
import type { MediaRoom } from './media-room.js';

export interface MediaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MediaChannel {
  readonly log: MediaLogger;
  /** A request to the media worker; rejects with a MediaError (`closed` once the plane is). */
  request<K extends MediaRequestType>(type: K, params: MediaRequestParams<K>): Promise<MediaRequestResult<K>>;
  /**
   * Waits for the play `playId` to end: true played, false stopped. `owner` holds its settle
   * function so that the leg or room can settle it false when it closes; `signal` stops it.
   */
  awaitPlay(playId: number, target: PlayTarget, owner: Set<(played: boolean) => void>, signal?: AbortSignal): Promise<boolean>;
  /** The worker's side of closing a leg: keep its recording, remove it, drop its home room. */
  legClosing(leg: MediaLeg, why: LegEnd): Promise<void>;
  /** The leg is closed: the plane forgets it. */
  forget(leg: MediaLeg): void;
  /** The room is closed (its last member left): the plane forgets it. */
  roomClosed(room: MediaRoom): void;
}
