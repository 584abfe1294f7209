/**
 * What a change of a conference tells, recorded with the change: inside its transaction the
 * events its status callback subscribes to get the conference's next SequenceNumbers and are
 * queued for sending (the outbox the home node drains: conference-callbacks.ts), and every
 * event goes on the cluster channel, which brings it to every node — this one too — when the
 * transaction commits, in commit order (PostgreSQL; on SQLite the one node publishes it itself:
 * `EventBus.committed`). Nothing of a rolled back change is numbered, queued or told.
 */
import type { ClusterMessage } from '../domain/cluster.js';
import { isCalledBack, type ConferenceEvent } from '../domain/events.js';
import type { StoreOperations } from '../domain/ports.js';
import type { ServiceContext } from './context.js';

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a little room is kept. */
const NOTIFY_LIMIT_BYTES = 7900;

export async function recordEvents(tx: StoreOperations, events: readonly ConferenceEvent[]): Promise<ConferenceEvent[]> {
  if (events.length === 0) return [];
  const told = new Map<string, number>();
  for (const event of events) if (isCalledBack(event)) told.set(event.conference.sid, (told.get(event.conference.sid) ?? 0) + 1);
  const next = new Map<string, number>();
  for (const [conferenceSid, count] of told) next.set(conferenceSid, await tx.takeCallbackSequence(conferenceSid, count));
  const recorded = events.map((event) => {
    const sequence = isCalledBack(event) ? next.get(event.conference.sid) : undefined;
    if (sequence === undefined) return event;
    next.set(event.conference.sid, sequence + 1);
    return { ...event, sequence };
  });
  await tx.insertConferenceCallbacks(
    recorded.flatMap((event) =>
      event.sequence === undefined ? [] : [{ conferenceSid: event.conference.sid, sequenceNumber: event.sequence, payload: JSON.stringify(event) }],
    ),
  );
  await tx.notifyCluster(recorded.map(messageOf));
  return recorded;
}

/**
 * Events that change nothing stored — talk detection, an announcement that played — told from
 * the node where they happened: numbered and queued in a transaction of their own when the
 * conference's callback subscribes to them; otherwise nobody else needs them, and they are
 * published on this node only.
 */
export async function tellEvents(ctx: ServiceContext, events: readonly ConferenceEvent[]): Promise<void> {
  const calledBack = events.filter(isCalledBack);
  const local = events.filter((event) => !isCalledBack(event));
  if (local.length > 0) ctx.bus.publish(local);
  if (calledBack.length === 0) return;
  const recorded = await ctx.store.transaction((tx) => recordEvents(tx, calledBack));
  ctx.bus.committed(recorded);
}

/**
 * The event as the other nodes receive it. The conference's callback settings are for the home
 * node's outbox only, and go first when the message would be too large; a message still too
 * large (very long names and labels) asks the nodes to re-read the conference instead.
 */
function messageOf(event: ConferenceEvent): ClusterMessage {
  const whole: ClusterMessage = { t: 'event', event };
  if (Buffer.byteLength(JSON.stringify(whole)) < NOTIFY_LIMIT_BYTES) return whole;
  const lean: ClusterMessage = { t: 'event', event: { ...event, conference: { ...event.conference, statusCallback: null } } };
  if (Buffer.byteLength(JSON.stringify(lean)) < NOTIFY_LIMIT_BYTES) return lean;
  return { t: 'resync', account: event.conference.accountSid, conference: event.conference.sid };
}
