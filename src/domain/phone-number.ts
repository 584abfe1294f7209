/**
 * A number an account owns (Twilio's IncomingPhoneNumber): it decides which TwiML an inbound
 * call to it gets (twilio-oai `api.v2010.account.incoming_phone_number`, the voice fields).
 */
import type { HttpMethod } from './call.js';

export interface PhoneNumber {
  sid: string;
  accountSid: string;
  /** E.164, e.g. `+15005550006`. Unique across the deployment: inbound calls are routed by it. */
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: HttpMethod;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: HttpMethod;
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
  /**
   * The Application (AP…) whose voice URLs, methods and status callback answer the number's
   * calls; while set, the number's own are ignored (Twilio's `VoiceApplicationSid`).
   */
  voiceApplicationSid: string | null;
  dateCreated: number;
  dateUpdated: number;
}

const E164 = /^\+[1-9]\d{1,14}$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}
