/**
 * UpdateConference with `Status=completed`: the conference ends, every participant is removed,
 * `reason_conference_ended` is `conference-ended-via-api` (twilio-oai `updateEndConference`).
 * Ending an already completed conference changes nothing and answers with it as it is.
 */
import { end } from '../domain/conference-rules.js';
import type { Conference } from '../domain/model.js';
import { applyTransition } from './apply-transition.js';
import type { ServiceContext } from './context.js';
import { lockConferenceOf } from './find-live-conference.js';

export async function endConference(ctx: ServiceContext, accountSid: string, conferenceSid: string): Promise<Conference> {
  const { conference, events } = await ctx.store.transaction(async (tx) => {
    const locked = await lockConferenceOf(tx, accountSid, conferenceSid);
    if (locked.conference.status === 'completed') return { conference: locked.conference, events: [] };
    const transition = end(locked.conference, locked.participants, 'conference-ended-via-api', null, ctx.clock.now());
    return { conference: transition.conference, events: await applyTransition(tx, transition) };
  });
  ctx.bus.committed(events);
  return conference;
}
