/**
 * Moving a call to its next status: the times that go with it (start on answer; end and
 * whole-second duration at the end), the stored record, and the progress event Twilio reports
 * for it (`initiated`, `ringing`, `answered`, `completed` — the last also for busy, no-answer,
 * failed and canceled calls: https://www.twilio.com/docs/voice/api/call-resource#statuscallbackevent).
 */
import { canMove, isFinal, type Call, type CallProgressEvent, type CallStatus } from '../../domain/call.js';
import type { CallNotifier, ProgressDetail } from '../../domain/call-ports.js';
import type { Clock, StoreOperations } from '../../domain/ports.js';

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

  /** Stores the move and tells it (with `detail`, e.g. the SIP response behind it); returns the call as it now is. */
  async move(call: Call, status: CallStatus, detail?: ProgressDetail): Promise<Call> {
    const next = withStatus(call, status, this.clock.now());
    if (next === call) return call;
    await this.store.updateCall(next);
    const event = progressEventOf(status);
    if (event) this.notifier.callProgress(next, event, detail);
    return next;
  }
}
