/**
 * A participant dialled by Create Participant moves on as its call does: `ringing`, then
 * `connected` when it answers (that is when it joins and may start the conference).
 */
import { progress } from '../domain/conference-rules.js';
import type { Conference } from '../domain/model.js';
import { applyTransition } from './apply-transition.js';
import type { ServiceContext } from './context.js';
import { lockConferenceOf } from './find-live-conference.js';

async function move(ctx: ServiceContext, accountSid: string, conferenceSid: string, callSid: string, status: 'ringing' | 'connected'): Promise<Conference> {
  const { conference, events } = await ctx.store.transaction(async (tx) => {
    const locked = await lockConferenceOf(tx, accountSid, conferenceSid);
    const transition = progress(locked.conference, locked.participants, callSid, status, ctx.clock.now());
    return { conference: transition.conference, events: await applyTransition(tx, transition) };
  });
  ctx.bus.committed(events);
  return conference;
}

export async function ringParticipant(ctx: ServiceContext, accountSid: string, conferenceSid: string, callSid: string): Promise<void> {
  await move(ctx, accountSid, conferenceSid, callSid, 'ringing');
}

/** Resolves with the conference as the participant's joining left it. */
export function connectParticipant(ctx: ServiceContext, accountSid: string, conferenceSid: string, callSid: string): Promise<Conference> {
  return move(ctx, accountSid, conferenceSid, callSid, 'connected');
}
