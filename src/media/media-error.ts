/**
 * The media plane's errors, coded so the control plane can tell them apart — as mediasoup's
 * Channel rebuilds typed errors from a worker's reply, and undici gives every error a string
 * `code`. Ignoring "the leg is gone" after a hang-up is then a decision about one code, not a
 * blanket `.catch(() => undefined)` that also hides a port range running out.
 *
 * - `no-leg`, `no-room`, `no-tap`: what the request names does not exist (any more);
 * - `exists`: a leg or room of that id is already there;
 * - `closed`: the leg, room, plane or engine is closed or closing;
 * - `ports-exhausted`: no free RTP port (pair) in the configured range;
 * - `timeout`: the worker did not answer in time;
 * - `worker-exited`: the media worker thread is gone;
 * - `invalid`: a request the engine cannot carry out as asked (a codec, a leg of the wrong kind);
 * - `internal`: anything else.
 */
export type MediaErrorCode = 'no-leg' | 'no-room' | 'no-tap' | 'exists' | 'closed' | 'ports-exhausted' | 'timeout' | 'worker-exited' | 'invalid' | 'internal';

const CODES: ReadonlySet<string> = new Set<MediaErrorCode>(['no-leg', 'no-room', 'no-tap', 'exists', 'closed', 'ports-exhausted', 'timeout', 'worker-exited', 'invalid', 'internal']);

export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MediaError';
  }

  /** An error as it crosses the worker boundary: its code kept, anything foreign `internal`. */
  static from(error: unknown): MediaError {
    if (error instanceof MediaError) return error;
    return new MediaError('internal', error instanceof Error ? error.message : String(error), { cause: error });
  }

  /** Rebuilds one from a worker's reply. */
  static fromReply(code: string | undefined, message: string): MediaError {
    return new MediaError(code !== undefined && CODES.has(code) ? (code as MediaErrorCode) : 'internal', message);
  }
}

/** True when `error` says the thing asked about is gone or going: nothing left to change. */
export function isGone(error: unknown): boolean {
  return error instanceof MediaError && (error.code === 'no-leg' || error.code === 'no-room' || error.code === 'no-tap' || error.code === 'closed');
}
