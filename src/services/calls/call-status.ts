/**
 * Moving a call to its next status: the times that go with it (start on answer; end and
 * whole-second duration at the end), the stored record, and the progress event Twilio reports
 * for it (`initiated`, `ringing`, `answered`, `completed` — the last also for busy, no-answer,
 * failed and canceled calls: https://www.twilio.com/docs/voice/api/call-resource#statuscallbackevent).
 */
import { canMove, isFinal, type Call, type CallProgressEvent, type CallStatus } from '../../domain/call.js';
import type { CallNotifier, ProgressDetail } from '../../domain/call-ports.js';
import type { Clock, StoreOperations } from '../../domain/ports.js';
import { StoreUnavailableError } from '../../errors.js';
import type { CallLogger } from './call-runtime.js';

/** Retries of a final status the database could not take: 1 s, doubling to 30 s, while it is down. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** Outages already told by the call engine (the store logs each outage once too). */
const toldOutages = new WeakSet<object>();

/**
 * Logs a failed store write of a call: the database being unavailable once per outage and without
 * a stack (every live call would otherwise print one), anything else each time with its stack.
 */
export function logCallStoreFailure(logger: CallLogger, error: unknown, callSid: string, message: string): void {
  if (!(error instanceof StoreUnavailableError)) {
    logger.error({ err: error, callSid }, message);
    return;
  }
  if (toldOutages.has(error.outage)) return;
  toldOutages.add(error.outage);
  logger.warn({ callSid, reason: error.message }, `${message}: the database is unavailable; calls that change status meanwhile end, and their end is stored once it is back (told once per outage)`);
}

export function progressEventOf(status: CallStatus): CallProgressEvent | undefined {
  if (status === 'queued') return 'initiated';
  if (status === 'ringing') return 'ringing';
  if (status === 'in-progress') return 'answered';
  return isFinal(status) ? 'completed' : undefined;
}

/** The call in its new status, or the same call when the move is not allowed (already ended). */
export function withStatus(call: Call, status: CallStatus, now: number): Call {
  if (!canMove(call.status, status)) return call;
  const next: Call = { ...call, status, dateUpdated: now };
  if (status === 'in-progress') next.startTime = now;
  if (isFinal(status)) {
    next.endTime = now;
    next.duration = call.startTime === null ? 0 : Math.floor((now - call.startTime) / 1000);
  }
  return next;
}

export class CallStatusKeeper {
  constructor(
    private readonly store: StoreOperations,
    private readonly clock: Clock,
    private readonly notifier: CallNotifier,
  ) {}

  /**
   * Stores the move and tells it (with `detail`, e.g. the SIP response behind it); returns the call
   * as it now is. When the database is unavailable a call's end still happens: it is stored and
   * told once the database is back, and the error still thrown for the caller to log.
   */
  async move(call: Call, status: CallStatus, detail?: ProgressDetail): Promise<Call> {
    const next = withStatus(call, status, this.clock.now());
    if (next === call) return call;
    const event = progressEventOf(status);
    let stored: boolean;
    try {
      stored = await this.store.updateCall(next);
    } catch (error) {
      if (error instanceof StoreUnavailableError && isFinal(status)) {
        // Told once stored: a node cut off past its lease was declared dead meanwhile, and the
        // survivor that ended this call has told its end already (then the write is refused).
        this.storeLater(next, FIRST_RETRY_MS, () => {
          if (event) this.notifier.callProgress(next, event, detail);
        });
      }
      throw error;
    }
    if (!stored) {
      // Ended meanwhile by another node, which cleared this one as dead and told the end itself:
      // the call is as that node left it, and nothing is told twice.
      return (await this.store.findCall(call.sid)) ?? { ...call, status: isFinal(call.status) ? call.status : 'completed' };
    }
    if (event) this.notifier.callProgress(next, event, detail);
    return next;
  }

  /**
   * Stores an end the database could not take, once it is back, then `told`; a write refused
   * (the call was ended by a survivor, which told it) tells nothing. A stored end is never
   * undone by a later write (updateCall is conditional).
   */
  private storeLater(call: Call, delayMs: number, told: () => void): void {
    setTimeout(() => {
      this.store.updateCall(call).then(
        (stored) => {
          if (stored) told();
        },
        (error: unknown) => {
          if (error instanceof StoreUnavailableError) this.storeLater(call, Math.min(MAX_RETRY_MS, delayMs * 2), told);
        },
      );
    }, delayMs).unref();
  }
}
