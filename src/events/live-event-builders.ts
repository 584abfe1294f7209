/**
 * Builds the events of the live event stream (`GET /Accounts/{AccountSid}/Events`, Conclave's
 * own API): each event's `data:` is the parameters Twilio's callbacks carry for the same
 * happening, in Twilio's spelling, built by the same functions as the callbacks:
 * - `call`: every status move of a call (call status callback parameters, without the
 *   callback's own CallbackSource and SequenceNumber), whether or not the call asked for callbacks;
 * - `conference`: every conference event (the conference status callback's parameters, with
 *   `StatusCallbackEvent`; `SequenceNumber` when the conference's callback subscribed to it);
 * - `recording`: every status a recording moves through (recording status callback parameters);
 * - `gather`: a `<Gather>` ended (CallSid, Digits, FinishedOnKey, as its action request has them).
 */
import type { Call, CallProgressEvent } from '../domain/call.js';
import type { GatherReport, ProgressDetail } from '../domain/call-ports.js';
import type { ConferenceEvent } from '../domain/events.js';
import type { Recording } from '../domain/recording.js';
import { callParams, callProgressParams, rfc2822 } from '../webhooks/call-webhooks.js';
import { conferenceEventParams } from '../webhooks/conference-webhooks.js';
import { recordingParams } from '../webhooks/recording-webhooks.js';
import type { LiveEvent } from '../domain/live-event.js';

export function callLiveEvent(call: Call, event: CallProgressEvent, detail?: ProgressDetail): LiveEvent {
  return { name: 'call', accountSid: call.accountSid, callSid: call.sid, data: callProgressParams(call, event, detail) };
}

export function conferenceLiveEvent(event: ConferenceEvent): LiveEvent {
  const data = conferenceEventParams(event);
  return { name: 'conference', accountSid: event.conference.accountSid, conferenceSid: event.conference.sid, ...(data.CallSid ? { callSid: data.CallSid } : {}), data };
}

export function recordingLiveEvent(recording: Recording, baseUrl: string): LiveEvent {
  return {
    name: 'recording',
    accountSid: recording.accountSid,
    ...(recording.callSid ? { callSid: recording.callSid } : {}),
    ...(recording.conferenceSid ? { conferenceSid: recording.conferenceSid } : {}),
    data: recordingParams(recording, baseUrl),
  };
}

export function gatherLiveEvent(call: Call, report: GatherReport, at: number): LiveEvent {
  return {
    name: 'gather',
    accountSid: call.accountSid,
    callSid: call.sid,
    data: { ...callParams(call), Digits: report.digits, FinishedOnKey: report.finishedOnKey, Timestamp: rfc2822(at) },
  };
}
