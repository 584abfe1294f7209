/**
 * Calls.create: a call from `From` to `To`, driven by `Url` or `Twiml` once answered
 * (https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource). The call is
 * stored `queued` and placed at once; the answer is 201 with the queued call.
 */
import { CALL_PROGRESS_EVENTS, type Call, type CallApplication, type CallProgressEvent } from '../../domain/call.js';
import { parseEndpoint, type Endpoint } from '../../domain/endpoint.js';
import { newSid } from '../../domain/sids.js';
import { RuleViolation, TwilioCode } from '../../errors.js';
import type { CallApplicationSource } from './call-application.js';
import type { StartCallRecording } from '../recordings/control-recordings.js';
import type { CallServiceContext } from './call-service-context.js';

export interface CreateCallRequest extends Omit<CallApplication, 'statusCallbackEvents'> {
  accountSid: string;
  to: string;
  from: string;
  statusCallbackEvents: CallProgressEvent[] | undefined;
  timeout: number;
  /** Digest credentials for a `sip:` To that challenges (SipAuthUsername/SipAuthPassword). */
  sipAuth?: { username: string; password: string };
  /** Keys to send once answered (`SendDigits`), checked at the edge. */
  sendDigits?: string;
  /** `Record=true`: the call is recorded from its answer to its end. */
  record?: StartCallRecording;
}

/** Twilio error codes of the Call resource: 21211 invalid To, 21212 invalid From. */
const INVALID_TO = 21211;
const INVALID_FROM = 21212;

/** The endpoint a call can be placed to now, or a RuleViolation saying why not. */
export function dialableEndpoint(to: string, field = 'To'): Endpoint {
  const endpoint = parseEndpoint(to);
  if (typeof endpoint === 'string') throw new RuleViolation(INVALID_TO, `Invalid '${field}': ${endpoint}`);
  if (endpoint.kind === 'sip' && !/^sip:[^@\s]*@?(\d{1,3}\.){3}\d{1,3}(:\d+)?([;?].*)?$/i.test(to)) {
    throw new RuleViolation(INVALID_TO, `Invalid '${field}': ${to} must name an IPv4 address (sip:user@192.0.2.10:5060); Conclave does not resolve SIP domains`);
  }
  if (endpoint.kind !== 'sim' && endpoint.kind !== 'sip') {
    throw new RuleViolation(INVALID_TO, `Invalid '${field}': Conclave has no carrier to reach ${to}; use a sip: URI or a sim: endpoint (sim:alice, sim:bob;ring=3…)`);
  }
  return endpoint;
}

export function callingEndpoint(from: string): void {
  const endpoint = parseEndpoint(from);
  if (typeof endpoint === 'string') throw new RuleViolation(INVALID_FROM, `Invalid 'From': ${endpoint}`);
}

/** A queued outbound call; `parent` makes it a `<Dial>` child (`outbound-dial`, ParentCallSid). */
export function newOutboundCall(request: Omit<CreateCallRequest, 'sipAuth' | 'sendDigits' | 'record'>, now: number, sid = newSid('CA'), parent?: Call): Call {
  return {
    sid,
    accountSid: request.accountSid,
    parentCallSid: parent?.sid ?? null,
    to: request.to,
    from: request.from,
    phoneNumberSid: null,
    status: 'queued',
    direction: parent ? 'outbound-dial' : 'outbound-api',
    timeout: request.timeout,
    startTime: null,
    endTime: null,
    duration: null,
    queueTime: 0,
    url: request.url,
    method: request.method,
    fallbackUrl: request.fallbackUrl,
    fallbackMethod: request.fallbackMethod,
    twiml: request.twiml,
    statusCallback: request.statusCallback,
    statusCallbackMethod: request.statusCallbackMethod,
    // Twilio: with a StatusCallback and no StatusCallbackEvent, only `completed` is sent.
    statusCallbackEvents: request.statusCallbackEvents ?? ['completed'],
    dateCreated: now,
    dateUpdated: now,
  };
}

export function applicationOf(call: Pick<CallApplication, 'url' | 'method' | 'twiml' | 'fallbackUrl' | 'fallbackMethod'>): CallApplicationSource {
  // Twilio: "If both twiml and url are provided then twiml parameter will be ignored."
  if (call.url !== null) return { kind: 'url', url: call.url, method: call.method, fallbackUrl: call.fallbackUrl, fallbackMethod: call.fallbackMethod };
  if (call.twiml !== null) return { kind: 'twiml', twiml: call.twiml };
  throw new RuleViolation(TwilioCode.invalidParameter, 'Either Url or Twiml is required (Conclave has no ApplicationSid)');
}

export async function createCall(ctx: CallServiceContext, request: CreateCallRequest): Promise<Call> {
  const endpoint = dialableEndpoint(request.to);
  callingEndpoint(request.from);
  const source = applicationOf(request);
  if (request.statusCallbackEvents?.some((e) => !CALL_PROGRESS_EVENTS.includes(e))) {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid StatusCallbackEvent: use ${CALL_PROGRESS_EVENTS.join(', ')}`);
  }
  const call: Call = { ...newOutboundCall(request, ctx.clock.now()), nodeId: ctx.node.id };
  await ctx.store.insertCall(call);
  ctx.calls.start(call, endpoint, source, {
    ...(request.sipAuth ? { sipAuth: request.sipAuth } : {}),
    ...(request.sendDigits ? { sendDigits: request.sendDigits } : {}),
    ...(request.record ? { record: request.record } : {}),
  });
  return call;
}
