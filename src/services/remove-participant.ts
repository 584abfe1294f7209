/**
 * A participant leaves: kicked through the API (the seed's DELETE, 204), hung up, moved on, or
 * never answered. When it had endConferenceOnExit, or was the last one, the conference ends and
 * everybody else is removed.
 */
import { leave, type Departure } from '../domain/conference-rules.js';
import type { Participant } from '../domain/model.js';
import { ResourceNotFound } from '../errors.js';
import { applyTransition } from './apply-transition.js';
import type { ServiceContext } from './context.js';
import { lockConferenceOf } from './find-live-conference.js';
import { findIn, type ParticipantAddress } from './update-participant.js';

/** Resolves with the participant as it was before it left. */
export async function removeParticipant(ctx: ServiceContext, address: ParticipantAddress, departure: Departure): Promise<Participant> {
  const { removed, events } = await ctx.store.transaction(async (tx) => {
    const { conference, participants } = await lockConferenceOf(tx, address.accountSid, address.conferenceSid);
    const target = findIn(participants, address.participant);
    if (!target) throw new ResourceNotFound(`Participant ${address.participant}`);
    const transition = leave(conference, participants, target.callSid, departure, ctx.clock.now());
    return { removed: target, events: await applyTransition(tx, transition) };
  });
  ctx.bus.committed(events);
  return removed;
}
