/**
 * A call: one leg between Conclave and an endpoint, driven by TwiML. Statuses and directions are
 * Twilio's (twilio-oai `call_enum_status`, Call resource `direction`): `outbound-api` for
 * calls made through the REST API (Calls.create, Create Participant), `inbound` for calls that
 * reach a number, `outbound-dial` for legs a `<Dial>` places.
 */

export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';
export type CallDirection = 'inbound' | 'outbound-api' | 'outbound-dial';
export type HttpMethod = 'GET' | 'POST';

/** The call progress events a `StatusCallbackEvent` may ask for. */
export type CallProgressEvent = 'initiated' | 'ringing' | 'answered' | 'completed';
export const CALL_PROGRESS_EVENTS: readonly CallProgressEvent[] = ['initiated', 'ringing', 'answered', 'completed'];

/** Where a call's TwiML comes from and where its progress is reported. */
export interface CallApplication {
  url: string | null;
  method: HttpMethod;
  fallbackUrl: string | null;
  fallbackMethod: HttpMethod;
  /** Inline TwiML (`Twiml` parameter); ignored when there is a `url`, as in Twilio. */
  twiml: string | null;
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
  statusCallbackEvents: CallProgressEvent[];
}

export interface Call extends CallApplication {
  sid: string;
  accountSid: string;
  parentCallSid: string | null;
  to: string;
  from: string;
  /** The IncomingPhoneNumber an inbound call reached. */
  phoneNumberSid: string | null;
  status: CallStatus;
  direction: CallDirection;
  /** Seconds to let the endpoint ring before giving up (Twilio `Timeout`, 5–600, default 60). */
  timeout: number;
  startTime: number | null;
  endTime: number | null;
  /** Whole seconds between answer and end. */
  duration: number | null;
  queueTime: number;
  /**
   * The node that runs the call — its TwiML and its media (design.md "Several nodes"): changes
   * made through another node become commands to it. Absent on calls stored before nodes were.
   */
  nodeId?: string;
  dateCreated: number;
  dateUpdated: number;
}

const FINAL: ReadonlySet<CallStatus> = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
/** The statuses of a call that has not ended. */
export const LIVE_CALL_STATUSES: readonly CallStatus[] = ['queued', 'ringing', 'in-progress'];

export function isFinal(status: CallStatus): boolean {
  return FINAL.has(status);
}

/**
 * The one-way order of a call's statuses: queued → ringing → in-progress → completed, or an
 * unanswered end (busy, failed, no-answer, canceled) before in-progress.
 */
export function canMove(from: CallStatus, to: CallStatus): boolean {
  if (isFinal(from)) return false;
  switch (to) {
    case 'ringing':
      return from === 'queued';
    case 'in-progress':
      return from === 'queued' || from === 'ringing';
    case 'completed':
      return from === 'in-progress';
    case 'busy':
    case 'no-answer':
    case 'canceled':
      return from === 'queued' || from === 'ringing';
    case 'failed':
      return true;
    default:
      return false;
  }
}
