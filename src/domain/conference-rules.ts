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
import type { Conference, ConferenceEndReason, LeaveReason, Participant } from './model.js';

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

/** A participant leaves by itself (hang-up) or is kicked through the API. */
export function leave(
  conference: Conference,
  present: readonly Participant[],
  callSid: string,
  reason: Exclude<LeaveReason, 'conference-ended'>,
  now: number,
): Transition {
  const leaver = present.find((p) => p.callSid === callSid);
  if (!leaver) throw new RuleViolation(TwilioCode.invalidCallState, `Participant is not connected ${callSid}`);
  const rest = present.filter((p) => p.callSid !== callSid);
  // One that never connected (a dialled participant that did not answer) never joined: no `leave`.
  const events: ConferenceEvent[] =
    leaver.status === 'connected'
      ? [{ type: 'leave', at: now, conference, participant: { ...leaver, status: 'complete', dateUpdated: now }, leaveReason: reason }]
      : [];

  if (leaver.endConferenceOnExit || rest.length === 0) {
    const endReason: ConferenceEndReason = leaver.endConferenceOnExit
      ? reason === 'kicked'
        ? 'participant-with-end-conference-on-exit-kicked'
        : 'participant-with-end-conference-on-exit-left'
      : reason === 'kicked'
        ? 'last-participant-kicked'
        : 'last-participant-left';
    const ended = end(conference, rest, endReason, callSid, now);
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

/** The conference ends: every participant is removed, then `end` is told. */
export function end(
  conference: Conference,
  present: readonly Participant[],
  reason: ConferenceEndReason,
  callSidEndingConference: string | null,
  now: number,
): Transition {
  if (conference.status === 'completed') {
    throw new RuleViolation(TwilioCode.invalidCallState, `Conference ${conference.sid} has already ended`);
  }
  const ended: Conference = {
    ...conference,
    status: 'completed',
    reasonConferenceEnded: reason,
    callSidEndingConference,
    dateUpdated: now,
  };
  const events: ConferenceEvent[] = present.filter((p) => p.status === 'connected').map((p) => ({
    type: 'leave' as const,
    at: now,
    conference: ended,
    participant: { ...p, status: 'complete' as const, dateUpdated: now },
    leaveReason: 'conference-ended' as const,
  }));
  events.push({ type: 'end', at: now, conference: ended });
  return { conference: ended, added: [], saved: [], removed: [...present], events };
}

function withConference(events: ConferenceEvent[], conference: Conference): ConferenceEvent[] {
  return events.map((e) => ({ ...e, conference }));
}
