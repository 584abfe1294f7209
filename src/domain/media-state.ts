/**
 * What a participant hears and who hears it, derived from the conference rules — the flags the
 * media plane mixes by. Twilio's `<Conference>` docs: before the conference starts, participants
 * "hear background music" (waitUrl) and are not heard; a held participant hears hold music and
 * is not heard; a muted one hears the room and is not heard; a coach is heard only by the
 * participant it coaches.
 */
import type { Conference, Participant } from './model.js';

export type Hearing = 'conference' | 'wait-music' | 'hold-music' | 'nothing';

export interface MediaState {
  hears: Hearing;
  /** Whether anybody hears this participant. */
  heard: boolean;
  /** When set, only this call hears the participant (coaching). */
  heardOnlyBy: string | null;
}

export function mediaStateOf(conference: Conference, participant: Participant): MediaState {
  if (conference.status === 'completed' || participant.status !== 'connected') {
    return { hears: 'nothing', heard: false, heardOnlyBy: null };
  }
  if (participant.hold) return { hears: 'hold-music', heard: false, heardOnlyBy: null };
  if (conference.status === 'init') return { hears: 'wait-music', heard: false, heardOnlyBy: null };
  return {
    hears: 'conference',
    heard: !participant.muted,
    heardOnlyBy: participant.coaching ? participant.callSidToCoach : null,
  };
}
