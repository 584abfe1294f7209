/**
 * What drives an answered call: TwiML fetched from a URL, inline TwiML, or — for a call made by
 * Create Participant — joining the conference participant that was created for it.
 */
import type { HttpMethod } from '../../domain/call.js';
import type { DialReport, GatherReport, RecordReport } from '../../domain/call-ports.js';

export type CallApplicationSource =
  | { kind: 'url'; url: string; method: HttpMethod; fallbackUrl: string | null; fallbackMethod: HttpMethod; dial?: DialReport; gather?: GatherReport; record?: RecordReport; params?: Record<string, string> }
  | { kind: 'twiml'; twiml: string }
  | { kind: 'participant'; accountSid: string; conferenceSid: string; waitUrl?: { url: string; method: HttpMethod } };

/** The current document once more (an empty `<Redirect/>`): fetched again from its URL with `method`, or the same inline TwiML. */
export function documentAgain(document: CallApplicationSource, method: HttpMethod): CallApplicationSource {
  if (document.kind !== 'url') return document;
  return { kind: 'url', url: document.url, method, fallbackUrl: null, fallbackMethod: 'POST' };
}
