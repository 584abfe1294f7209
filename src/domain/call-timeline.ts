/**
 * The timeline of one call as Conclave's own `Calls/{CallSid}/Timeline` resource shows it (not
 * a Twilio resource; Twilio's Console shows the like as a call's "Request Inspector" and
 * Voice Insights events): its status moves, each webhook request made for it with its answer
 * and duration, and each TwiML verb it started. Only the node that runs a call has its
 * timeline; it is kept in memory, a bounded while (services/calls/call-timeline-buffer.ts).
 */

/** Why a webhook was requested. */
export type WebhookPurpose =
  | 'twiml'
  | 'action'
  | 'status-callback'
  | 'conference-status-callback'
  | 'recording-status-callback'
  | 'document';

/** One webhook request as the webhook client saw it end. */
export interface WebhookRequestReport {
  purpose: WebhookPurpose;
  method: 'GET' | 'POST';
  /** As configured, without credentials or GET parameters. */
  url: string;
  /** The call it was made for (its `CallSid` parameter), if any. */
  callSid: string | undefined;
  /** The HTTP status answered, if any. */
  status: number | undefined;
  /** The Twilio error code of a failure (11200, 12300, …), undefined on success. */
  errorCode: number | undefined;
  /** One line saying why it failed, undefined on success. */
  error: string | undefined;
  durationMs: number;
}

/** A TwiML verb as the timeline names it: the verb and its key attributes (text cut short). */
export interface VerbSummary {
  verb: string;
  attributes: Record<string, string>;
}

export type CallTimelineEntry =
  | { time: string; kind: 'status'; status: string; event: string }
  | ({ time: string; kind: 'webhook' } & Omit<WebhookRequestReport, 'callSid'>)
  | ({ time: string; kind: 'verb' } & VerbSummary);

export interface CallTimelineLog {
  /** The call's timeline, oldest first; empty when this node knows none. */
  eventsOf(callSid: string): readonly CallTimelineEntry[];
}
