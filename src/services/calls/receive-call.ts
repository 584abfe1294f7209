/**
 * Inbound calls: a phone calls a number the account owns, and the number's VoiceUrl (or that of
 * the Application it names) decides what happens — the inbound path of a Twilio app. The caller is a simulated phone
 * (`sim:<name>`, through the API or `conclave call`) or a SIP phone whose INVITE names the
 * number (`sip:+15005550006@conclave` or without the `+`). The call rings, its TwiML is
 * fetched, and `<Reject>` leaves it unanswered (https://www.twilio.com/docs/voice/twiml/reject).
 */
import type { Call } from '../../domain/call.js';
import type { InboundLeg } from '../../domain/call-ports.js';
import { parseEndpoint, type Endpoint } from '../../domain/endpoint.js';
import { isE164, type PhoneNumber } from '../../domain/phone-number.js';
import type { SipDomain } from '../../domain/sip-domain.js';
import { newSid } from '../../domain/sids.js';
import { ApiError, RuleViolation, TwilioCode } from '../../errors.js';
import { routeInbound, voiceAnswerOf, type VoiceAnswer } from '../phone-numbers.js';
import type { CallServiceContext } from './call-service-context.js';

export async function receiveCall(ctx: CallServiceContext, accountSid: string, from: string, to: string): Promise<Call> {
  const caller = parseEndpoint(from);
  if (typeof caller === 'string' || caller.kind !== 'sim') {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid From: a simulated inbound call comes from a sim: endpoint, not "${from}"`);
  }
  const number = await routeInbound(ctx, to);
  if (!number || number.accountSid !== accountSid) throw unregisteredNumber(accountSid, to);
  const answer = await voiceAnswerOf(ctx, number);
  if (!answer.url) {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid To: ${to} has no VoiceUrl, so an inbound call would have no TwiML`);
  }
  return startInbound(ctx, number, { ...answer, url: answer.url }, from, caller);
}

/**
 * 404 / 20404, as for any resource that is not there, but saying which: the number, not the
 * SimulatedCalls URL (the error handler would name the request path for a ResourceNotFound),
 * and how to register it.
 */
function unregisteredNumber(accountSid: string, to: string): ApiError {
  const numbers = `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json`;
  const message = isE164(to)
    ? `${to} is not one of the IncomingPhoneNumbers of account ${accountSid}; register it first: POST ${numbers} with PhoneNumber=${to} and VoiceUrl=<the URL of your TwiML>`
    : `${to} is not an E.164 number (a + and up to 15 digits, e.g. +15005550006), so it is not one of the IncomingPhoneNumbers of account ${accountSid} (${numbers})`;
  return new ApiError(404, TwilioCode.notFound, message);
}

/**
 * A SIP INVITE for `user` (a number, `+` optional). Resolves with the call, or undefined when
 * no account owns that number or it has no VoiceUrl (the INVITE gets 404).
 */
export async function receiveSipCall(ctx: CallServiceContext, user: string, from: string, leg: InboundLeg): Promise<Call | undefined> {
  const digits = user.replace(/^\+/, '');
  if (!/^[1-9]\d{1,14}$/.test(digits)) return undefined;
  const number = await routeInbound(ctx, `+${digits}`);
  if (!number) return undefined;
  const answer = await voiceAnswerOf(ctx, number);
  if (!answer.url) return undefined;
  const caller = parseEndpoint(from);
  return startInbound(ctx, number, { ...answer, url: answer.url }, from, typeof caller === 'string' ? { kind: 'sip', uri: from } : caller, leg);
}

/**
 * A call to a SIP Domain that its guard let in: it runs the domain's VoiceUrl, told Twilio's
 * SIP parameters besides the call's (`SipDomain`, `SipDomainSid`, `SipCallId`, `SipSourceIp`,
 * `SipHeader_X-…`; https://www.twilio.com/docs/voice/api/sip-interface#sip-domain-parameters).
 * False when the domain has no VoiceUrl (the INVITE gets 404).
 */
export async function receiveDomainCall(
  ctx: CallServiceContext,
  domain: SipDomain,
  call: { to: string; from: string; leg: InboundLeg; params: Record<string, string> },
): Promise<Call | undefined> {
  if (!domain.voiceUrl) return undefined;
  const inbound = inboundCall(ctx, {
    accountSid: domain.accountSid,
    to: call.to,
    from: call.from,
    phoneNumberSid: null,
    url: domain.voiceUrl,
    method: domain.voiceMethod,
    fallbackUrl: domain.voiceFallbackUrl,
    fallbackMethod: domain.voiceFallbackMethod,
    statusCallback: domain.voiceStatusCallbackUrl,
    statusCallbackMethod: domain.voiceStatusCallbackMethod,
  });
  await ctx.store.insertCall(inbound);
  const source = { kind: 'url' as const, url: domain.voiceUrl, method: domain.voiceMethod, fallbackUrl: domain.voiceFallbackUrl, fallbackMethod: domain.voiceFallbackMethod, params: call.params };
  ctx.calls.start(inbound, { kind: 'sip', uri: call.from }, source, { inbound: call.leg });
  return inbound;
}

async function startInbound(ctx: CallServiceContext, number: PhoneNumber, answer: VoiceAnswer & { url: string }, from: string, caller: Endpoint, leg?: InboundLeg): Promise<Call> {
  const call = inboundCall(ctx, { accountSid: number.accountSid, to: number.phoneNumber, from, phoneNumberSid: number.sid, ...answer });
  await ctx.store.insertCall(call);
  const source = { kind: 'url' as const, url: answer.url, method: answer.method, fallbackUrl: answer.fallbackUrl, fallbackMethod: answer.fallbackMethod };
  ctx.calls.start(call, caller, source, leg ? { inbound: leg } : {});
  return call;
}

/** What differs between inbound calls: whom they reach and the app that answers for it. */
type InboundCallFields = Pick<Call, 'accountSid' | 'to' | 'from' | 'phoneNumberSid' | 'method' | 'fallbackUrl' | 'fallbackMethod' | 'statusCallback' | 'statusCallbackMethod'> & { url: string };

/** A new inbound call, queued on this node; its StatusCallback told when it ends (Twilio sends `completed`). */
export function inboundCall(ctx: CallServiceContext, fields: InboundCallFields): Call {
  const now = ctx.clock.now();
  return {
    sid: newSid('CA'),
    parentCallSid: null,
    status: 'queued',
    direction: 'inbound',
    timeout: 60,
    startTime: null,
    endTime: null,
    duration: null,
    queueTime: 0,
    twiml: null,
    statusCallbackEvents: ['completed'],
    nodeId: ctx.node.id,
    dateCreated: now,
    dateUpdated: now,
    ...fields,
  };
}
