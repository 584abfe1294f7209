/**
 * UpdateParticipant: mute, hold, coaching, end-on-exit, beep-on-exit — the seed's
 * `POST …/Participants/{CallSid}`. The participant is addressed by call SID or label.
 */
import type { Participant } from '../domain/model.js';
import { changeParticipant, type ParticipantChange } from '../domain/participant-rules.js';
import { ResourceNotFound } from '../errors.js';
import { applyTransition } from './apply-transition.js';
import type { ServiceContext } from './context.js';
import { lockConferenceOf } from './find-live-conference.js';

export interface ParticipantAddress {
  accountSid: string;
  conferenceSid: string;
  /** A call SID or a participant label. */
  participant: string;
}

export async function updateParticipant(ctx: ServiceContext, address: ParticipantAddress, change: ParticipantChange): Promise<Participant> {
  const { participant, events } = await ctx.store.transaction(async (tx) => {
    const { conference, participants } = await lockConferenceOf(tx, address.accountSid, address.conferenceSid);
    const target = findIn(participants, address.participant);
    if (!target) throw new ResourceNotFound(`Participant ${address.participant}`);
    const transition = changeParticipant(conference, participants, target.callSid, change, ctx.clock.now());
    const events = await applyTransition(tx, transition);
    return { participant: transition.saved.find((p) => p.callSid === target.callSid) ?? target, events };
  });
  ctx.bus.committed(events);
  return participant;
}

/** Twilio addresses a participant by call SID or by label; a SID match wins. */
export function findIn(participants: readonly Participant[], callSidOrLabel: string): Participant | undefined {
  return participants.find((p) => p.callSid === callSidOrLabel) ?? participants.find((p) => p.label === callSidOrLabel);
}
