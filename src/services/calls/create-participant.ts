/**
 * Create Participant: "Posting to the Participants list with either a ConferenceSid or
 * FriendlyName will initiate an outbound call" (https://www.twilio.com/docs/voice/api/conference-participant-resource).
 * The participant is listed at once as `queued`; it rings, then joins when its call answers,
 * or is removed when the call is not answered. A FriendlyName creates the conference if none
 * of that name is live.
 */
import type { CallProgressEvent } from '../../domain/call.js';
import type { BeepSetting, ConferenceStatusCallback, Participant } from '../../domain/model.js';
import { isSid, newSid } from '../../domain/sids.js';
import { RuleViolation, TwilioCode } from '../../errors.js';
import { joinConference } from '../join-conference.js';
import { getConference } from '../read-conferences.js';
import type { StartCallRecording } from '../recordings/control-recordings.js';
import type { ConferenceRecordingPlan } from '../recordings/live-recordings.js';
import type { CallServiceContext } from './call-service-context.js';
import { callingEndpoint, dialableFor, dialExtras, newOutboundCall } from './create-call.js';

export interface CreateParticipantRequest {
  accountSid: string;
  /** A conference SID, or a FriendlyName. */
  conference: string;
  from: string;
  to: string;
  label: string | null;
  muted: boolean;
  hold: boolean;
  startConferenceOnEnter: boolean;
  endConferenceOnExit: boolean;
  beep: BeepSetting;
  maxParticipants: number;
  coaching: boolean | undefined;
  callSidToCoach: string | undefined;
  timeout: number;
  /** Digest credentials for a `sip:` To that challenges (SipAuthUsername/SipAuthPassword). */
  sipAuth?: { username: string; password: string };
  /** `CallerId`: what the participant's phone is shown instead of `From`. */
  callerId?: string;
  /** `TimeLimit`: seconds from the answer until Conclave hangs up (default four hours). */
  timeLimit?: number;
  statusCallback: string | null;
  statusCallbackMethod: 'GET' | 'POST';
  statusCallbackEvents: CallProgressEvent[] | undefined;
  conferenceStatusCallback: ConferenceStatusCallback | null;
  /** What the participant hears while the conference has not started; `''` is silence. */
  waitUrl?: { url: string; method: 'GET' | 'POST' };
  /** `Record=true`: the participant's call is recorded from its answer to its end, in the conference and out. */
  record?: StartCallRecording;
  /** `ConferenceRecord`: the conference is recorded from its start, if this participant creates it. */
  conferenceRecord?: ConferenceRecordingPlan;
}

export async function createParticipant(ctx: CallServiceContext, request: CreateParticipantRequest): Promise<Participant> {
  const endpoint = await dialableFor(ctx, request.accountSid, request.to);
  callingEndpoint(request.from);
  const extras = dialExtras(request);
  let friendlyName = request.conference;
  if (isSid(request.conference, 'CF')) {
    const conference = await getConference(ctx, request.accountSid, request.conference);
    if (conference.status === 'completed') {
      throw new RuleViolation(TwilioCode.invalidCallState, `Conference ${conference.sid} has ended; use its FriendlyName to start a new one`);
    }
    friendlyName = conference.friendlyName;
  }
  const callSid = newSid('CA');
  const { conference, participant, created } = await joinConference(ctx, {
    accountSid: request.accountSid,
    friendlyName,
    callSid,
    status: 'queued',
    label: request.label,
    muted: request.muted,
    hold: request.hold,
    startConferenceOnEnter: request.startConferenceOnEnter,
    endConferenceOnExit: request.endConferenceOnExit,
    beep: request.beep,
    maxParticipants: request.maxParticipants,
    ...(request.coaching !== undefined ? { coaching: request.coaching } : {}),
    ...(request.callSidToCoach !== undefined ? { callSidToCoach: request.callSidToCoach } : {}),
    conferenceStatusCallback: request.conferenceStatusCallback,
  });
  if (created && request.conferenceRecord) ctx.recordings.planConference(request.accountSid, conference.sid, request.conferenceRecord);
  const dialled = newOutboundCall(
    {
      accountSid: request.accountSid,
      to: request.to,
      from: request.from,
      url: null,
      method: 'POST',
      fallbackUrl: null,
      fallbackMethod: 'POST',
      twiml: null,
      statusCallback: request.statusCallback,
      statusCallbackMethod: request.statusCallbackMethod,
      statusCallbackEvents: request.statusCallbackEvents,
      timeout: request.timeout,
    },
    ctx.clock.now(),
    callSid,
  );
  // Dialled and run by this node, whichever node is the conference's home.
  const call = { ...dialled, nodeId: ctx.node.id };
  await ctx.store.insertCall(call);
  ctx.calls.start(call, endpoint, {
    kind: 'participant',
    accountSid: request.accountSid,
    conferenceSid: conference.sid,
    ...(request.waitUrl ? { waitUrl: request.waitUrl } : {}),
  }, extras);
  // Twilio reports the wait before the call is placed only in this answer; Conclave places at once.
  return { ...participant, queueTime: 0 };
}
