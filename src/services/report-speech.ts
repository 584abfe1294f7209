/**
 * Talk detection from the mixer becomes the conference's `speaker` events: a connected
 * participant that starts or stops talking is told as `participant-speech-start` /
 * `participant-speech-stop` (twilio-api.md §2.6), with the participant as it is now stored.
 * A leg that is not a participant (a call playing TwiML) is not reported.
 */
import type { ServiceContext } from './context.js';
import { tellEvents } from './record-events.js';

export async function reportSpeech(ctx: ServiceContext, callSid: string, talking: boolean): Promise<void> {
  const participant = await ctx.store.findParticipantByCall(callSid);
  if (!participant || participant.status !== 'connected') return;
  const conference = await ctx.store.findConference(participant.accountSid, participant.conferenceSid);
  if (!conference || conference.status !== 'in-progress') return;
  await tellEvents(ctx, [{ type: talking ? 'speech-start' : 'speech-stop', at: ctx.clock.now(), conference, participant }]);
}
