/**
 * What drives an answered call: TwiML fetched from a URL, inline TwiML, or — for a call made by
 * Create Participant — joining the conference participant that was created for it.
 */
import type { HttpMethod } from '../../domain/call.js';
import type { DialReport } from '../../domain/call-ports.js';

export type CallApplicationSource =
  | { kind: 'url'; url: string; method: HttpMethod; fallbackUrl: string | null; fallbackMethod: HttpMethod; dial?: DialReport }
  | { kind: 'twiml'; twiml: string }
  | { kind: 'participant'; accountSid: string; conferenceSid: string; waitUrl?: { url: string; method: HttpMethod } };
