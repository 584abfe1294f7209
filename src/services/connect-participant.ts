/**
 * A participant dialled by Create Participant moves on as its call does: `ringing`, then
 * `connected` when it answers (that is when it joins and may start the conference).
 */
import { progress } from '../domain/conference-rules.js';
import { applyTransition } from './apply-transition.js';
import type { ServiceContext } from './context.js';
import { lockConferenceOf } from './find-live-conference.js';

async function move(ctx: ServiceContext, accountSid: string, conferenceSid: string, callSid: string, status: 'ringing' | 'connected'): Promise<void> {
  const events = await ctx.store.transaction(async (tx) => {
    const { conference, participants } = await lockConferenceOf(tx, accountSid, conferenceSid);
    return applyTransition(tx, progress(conference, participants, callSid, status, ctx.clock.now()));
  });
  ctx.bus.publish(events);
}

export function ringParticipant(ctx: ServiceContext, accountSid: string, conferenceSid: string, callSid: string): Promise<void> {
  return move(ctx, accountSid, conferenceSid, callSid, 'ringing');
}

export function connectParticipant(ctx: ServiceContext, accountSid: string, conferenceSid: string, callSid: string): Promise<void> {
  return move(ctx, accountSid, conferenceSid, callSid, 'connected');
}
