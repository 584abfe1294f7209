/**
 * Loads and locks a conference of an account for a change, or says it is not there.
 * A conference of another account is "not found", never "forbidden": its existence is not told.
 */
import type { Conference, Participant } from '../domain/model.js';
import type { StoreOperations } from '../domain/ports.js';
import { ResourceNotFound } from '../errors.js';

export interface LockedConference {
  conference: Conference;
  participants: Participant[];
}

export async function lockConferenceOf(tx: StoreOperations, accountSid: string, conferenceSid: string): Promise<LockedConference> {
  const conference = await tx.lockConference(conferenceSid);
  if (!conference || conference.accountSid !== accountSid) throw new ResourceNotFound(`Conference ${conferenceSid}`);
  const participants = await tx.listAllParticipants(conference.sid);
  return { conference, participants };
}
