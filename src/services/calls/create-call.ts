/**
 * Calls.create: a call from `From` to `To`, driven by `Url` or `Twiml` once answered
 * (https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource). The call is
 * stored `queued` and placed at once; the answer is 201 with the queued call.
 */
import { isIPv4 } from 'node:net';
import { CALL_PROGRESS_EVENTS, type Call, type CallApplication, type CallProgressEvent } from '../../domain/call.js';
import { parseEndpoint, type Endpoint } from '../../domain/endpoint.js';
import { newSid } from '../../domain/sids.js';
import { RuleViolation, TwilioCode } from '../../errors.js';
import type { CallApplicationSource } from './call-application.js';
import type { StartCallRecording } from '../recordings/control-recordings.js';
import { routeInbound } from '../phone-numbers.js';
import type { CallServiceContext } from './call-service-context.js';
import type { CallExtras } from './call-session.js';

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
  /** `CallerId`: what the called party is shown instead of `From` (a number through the trunk). */
  callerId?: string;
  /** `TimeLimit`: seconds from the answer until Conclave hangs up (default four hours). */
  timeLimit?: number;
  /**
   * `ApplicationSid`: an Application of the account handles the call — its voice URLs and
   * status callback replace `Url`, `Method`, `FallbackUrl`, `StatusCallback` and their methods
   * ("If an `application_sid` parameter is present, this parameter is ignored", twilio-oai CreateCall).
   */
  applicationSid?: string;
}

/** Twilio error codes of the Call resource: 21211 invalid To, 21212 invalid From. */
const INVALID_TO = 21211;
const INVALID_FROM = 21212;

/** `sip:` or `sips:` then the userinfo (up to the last `@`, RFC 3261 §19.1.1), the host, a port, parameters or headers. */
const SIP_URI = /^sips?:(?:([^\s]*)@)?([^@:;?\s]*)(?::(\d{1,5}))?([;?][^\s]*)?$/i;
/** RFC 3261 §25.1 `hostname`: labels of letters, digits and inner hyphens, the last starting with a letter; 253 characters at most (RFC 1035 §2.3.4). */
const DNS_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/i;

/**
 * Why a `sip:` To cannot be dialled, or undefined when it can: an IPv4 address or a host name
 * (looked up in DNS as RFC 3263 says when the call is placed), with an optional port.
 */
function sipUriProblem(to: string): string | undefined {
  const trimmed = to.trim();
  const m = SIP_URI.exec(trimmed);
  const host = m?.[2] ?? '';
  if (!m || host === '') return `${to} is not a SIP URI; write sip:user@host[:port], the host an IPv4 address or a DNS name (sip:bob@192.0.2.10:5060, sip:bob@pbx.example.com)`;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return `${to} has port ${m[3]}; a port is 1 to 65535`;
  if (/^[\d.]+$/.test(host) ? !isIPv4(host) : host.length > 254 || !DNS_NAME.test(host)) {
    return `${to} has host "${host}", which is neither an IPv4 address nor a valid DNS name (letters, digits and hyphens in dot-separated labels)`;
  }
  return undefined;
}

/**
 * The endpoint a call can be placed to now, or a RuleViolation saying why not. An E.164 number
 * goes out through the carrier trunk when this node has one (`reachesNumbers`).
 */
export function dialableEndpoint(to: string, reachesNumbers: boolean, field = 'To'): Endpoint {
  const endpoint = parseEndpoint(to);
  if (typeof endpoint === 'string') throw new RuleViolation(INVALID_TO, `Invalid '${field}': ${endpoint}`);
  const sipProblem = endpoint.kind === 'sip' ? sipUriProblem(to) : undefined;
  if (sipProblem !== undefined) throw new RuleViolation(INVALID_TO, `Invalid '${field}': ${sipProblem}`);
  if (endpoint.kind === 'number' && !reachesNumbers) {
    throw new RuleViolation(INVALID_TO, `Invalid '${field}': Conclave has no carrier trunk to reach ${to} (set CONCLAVE_SIP_TRUNK); use a sip: URI or a sim: endpoint (sim:alice, sim:bob;ring=3…)`);
  }
  if (endpoint.kind === 'client' && !/^[^\s?&]+(?:\?\S*)?$/.test(endpoint.identity)) {
    throw new RuleViolation(INVALID_TO, `Invalid '${field}': ${to} names no client identity; write client:<identity> (client:alice), optionally with custom parameters (client:alice?ticket=42)`);
  }
  return endpoint;
}

/**
 * `dialableEndpoint` for a call of `accountSid`. A number of the account itself goes out through
 * the carrier trunk like any other (the carrier delivers it back in, as Twilio's network does);
 * without a trunk the refusal says how to try that number's VoiceUrl instead (SimulatedCalls).
 */
export async function dialableFor(ctx: CallServiceContext, accountSid: string, to: string): Promise<Endpoint> {
  const reachesNumbers = ctx.calls.reachesNumbers();
  if (!reachesNumbers && (await routeInbound(ctx, to.trim()))?.accountSid === accountSid) {
    throw new RuleViolation(
      INVALID_TO,
      `Invalid 'To': Conclave has no carrier trunk to reach ${to} (set CONCLAVE_SIP_TRUNK); it is a number of this account: to run its VoiceUrl, POST /2010-04-01/Accounts/${accountSid}/SimulatedCalls with From=sim:<name> and To=${to}`,
    );
  }
  return dialableEndpoint(to, reachesNumbers);
}

export function callingEndpoint(from: string, field = 'From'): void {
  const endpoint = parseEndpoint(from);
  if (typeof endpoint === 'string') throw new RuleViolation(INVALID_FROM, `Invalid '${field}': ${endpoint}`);
}

/** What a placed call carries besides its row: CallerId and TimeLimit (checked here), credentials, keys, recording. */
export function dialExtras(request: Pick<CreateCallRequest, 'sipAuth' | 'sendDigits' | 'record' | 'callerId' | 'timeLimit'>): CallExtras {
  if (request.callerId !== undefined) callingEndpoint(request.callerId, 'CallerId');
  return {
    ...(request.sipAuth ? { sipAuth: request.sipAuth } : {}),
    ...(request.sendDigits ? { sendDigits: request.sendDigits } : {}),
    ...(request.record ? { record: request.record } : {}),
    ...(request.callerId !== undefined ? { callerId: request.callerId } : {}),
    ...(request.timeLimit !== undefined ? { timeLimitSeconds: request.timeLimit } : {}),
  };
}

/** A queued outbound call; `parent` makes it a `<Dial>` child (`outbound-dial`, ParentCallSid). */
export function newOutboundCall(request: Omit<CreateCallRequest, 'sipAuth' | 'sendDigits' | 'record' | 'callerId' | 'timeLimit'>, now: number, sid = newSid('CA'), parent?: Call): Call {
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
  throw new RuleViolation(TwilioCode.invalidParameter, 'Either Url, Twiml or ApplicationSid is required');
}

/** Twilio error 21218 "Invalid ApplicationSid". */
const INVALID_APPLICATION = 21218;

/** The request with the named Application's voice settings in place of its own (see `applicationSid`). */
async function withApplication(ctx: CallServiceContext, request: CreateCallRequest): Promise<CreateCallRequest> {
  if (request.applicationSid === undefined) return request;
  const application = await ctx.store.findApplication(request.applicationSid);
  if (application?.accountSid !== request.accountSid) {
    throw new RuleViolation(INVALID_APPLICATION, `Invalid ApplicationSid: ${request.applicationSid} is not an Application of account ${request.accountSid}`);
  }
  if (application.voiceUrl === null) throw new RuleViolation(INVALID_APPLICATION, `Application ${application.sid} has no VoiceUrl to handle the call`);
  return {
    ...request,
    url: application.voiceUrl,
    method: application.voiceMethod,
    fallbackUrl: application.voiceFallbackUrl,
    fallbackMethod: application.voiceFallbackMethod,
    twiml: null,
    statusCallback: application.statusCallback,
    statusCallbackMethod: application.statusCallbackMethod,
  };
}

export async function createCall(ctx: CallServiceContext, given: CreateCallRequest): Promise<Call> {
  const request = await withApplication(ctx, given);
  const endpoint = await dialableFor(ctx, request.accountSid, request.to);
  callingEndpoint(request.from);
  const extras = dialExtras(request);
  const source = applicationOf(request);
  if (request.statusCallbackEvents?.some((e) => !CALL_PROGRESS_EVENTS.includes(e))) {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid StatusCallbackEvent: use ${CALL_PROGRESS_EVENTS.join(', ')}`);
  }
  const call: Call = { ...newOutboundCall(request, ctx.clock.now()), nodeId: ctx.node.id };
  await ctx.store.insertCall(call);
  ctx.calls.start(call, endpoint, source, extras);
  return call;
}
