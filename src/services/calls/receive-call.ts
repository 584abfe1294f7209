/**
 * A simulated inbound call: a simulated phone (`sim:<name>`) calls a number the account owns,
 * and the number's VoiceUrl decides what happens — the inbound path of a Twilio app, testable
 * before SIP exists. The call rings, its TwiML is fetched, and `<Reject>` leaves it unanswered
 * (https://www.twilio.com/docs/voice/twiml/reject).
 */
import type { Call } from '../../domain/call.js';
import { parseEndpoint } from '../../domain/endpoint.js';
import { newSid } from '../../domain/sids.js';
import { ResourceNotFound, RuleViolation, TwilioCode } from '../../errors.js';
import { routeInbound } from '../phone-numbers.js';
import type { CallServiceContext } from './call-service-context.js';

export async function receiveCall(ctx: CallServiceContext, accountSid: string, from: string, to: string): Promise<Call> {
  const caller = parseEndpoint(from);
  if (typeof caller === 'string' || caller.kind !== 'sim') {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid From: a simulated inbound call comes from a sim: endpoint, not "${from}"`);
  }
  const number = await routeInbound(ctx, to);
  if (!number || number.accountSid !== accountSid) throw new ResourceNotFound(`IncomingPhoneNumber ${to}`);
  if (!number.voiceUrl) {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid To: ${to} has no VoiceUrl, so an inbound call would have no TwiML`);
  }
  const now = ctx.clock.now();
  const call: Call = {
    sid: newSid('CA'),
    accountSid,
    parentCallSid: null,
    to: number.phoneNumber,
    from,
    phoneNumberSid: number.sid,
    status: 'queued',
    direction: 'inbound',
    timeout: 60,
    startTime: null,
    endTime: null,
    duration: null,
    queueTime: 0,
    url: number.voiceUrl,
    method: number.voiceMethod,
    fallbackUrl: number.voiceFallbackUrl,
    fallbackMethod: number.voiceFallbackMethod,
    twiml: null,
    statusCallback: number.statusCallback,
    statusCallbackMethod: number.statusCallbackMethod,
    // A number's StatusCallback is told when the call ends (Twilio sends `completed`).
    statusCallbackEvents: ['completed'],
    dateCreated: now,
    dateUpdated: now,
  };
  await ctx.store.insertCall(call);
  ctx.calls.start(call, caller, { kind: 'url', url: number.voiceUrl, method: number.voiceMethod, fallbackUrl: number.voiceFallbackUrl, fallbackMethod: number.voiceFallbackMethod });
  return call;
}
