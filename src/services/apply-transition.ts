/**
 * Stores what a conference rule decided, inside the caller's transaction. The events are
 * returned for publishing once the transaction has committed, never before: a listener must
 * never see a change that was rolled back.
 */
import type { Transition } from '../domain/conference-rules.js';
import type { ConferenceEvent } from '../domain/events.js';
import type { StoreOperations } from '../domain/ports.js';

export async function applyTransition(tx: StoreOperations, transition: Transition): Promise<ConferenceEvent[]> {
  if (transition.events.length === 0) return [];
  for (const removed of transition.removed) await tx.deleteParticipant(removed.conferenceSid, removed.callSid);
  for (const added of transition.added) await tx.insertParticipant(added);
  for (const saved of transition.saved) await tx.updateParticipant(saved);
  await tx.updateConference(transition.conference);
  return transition.events;
}
