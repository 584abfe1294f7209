/**
 * Changing a participant's flags: mute, hold, coaching, end-on-exit, beep-on-exit. Pure, like
 * conference-rules.ts. Twilio UpdateParticipant (twilio-oai `UpdateParticipant`): "If true,
 * call_sid_to_coach must be defined"; CallSidToCoach must name a participant of the same
 * conference (the security note in reference/twilio-api.md §6 #10).
 */
import { RuleViolation, TwilioCode } from '../errors.js';
import type { Transition } from './conference-rules.js';
import type { ConferenceEvent, ParticipantEventType } from './events.js';
import type { BeepSetting, Conference, Participant } from './model.js';

export interface ParticipantChange {
  muted?: boolean;
  hold?: boolean;
  coaching?: boolean;
  callSidToCoach?: string;
  endConferenceOnExit?: boolean;
  beepOnExit?: boolean;
  /** A new WaitUrl: nothing stored changes, but Twilio tells it as `participant-modify`. */
  waitUrl?: boolean;
}

/** Checks a coaching request against the conference; returns the resolved pair. */
export function resolveCoaching(
  present: readonly Participant[],
  self: string,
  current: { coaching: boolean; callSidToCoach: string | null },
  change: { coaching?: boolean; callSidToCoach?: string },
): { coaching: boolean; callSidToCoach: string | null } {
  const target = change.callSidToCoach ?? current.callSidToCoach;
  // Twilio: coaching "defaults to false unless call_sid_to_coach is defined".
  const coaching = change.coaching ?? (change.callSidToCoach !== undefined ? true : current.coaching);
  if (!coaching) return { coaching: false, callSidToCoach: null };
  if (!target) {
    throw new RuleViolation(TwilioCode.invalidParameter, 'Invalid CallSidToCoach: Coaching=true requires CallSidToCoach');
  }
  if (target === self) {
    throw new RuleViolation(TwilioCode.invalidParameter, 'Invalid CallSidToCoach: a participant cannot coach itself');
  }
  if (!present.some((p) => p.callSid === target && p.status === 'connected')) {
    throw new RuleViolation(
      TwilioCode.invalidParameter,
      `Invalid CallSidToCoach: ${target} is not a connected participant of this conference`,
    );
  }
  return { coaching: true, callSidToCoach: target };
}

export function beepWithExit(beep: BeepSetting, onExit: boolean): BeepSetting {
  const onEnter = beep === 'true' || beep === 'onEnter';
  if (onEnter) return onExit ? 'true' : 'onEnter';
  return onExit ? 'onExit' : 'false';
}

export function changeParticipant(
  conference: Conference,
  present: readonly Participant[],
  callSid: string,
  change: ParticipantChange,
  now: number,
): Transition {
  const before = present.find((p) => p.callSid === callSid);
  if (!before || before.status !== 'connected') {
    throw new RuleViolation(TwilioCode.invalidCallState, `Participant is not connected ${callSid}`);
  }
  const coaching =
    change.coaching !== undefined || change.callSidToCoach !== undefined
      ? resolveCoaching(present, callSid, before, change)
      : { coaching: before.coaching, callSidToCoach: before.callSidToCoach };
  const after: Participant = {
    ...before,
    muted: change.muted ?? before.muted,
    hold: change.hold ?? before.hold,
    coaching: coaching.coaching,
    callSidToCoach: coaching.callSidToCoach,
    endConferenceOnExit: change.endConferenceOnExit ?? before.endConferenceOnExit,
    beep: change.beepOnExit === undefined ? before.beep : beepWithExit(before.beep, change.beepOnExit),
  };

  const types: ParticipantEventType[] = [];
  if (after.muted !== before.muted) types.push(after.muted ? 'mute' : 'unmute');
  if (after.hold !== before.hold) types.push(after.hold ? 'hold' : 'unhold');
  if (
    after.coaching !== before.coaching ||
    after.callSidToCoach !== before.callSidToCoach ||
    after.endConferenceOnExit !== before.endConferenceOnExit ||
    after.beep !== before.beep ||
    change.waitUrl === true
  ) {
    types.push('modify');
  }
  if (types.length === 0) return { conference, added: [], saved: [], removed: [], events: [] };

  const changed: Participant = { ...after, dateUpdated: now };
  const next: Conference = { ...conference, dateUpdated: now };
  const events: ConferenceEvent[] = types.map((type) => ({ type, at: now, conference: next, participant: changed }));
  return { conference: next, added: [], saved: [changed], removed: [], events };
}
