/**
 * A TwiML Application (twilio-oai `api.v2010.account.application`): a named set of webhook URLs
 * that says how to answer a call, kept apart from any number so that several numbers — and the
 * calls a browser places under an Access Token's `outgoingApplicationSid` — can share it
 * (https://www.twilio.com/docs/usage/api/applications). Conclave is voice only: the SMS fields
 * are kept and shown as given, and nothing ever requests them.
 */
import type { HttpMethod } from './call.js';

export interface Application {
  /** `AP` + 32 hex digits. */
  sid: string;
  accountSid: string;
  friendlyName: string;
  /** The API version the application's TwiML sessions are started with: always `2010-04-01` here. */
  apiVersion: string;
  voiceUrl: string | null;
  voiceMethod: HttpMethod;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: HttpMethod;
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
  /** Twilio's CNAM lookup; there is no CNAM database here, so it changes nothing. */
  voiceCallerIdLookup: boolean;
  smsUrl: string | null;
  smsMethod: HttpMethod;
  smsFallbackUrl: string | null;
  smsFallbackMethod: HttpMethod;
  smsStatusCallback: string | null;
  messageStatusCallback: string | null;
  /** Whether other accounts may `<Dial><Application>` it; kept, not enforced (no such noun here). */
  publicApplicationConnectEnabled: boolean;
  dateCreated: number;
  dateUpdated: number;
}

export interface ApplicationFilter {
  /** Exact match, as Twilio's list filter. */
  friendlyName?: string;
}
