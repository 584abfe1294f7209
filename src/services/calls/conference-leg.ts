/**
 * A call in a conference, from the call's side: it joins (or, dialled by Create Participant,
 * connects), then stays until it leaves — kicked, the conference ended, or the call hung up or
 * was redirected — and says how long it stayed. The participant row is the truth; the call
 * learns that it left from the `leave` events on the bus.
 */
import type { ParticipantEvent } from '../../domain/events.js';
import type { Conference, OwnLeaveReason } from '../../domain/model.js';
import { isParticipantEvent } from '../../domain/events.js';
import type { EventBus } from '../../events/event-bus.js';
import { ResourceNotFound, RuleViolation } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import { connectParticipant } from '../connect-participant.js';
import { joinConference, type JoinRequest } from '../join-conference.js';
import { removeParticipant } from '../remove-participant.js';

export type ConferenceEntry = ({ kind: 'join'; request: JoinRequest } | { kind: 'connect'; accountSid: string; conferenceSid: string }) & {
  /**
   * Told once the call is in, with the conference as its entry left it (to start wait music),
   * and whether this entry created it (its settings are the conference's).
   */
  onJoined?: (conference: Conference, created: boolean) => void;
};

export type StayOutcome = { joined: true; seconds: number } | { joined: false; error: RuleViolation };

/**
 * Why a call's session stopped what it was doing: the reason its signal is aborted with, and the
 * reason its participant leaves (anything else, e.g. shutdown, counts as a hang-up).
 */
export type CallInterruption = Extract<OwnLeaveReason, 'hung-up' | 'hung-up-via-api' | 'redirected-via-api' | 'left-on-star'>;
const INTERRUPTIONS: readonly unknown[] = ['hung-up', 'hung-up-via-api', 'redirected-via-api', 'left-on-star'] satisfies CallInterruption[];

function interruption(signal: AbortSignal): CallInterruption {
  return INTERRUPTIONS.includes(signal.reason) ? (signal.reason as CallInterruption) : 'hung-up';
}

/** Resolves with the first `leave` of `callSid`; `stop()` stops listening. */
function leaveOf(bus: EventBus, callSid: string): { left: Promise<ParticipantEvent>; stop: () => void } {
  let stop = (): void => {};
  const left = new Promise<ParticipantEvent>((resolve) => {
    stop = bus.subscribe((event) => {
      if (event.type === 'leave' && isParticipantEvent(event) && event.participant.callSid === callSid) {
        stop();
        resolve(event);
      }
    });
  });
  return { left, stop };
}

/**
 * `goesOn`: the call has TwiML to run once it is out of the conference (it decides the
 * `ParticipantCallStatus` its leave is told with).
 */
export async function stayInConference(
  ctx: ServiceContext,
  callSid: string,
  entry: ConferenceEntry,
  signal: AbortSignal,
  timeLimitSeconds: number,
  goesOn: boolean,
): Promise<StayOutcome> {
  // Listen before joining: an end-on-exit participant may end the conference at once.
  const { left, stop } = leaveOf(ctx.bus, callSid);
  try {
    return await stay(ctx, callSid, entry, signal, timeLimitSeconds, left, goesOn);
  } finally {
    stop();
  }
}

async function stay(
  ctx: ServiceContext,
  callSid: string,
  entry: ConferenceEntry,
  signal: AbortSignal,
  timeLimitSeconds: number,
  left: Promise<ParticipantEvent>,
  goesOn: boolean,
): Promise<StayOutcome> {
  const since = ctx.clock.now();
  let conferenceSid: string;
  let accountSid: string;
  try {
    let conference: Conference;
    let created = false;
    if (entry.kind === 'join') {
      // Stored with the participant: whichever node removes it tells its ParticipantCallStatus.
      ({ conference, created } = await joinConference(ctx, { ...entry.request, callSid, goesOn }));
      accountSid = entry.request.accountSid;
    } else {
      conference = await connectParticipant(ctx, entry.accountSid, entry.conferenceSid, callSid);
      accountSid = entry.accountSid;
    }
    conferenceSid = conference.sid;
    entry.onJoined?.(conference, created);
  } catch (error) {
    if (error instanceof RuleViolation) return { joined: false, error };
    throw error;
  }

  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'limit'>((resolve) => (timer = setTimeout(() => resolve('limit'), timeLimitSeconds * 1000)));
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const why = await Promise.race([left.then(() => 'left' as const), limit, aborted]);
  clearTimeout(timer);
  if (why !== 'left') {
    try {
      const reason = why === 'limit' ? 'time-limit' : interruption(signal);
      await removeParticipant(ctx, { accountSid, conferenceSid, participant: callSid }, { reason });
    } catch (error) {
      // Already gone (kicked or ended at the same moment): the leave event is on its way.
      if (!(error instanceof ResourceNotFound) && !(error instanceof RuleViolation)) throw error;
    }
  }
  return { joined: true, seconds: Math.floor((ctx.clock.now() - since) / 1000) };
}
