/**
 * A call joins the conference named `friendlyName` in its account — the `<Dial><Conference>`
 * use case. The conference is created when its first participant joins (at most one live
 * conference per name: the store's unique rule settles a race between two first joiners, and
 * the loser joins the winner's conference). Until calls exist (next issue), tests and tools
 * put participants in through this function.
 */
import { join, MAX_PARTICIPANTS_LIMIT, MIN_PARTICIPANTS_LIMIT } from '../domain/conference-rules.js';
import type { BeepSetting, Conference, ConferenceStatusCallback, Participant, ParticipantStatus } from '../domain/model.js';
import { resolveCoaching } from '../domain/participant-rules.js';
import type { StoreOperations } from '../domain/ports.js';
import { newSid } from '../domain/sids.js';
import { ConflictError, RuleViolation, TwilioCode } from '../errors.js';
import { applyTransition } from './apply-transition.js';
import type { ServiceContext } from './context.js';

export interface JoinRequest {
  accountSid: string;
  friendlyName: string;
  /** The joining call; a new CA SID when absent. */
  callSid?: string;
  label?: string | null;
  status?: ParticipantStatus;
  muted?: boolean;
  hold?: boolean;
  startConferenceOnEnter?: boolean;
  endConferenceOnExit?: boolean;
  beep?: BeepSetting;
  coaching?: boolean;
  callSidToCoach?: string;
  /** Only the first participant's value counts, as in Twilio. */
  maxParticipants?: number;
  /** The call goes on with TwiML once out of the conference (Participant.goesOn). */
  goesOn?: boolean;
  /** Only the first participant's value counts, as in Twilio. */
  conferenceStatusCallback?: ConferenceStatusCallback | null;
  region?: string;
}

export interface JoinResult {
  conference: Conference;
  participant: Participant;
  /** This join created the conference: its settings (callback, recording) are the conference's. */
  created: boolean;
}

const ATTEMPTS = 3;

export async function joinConference(ctx: ServiceContext, request: JoinRequest): Promise<JoinResult> {
  const maxParticipants = request.maxParticipants ?? MAX_PARTICIPANTS_LIMIT;
  if (!Number.isInteger(maxParticipants) || maxParticipants < MIN_PARTICIPANTS_LIMIT || maxParticipants > MAX_PARTICIPANTS_LIMIT) {
    throw new RuleViolation(
      TwilioCode.invalidParameter,
      `Invalid MaxParticipants: must be an integer from ${MIN_PARTICIPANTS_LIMIT} to ${MAX_PARTICIPANTS_LIMIT}`,
    );
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const { result, events } = await ctx.store.transaction(async (tx) => {
        const now = ctx.clock.now();
        const { conference, created } = await liveConference(tx, request, maxParticipants, now, ctx.node.id);
        const present = await tx.listAllParticipants(conference.sid);
        const participant = newParticipant(request, conference, present, now);
        const transition = join(conference, present, participant, now);
        const events = await applyTransition(tx, transition);
        return { result: { conference: transition.conference, participant, created }, events };
      });
      ctx.bus.committed(events);
      return result;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      if (error.subject === 'conference' && attempt < ATTEMPTS) continue;
      throw new RuleViolation(TwilioCode.invalidParameter, conflictMessage(error, request));
    }
  }
}

async function liveConference(tx: StoreOperations, request: JoinRequest, maxParticipants: number, now: number, node: string): Promise<{ conference: Conference; created: boolean }> {
  const existing = await tx.findLiveConferenceByName(request.accountSid, request.friendlyName);
  if (existing) {
    const locked = await tx.lockConference(existing.sid);
    if (locked && locked.status !== 'completed') return { conference: locked, created: false };
  }
  const conference: Conference = {
    sid: newSid('CF'),
    accountSid: request.accountSid,
    friendlyName: request.friendlyName,
    status: 'init',
    region: request.region ?? 'us1',
    maxParticipants,
    reasonConferenceEnded: null,
    callSidEndingConference: null,
    statusCallback: request.conferenceStatusCallback ?? null,
    // Claimed by the node that creates it, in the insert the unique live name settles.
    homeNodeId: node,
    dateCreated: now,
    dateUpdated: now,
  };
  await tx.insertConference(conference);
  return { conference, created: true };
}

function newParticipant(request: JoinRequest, conference: Conference, present: readonly Participant[], now: number): Participant {
  const callSid = request.callSid ?? newSid('CA');
  const coaching =
    request.coaching || request.callSidToCoach !== undefined
      ? resolveCoaching(present, callSid, { coaching: false, callSidToCoach: null }, request)
      : { coaching: false, callSidToCoach: null };
  return {
    callSid,
    conferenceSid: conference.sid,
    accountSid: conference.accountSid,
    label: request.label ?? null,
    status: request.status ?? 'connected',
    muted: request.muted ?? false,
    hold: request.hold ?? false,
    coaching: coaching.coaching,
    callSidToCoach: coaching.callSidToCoach,
    startConferenceOnEnter: request.startConferenceOnEnter ?? true,
    endConferenceOnExit: request.endConferenceOnExit ?? false,
    beep: request.beep ?? 'true',
    queueTime: null,
    ...(request.goesOn ? { goesOn: true } : {}),
    dateCreated: now,
    dateUpdated: now,
  };
}

function conflictMessage(error: ConflictError, request: JoinRequest): string {
  if (error.subject === 'label') return `Invalid Label: ${request.label ?? ''} is already used in this conference`;
  return `Invalid CallSid: call ${request.callSid ?? ''} is already in a conference`;
}
