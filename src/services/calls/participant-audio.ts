/**
 * UpdateParticipant and UpdateConference with their audio parameters: `Hold=true` plays the
 * participant's `HoldUrl` (HoldMethod default GET), `AnnounceUrl` plays to the participant or to
 * the whole conference (AnnounceMethod default POST), `WaitUrl` replaces the wait music of a
 * participant whose conference has not started and is told as `participant-modify` (twilio-oai
 * UpdateParticipant, UpdateConference).
 */
import type { Conference, Participant } from '../../domain/model.js';
import type { ParticipantChange } from '../../domain/participant-rules.js';
import { getConference } from '../read-conferences.js';
import { updateParticipant, type ParticipantAddress } from '../update-participant.js';
import type { CallServiceContext } from './call-service-context.js';
import { announce, holdAudio, waitAudio } from '../cluster/call-commands.js';
import type { AudioUrlRequest } from './conference-audio-scheduler.js';

export interface ParticipantAudio {
  holdUrl?: AudioUrlRequest;
  announceUrl?: AudioUrlRequest;
  waitUrl?: AudioUrlRequest;
}

export async function updateParticipantWithAudio(
  ctx: CallServiceContext,
  address: ParticipantAddress,
  change: ParticipantChange,
  audio: ParticipantAudio,
): Promise<Participant> {
  const participant = await updateParticipant(ctx, address, audio.waitUrl ? { ...change, waitUrl: true } : change);
  if (change.hold !== true && !audio.announceUrl && !audio.waitUrl) return participant;
  const conference = await getConference(ctx, address.accountSid, address.conferenceSid);
  // Played by the node that runs the participant's call (a command when that is another node).
  if (change.hold === true) await holdAudio(ctx, conference, participant.callSid, audio.holdUrl);
  if (audio.announceUrl) await announce(ctx, conference, audio.announceUrl, participant);
  if (audio.waitUrl && conference.status === 'init') await waitAudio(ctx, conference, participant.callSid, audio.waitUrl);
  return participant;
}

/** Played by the conference's home node, into its room, which every node's calls hear. */
export async function announceToConference(ctx: CallServiceContext, conference: Conference, announceUrl: AudioUrlRequest): Promise<void> {
  if (conference.status !== 'completed') await announce(ctx, conference, announceUrl);
}
