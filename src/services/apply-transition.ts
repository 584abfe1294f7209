/**
 * Stores what a conference rule decided, inside the caller's transaction, with what it tells
 * (record-events.ts: callbacks numbered and queued, events on the cluster channel). The events
 * are returned for `EventBus.committed` once the transaction has committed, never before: a
 * listener must never see a change that was rolled back.
 */
import type { Transition } from '../domain/conference-rules.js';
import type { ConferenceEvent } from '../domain/events.js';
import type { StoreOperations } from '../domain/ports.js';
import { recordEvents } from './record-events.js';

export async function applyTransition(tx: StoreOperations, transition: Transition): Promise<ConferenceEvent[]> {
  const { added, saved, removed, events } = transition;
  if (added.length + saved.length + removed.length + events.length === 0) return [];
  for (const p of removed) await tx.deleteParticipant(p.conferenceSid, p.callSid);
  for (const p of added) await tx.insertParticipant(p);
  for (const p of saved) await tx.updateParticipant(p);
  await tx.updateConference(transition.conference);
  return recordEvents(tx, events);
}
