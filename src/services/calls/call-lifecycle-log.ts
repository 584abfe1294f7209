/**
 * One info line per step of a call's life, for the person reading the log (issue 15 §4):
 * created, ringing, answered, ended (status, why, how long), and its conference moves — joined,
 * left (why) — with the conference's start and end. Every line carries `callSid` and/or
 * `conferenceSid`, so `grep CA…` follows one call. Calls are logged by the node that runs them
 * (a tap on its CallNotifier, which every status move passes through, call-status.ts);
 * conference lines by each node that sees the event on its bus.
 */
import type { Call, CallProgressEvent } from '../../domain/call.js';
import type { CallNotifier, ProgressDetail } from '../../domain/call-ports.js';
import { isParticipantEvent, type ConferenceEvent } from '../../domain/events.js';
import type { CallLogger } from './call-runtime.js';

/** `notifier` as it was, with every progress event logged first. */
export function loggedCallProgress<N extends CallNotifier>(notifier: N, logger: CallLogger): N {
  const tapped = Object.create(notifier) as N;
  tapped.callProgress = (call: Call, event: CallProgressEvent, detail?: ProgressDetail): void => {
    logCallProgress(logger, call, event, detail);
    notifier.callProgress(call, event, detail);
  };
  return tapped;
}

export function logCallProgress(logger: CallLogger, call: Call, event: CallProgressEvent, detail?: ProgressDetail): void {
  const about = { callSid: call.sid, ...(call.parentCallSid ? { parentCallSid: call.parentCallSid } : {}), status: call.status };
  const sip = detail?.sipResponseCode === undefined ? '' : ` (SIP ${detail.sipResponseCode})`;
  if (event === 'initiated') {
    logger.info({ ...about, direction: call.direction, from: call.from, to: call.to }, `call ${call.sid} created: ${call.direction} from ${call.from} to ${call.to}`);
  } else if (event === 'ringing') {
    logger.info(about, `call ${call.sid} ringing${sip}`);
  } else if (event === 'answered') {
    logger.info(about, `call ${call.sid} answered`);
  } else {
    const duration = call.duration ?? 0;
    logger.info(
      { ...about, duration, ...(detail?.sipResponseCode === undefined ? {} : { sipResponseCode: detail.sipResponseCode }) },
      `call ${call.sid} ended: ${call.status}${sip} after ${duration} s`,
    );
  }
}

/** The conference lines of one bus event; speech, mute and hold changes are not life steps and are left to debug. */
export function logConferenceEvent(logger: CallLogger & { debug?(obj: object, msg: string): void }, event: ConferenceEvent): void {
  const { conference } = event;
  const about = { conferenceSid: conference.sid, friendlyName: conference.friendlyName };
  const name = `conference ${conference.sid} "${conference.friendlyName}"`;
  if (event.type === 'announcement') return;
  if (!isParticipantEvent(event)) {
    if (event.type === 'start') logger.info(about, `${name} started`);
    else logger.info({ ...about, reason: conference.reasonConferenceEnded }, `${name} ended: ${conference.reasonConferenceEnded ?? 'ended'}`);
    return;
  }
  const { callSid } = event.participant;
  if (event.type === 'join') logger.info({ ...about, callSid }, `call ${callSid} joined ${name}`);
  else if (event.type === 'leave') logger.info({ ...about, callSid, reason: event.leaveReason }, `call ${callSid} left ${name}: ${event.leaveReason ?? 'left'}`);
  else logger.debug?.({ ...about, callSid }, `call ${callSid} in ${name}: ${event.type}`);
}
