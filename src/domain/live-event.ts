/**
 * One event of the live event stream (`GET /Accounts/{AccountSid}/Events`, Conclave's own API;
 * built in events/live-event-builders.ts): its SSE `event:` name, the account and the call and
 * conference it concerns (what the stream's filters match), and its `data:` — parameters in
 * Twilio's spelling. Nodes relay them to each other on the cluster channel (cluster.ts).
 */
export type LiveEventName = 'call' | 'conference' | 'recording' | 'gather';

export interface LiveEvent {
  name: LiveEventName;
  accountSid: string;
  /** What `?CallSid=` and `?ConferenceSid=` match. */
  callSid?: string;
  conferenceSid?: string;
  data: Record<string, string>;
}
