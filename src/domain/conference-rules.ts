/**
 * The rules of a conference, as pure functions of its state (no I/O, no clock, no SIDs made here).
 * Each takes the conference and its present participants and returns what changes and the
 * events that describe it; the services store the changes and publish the events.
 *
 * Sources: Twilio's `<Conference>` noun (startConferenceOnEnter, endConferenceOnExit,
 * maxParticipants) and the Conference resource's `reason_conference_ended` values
 * (twilio-oai `conference_enum_reason_conference_ended`).
 */
import { RuleViolation, TwilioCode } from '../errors.js';
import type { ConferenceEvent } from './events.js';
import type { CallStatus } from './call.js';
import type { Conference, ConferenceEndReason, LeaveReason, OwnLeaveReason, Participant } from './model.js';

export const MAX_PARTICIPANTS_LIMIT = 250;
export const MIN_PARTICIPANTS_LIMIT = 2;

/** The outcome of one rule: the conference after it, participants added, changed and removed, events. */
export interface Transition {
  conference: Conference;
  added: Participant[];
  saved: Participant[];
  removed: Participant[];
  events: ConferenceEvent[];
}

/**
 * Twilio: a conference starts once at least two participants are in it and one of them has
 * startConferenceOnEnter=true ("Conferences will not start until at least two participants join").
 */
export function shouldStart(conference: Conference, participants: readonly Participant[]): boolean {
  if (conference.status !== 'init') return false;
  const connected = participants.filter((p) => p.status === 'connected');
  return connected.length >= 2 && connected.some((p) => p.startConferenceOnEnter);
}

/**
 * A call enters the conference. A connected joiner is told with `join` (and may start the
 * conference); one still being dialled (Create Participant: `queued`, `ringing`) is listed at
 * once but joins — and is told — only when it connects (see `connect`).
 */
export function join(conference: Conference, present: readonly Participant[], joiner: Participant, now: number): Transition {
  if (conference.status === 'completed') {
    throw new RuleViolation(TwilioCode.invalidCallState, `Conference ${conference.sid} has ended`);
  }
  if (present.some((p) => p.callSid === joiner.callSid)) {
    throw new RuleViolation(TwilioCode.invalidCallState, `Call ${joiner.callSid} is already in conference ${conference.sid}`);
  }
  if (present.length >= conference.maxParticipants) {
    throw new RuleViolation(TwilioCode.conferenceFull, `Conference is full: it holds at most ${conference.maxParticipants} participants`);
  }
  const next: Conference = { ...conference, dateUpdated: now };
  if (joiner.status !== 'connected') return { conference: next, added: [joiner], saved: [], removed: [], events: [] };
  return { ...joined(next, [...present, joiner], joiner, now), added: [joiner], saved: [] };
}

/** A dialled participant's call moves on: `ringing`, or `connected`, when it joins for real. */
export function progress(
  conference: Conference,
  present: readonly Participant[],
  callSid: string,
  status: 'ringing' | 'connected',
  now: number,
): Transition {
  const before = present.find((p) => p.callSid === callSid);
  if (!before) throw new RuleViolation(TwilioCode.invalidCallState, `Participant is not in conference ${conference.sid}: ${callSid}`);
  if (before.status === status || before.status === 'connected') return { conference, added: [], saved: [], removed: [], events: [] };
  const after: Participant = { ...before, status, dateUpdated: now };
  const next: Conference = { ...conference, dateUpdated: now };
  if (status === 'ringing') return { conference: next, added: [], saved: [after], removed: [], events: [] };
  const everyone = present.map((p) => (p.callSid === callSid ? after : p));
  return { ...joined(next, everyone, after, now), added: [], saved: [after] };
}

function joined(conference: Conference, everyone: readonly Participant[], joiner: Participant, now: number): Omit<Transition, 'added' | 'saved'> {
  let next = conference;
  const events: ConferenceEvent[] = [{ type: 'join', at: now, conference: next, participant: joiner }];
  if (shouldStart(next, everyone)) {
    next = { ...next, status: 'in-progress' };
    events.push({ type: 'start', at: now, conference: next });
  }
  return { conference: next, removed: [], events: withConference(events, next) };
}

/** Why and how a participant leaves by itself or through a request about it. */
export interface Departure {
  reason: OwnLeaveReason;
  /** The leaver's call status when the caller knows it (an unanswered call: busy, no-answer…). */
  callStatus?: CallStatus;
}

/**
 * The call's status at the moment its participant leaves (Twilio's `ParticipantCallStatus`):
 * a call that hung up is `completed`; one redirected through the API goes on with its new
 * TwiML (`in-progress`); one taken out of the room (kicked, the conference ended, its time
 * limit) goes on when it has more TwiML, else it ends (`completed`).
 */
export function callStatusOnLeaving(reason: LeaveReason, goesOn: boolean): CallStatus {
  switch (reason) {
    case 'hung-up':
    case 'hung-up-via-api':
      return 'completed';
    case 'redirected-via-api':
      return 'in-progress';
    case 'add-failed':
      return 'failed';
    default:
      return goesOn ? 'in-progress' : 'completed';
  }
}

/**
 * A participant leaves: by itself (its call hung up or moved on) or through the API (kicked).
 * A dialled participant that was never answered leaves too (`add-failed`), as Twilio tells it,
 * with its call's final status; one that never connected for any other reason never joined
 * and is only removed.
 */
export function leave(conference: Conference, present: readonly Participant[], callSid: string, departure: Departure, now: number): Transition {
  const leaver = present.find((p) => p.callSid === callSid);
  if (!leaver) throw new RuleViolation(TwilioCode.invalidCallState, `Participant is not connected ${callSid}`);
  const { reason } = departure;
  const rest = present.filter((p) => p.callSid !== callSid);
  const told = leaver.status === 'connected' || reason === 'add-failed';
  const events: ConferenceEvent[] = told
    ? [
        {
          type: 'leave',
          at: now,
          conference,
          participant: { ...leaver, status: leaver.status === 'connected' ? 'complete' : 'failed', dateUpdated: now },
          leaveReason: reason,
          callStatus: departure.callStatus ?? callStatusOnLeaving(reason, leaver.goesOn === true),
        },
      ]
    : [];

  if (leaver.endConferenceOnExit || rest.length === 0) {
    const kicked = reason === 'removed-via-api';
    const endReason: ConferenceEndReason = leaver.endConferenceOnExit
      ? kicked
        ? 'participant-with-end-conference-on-exit-kicked'
        : 'participant-with-end-conference-on-exit-left'
      : kicked
        ? 'last-participant-kicked'
        : 'last-participant-left';
    const ended = end(conference, rest, endReason, leaver, now);
    return {
      conference: ended.conference,
      added: [],
      saved: [],
      removed: [leaver, ...ended.removed],
      events: withConference([...events, ...ended.events], ended.conference),
    };
  }

  // A coach whose coachee left coaches nobody any more.
  const saved: Participant[] = [];
  const next: Conference = { ...conference, dateUpdated: now };
  for (const p of rest) {
    if (p.callSidToCoach === callSid) {
      const changed = { ...p, coaching: false, callSidToCoach: null, dateUpdated: now };
      saved.push(changed);
      events.push({ type: 'modify', at: now, conference: next, participant: changed });
    }
  }
  return { conference: next, added: [], saved, removed: [leaver], events: withConference(events, next) };
}

/**
 * The conference ends: every participant is removed, then `end` is told. `endedBy` is the
 * participant whose leaving ended it (end-on-exit, or the last one); the others leave because
 * of it (`ended-by-moderator`) or because of the API (`conference-ended-via-api`).
 */
export function end(
  conference: Conference,
  present: readonly Participant[],
  reason: ConferenceEndReason,
  endedBy: Participant | null,
  now: number,
): Transition {
  if (conference.status === 'completed') {
    throw new RuleViolation(TwilioCode.invalidCallState, `Conference ${conference.sid} has already ended`);
  }
  const ended: Conference = {
    ...conference,
    status: 'completed',
    reasonConferenceEnded: reason,
    callSidEndingConference: endedBy?.callSid ?? null,
    dateUpdated: now,
  };
  const leaveReason: LeaveReason = reason === 'conference-ended-via-api' ? 'conference-ended-via-api' : 'ended-by-moderator';
  const events: ConferenceEvent[] = present.filter((p) => p.status === 'connected').map((p) => ({
    type: 'leave' as const,
    at: now,
    conference: ended,
    participant: { ...p, status: 'complete' as const, dateUpdated: now },
    leaveReason,
    callStatus: callStatusOnLeaving(leaveReason, p.goesOn === true),
  }));
  events.push({ type: 'end', at: now, conference: ended, ...(endedBy ? { endedBy } : {}) });
  return { conference: ended, added: [], saved: [], removed: [...present], events };
}

function withConference(events: ConferenceEvent[], conference: Conference): ConferenceEvent[] {
  return events.map((e) => ({ ...e, conference }));
}
