/**
 * Changing a call through the API (https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource):
 * `Status=canceled` ends a queued or ringing call, `Status=completed` hangs up whatever state it
 * is in, `Url` or `Twiml` redirect a live call to new TwiML, `TimeLimit` gives it a new maximum
 * duration (from its answer).
 */
import { isFinal, type Call, type CallApplication } from '../../domain/call.js';
import type { PageRequest, PageResult } from '../../domain/paging.js';
import type { CallFilter } from '../../domain/ports.js';
import { ResourceNotFound, RuleViolation, TwilioCode } from '../../errors.js';
import { applicationOf } from './create-call.js';
import type { CallServiceContext } from './call-service-context.js';
import { hangupCall, limitCall, redirectCall } from '../cluster/call-commands.js';

export interface CallChange {
  status?: 'canceled' | 'completed';
  application?: Pick<CallApplication, 'url' | 'method' | 'twiml' | 'fallbackUrl' | 'fallbackMethod'>;
  /** `TimeLimit`: the call's new maximum duration in seconds, from its answer. */
  timeLimit?: number;
}

export async function getCall(ctx: CallServiceContext, accountSid: string, callSid: string): Promise<Call> {
  const call = await ctx.store.findCall(callSid, accountSid);
  if (!call) throw new ResourceNotFound(`Call ${callSid}`);
  return call;
}

export function listCalls(ctx: CallServiceContext, filter: CallFilter, page: PageRequest): Promise<PageResult<Call>> {
  return ctx.store.listCalls(filter, page);
}

export async function updateCall(ctx: CallServiceContext, accountSid: string, callSid: string, change: CallChange): Promise<Call> {
  const call = await getCall(ctx, accountSid, callSid);
  if (change.status !== undefined) {
    if (isFinal(call.status)) return call;
    if (change.status === 'canceled' && call.status === 'in-progress') return call; // Twilio: cancel does not hang up an answered call
    const hungUp = await hangupCall(ctx, call);
    // Not hung up by us: the call ended meanwhile (by itself, or by a hang-up through another
    // node that got there first); either way the answer is the call as it ended.
    const after = await getCall(ctx, accountSid, callSid);
    if (!hungUp && !isFinal(after.status)) throw notLiveHere(after);
    return after;
  }
  if (change.timeLimit !== undefined) {
    if (isFinal(call.status)) throw new RuleViolation(TwilioCode.invalidCallState, `Call ${call.sid} is ${call.status}: a TimeLimit is for a live call`);
    if (!(await limitCall(ctx, call, change.timeLimit))) {
      const after = await getCall(ctx, accountSid, callSid);
      if (!isFinal(after.status)) throw notLiveHere(after);
      if (!change.application) return after;
    }
  }
  if (change.application) {
    if (call.status !== 'in-progress' && call.status !== 'ringing' && call.status !== 'queued') {
      throw new RuleViolation(TwilioCode.invalidCallState, 'Call is not in-progress. Cannot redirect.');
    }
    if (!(await redirectCall(ctx, call, applicationOf(change.application)))) {
      // It ended meanwhile: answered as an ended call is.
      const after = await getCall(ctx, accountSid, callSid);
      if (isFinal(after.status)) throw new RuleViolation(TwilioCode.invalidCallState, 'Call is not in-progress. Cannot redirect.');
      throw notLiveHere(after);
    }
  }
  return call;
}

/**
 * DeleteCall: "Delete a Call record from your account. Once the record is deleted, it will no
 * longer appear in the API" (twilio-oai DeleteCall, 204). Only a finished call's record can go:
 * a live call is ended first (`Status=completed`), as Twilio refuses to delete one in progress.
 */
export async function deleteCall(ctx: CallServiceContext, accountSid: string, callSid: string): Promise<void> {
  const call = await getCall(ctx, accountSid, callSid);
  if (!isFinal(call.status)) {
    throw new RuleViolation(TwilioCode.invalidCallState, `Call ${call.sid} is ${call.status}: only a finished call can be deleted; end it first with Status=completed`);
  }
  await ctx.store.deleteCall(call.sid);
}

/** The stored call says live, but no node runs it (it ended at that very moment). */
function notLiveHere(call: Call): RuleViolation {
  return new RuleViolation(TwilioCode.invalidCallState, `Call ${call.sid} is ${call.status} but no node runs it any more`);
}
