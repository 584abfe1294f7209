/**
 * Conference status callbacks: each conference event, if the conference's callback subscribed
 * to it, is posted in order per conference with Twilio's parameters
 * (https://www.twilio.com/docs/voice/twiml/conference "statusCallback", and
 * https://www.twilio.com/docs/voice/api/conference-resource): `StatusCallbackEvent` is
 * `conference-start`, `conference-end`, `participant-join`, `participant-leave`,
 * `participant-mute`/`-unmute` (subscribed as `mute`), `participant-hold`/`-unhold` (as `hold`),
 * `participant-modify`, `announcement-end`/`-fail` (as `announcement`, with `AnnounceUrl`), or
 * `participant-speech-start`/`-stop` (as `speaker`); `SequenceNumber` counts the callbacks of
 * the conference from 1, one series in the store whichever node made the change. A
 * participant's events carry its flags and label; `participant-leave` adds
 * `ReasonParticipantLeft` and `ParticipantCallStatus`; `conference-end` adds
 * `ReasonConferenceEnded`, `Reason` and, when a participant ended it, `CallSidEndingConference`
 * and `ParticipantLabelEndingConference`.
 */
import type { ConferenceEvent } from '../domain/events.js';
import type { ConferenceNotifier } from '../domain/call-ports.js';
import type { Conference, LeaveReason, Participant } from '../domain/model.js';
import { rfc2822 } from './call-webhooks.js';
import type { SignedCallbacks } from './signed-callbacks.js';

/** Twilio's `ReasonParticipantLeft` values (Conference noun docs, changelog 2023-10-25). */
const REASON_LEFT: Record<LeaveReason, string> = {
  'hung-up': 'participant_hung_up',
  'time-limit': 'participant_hung_up',
  'left-on-star': 'participant_hung_up',
  'hung-up-via-api': 'participant_updated_via_api',
  'redirected-via-api': 'participant_updated_via_api',
  'removed-via-api': 'participant_updated_via_api',
  'add-failed': 'participant_add_failed',
  'conference-ended-via-api': 'conference_ended_via_api',
  'ended-by-moderator': 'moderator_ended_conference',
};

/**
 * `Reason` on `conference-end`: "a message indicating why the conference ended". Twilio's
 * wording is free text; the end-on-exit sentence is the one seen in Twilio's own payloads, the
 * others are Conclave's in the same style.
 */
function endMessage(conference: Conference, endedBy: Participant | undefined): string | undefined {
  const who = endedBy ? `Participant ${endedBy.callSid}` : 'Participant';
  switch (conference.reasonConferenceEnded) {
    case 'conference-ended-via-api':
      return 'Conference ended via API';
    case 'participant-with-end-conference-on-exit-left':
      return `${who} with endConferenceOnExit left the conference`;
    case 'participant-with-end-conference-on-exit-kicked':
      return `${who} with endConferenceOnExit was removed from the conference`;
    case 'last-participant-left':
      return `Last participant${endedBy ? ` ${endedBy.callSid}` : ''} left the conference`;
    case 'last-participant-kicked':
      return `Last participant${endedBy ? ` ${endedBy.callSid}` : ''} was removed from the conference`;
    default:
      return undefined;
  }
}

/** The parameters Twilio sends about one participant. */
function participantParams(p: Participant): Record<string, string> {
  return {
    CallSid: p.callSid,
    Muted: String(p.muted),
    Hold: String(p.hold),
    Coaching: String(p.coaching),
    EndConferenceOnExit: String(p.endConferenceOnExit),
    StartConferenceOnEnter: String(p.startConferenceOnEnter),
    ...(p.label !== null ? { ParticipantLabel: p.label } : {}),
    ...(p.callSidToCoach !== null ? { CallSidToCoach: p.callSidToCoach } : {}),
  };
}

function callbackEventName(event: ConferenceEvent): string {
  if (event.type === 'announcement') return `announcement-${event.outcome}`;
  if (event.type === 'start' || event.type === 'end') return `conference-${event.type}`;
  return `participant-${event.type}`;
}

export class ConferenceWebhooks implements ConferenceNotifier {
  constructor(private readonly callbacks: SignedCallbacks) {}

  /**
   * Posts one event, already numbered (`event.sequence`): the conference's home node calls this
   * for each callback it takes from the outbox, in number order (services/conference-callbacks.ts).
   */
  conferenceEvent(event: ConferenceEvent): void {
    const callback = event.conference.statusCallback;
    if (!callback || event.sequence === undefined) return;
    const { conference } = event;
    this.callbacks.send(conference.sid, conference.accountSid, callback.url, callback.method, conferenceEventParams(event), 'conference-status-callback');
  }
}

/**
 * The parameters Twilio's conference status callback carries for the event (the live event
 * stream sends the same); `SequenceNumber` only when the event was numbered for a callback.
 */
export function conferenceEventParams(event: ConferenceEvent): Record<string, string> {
  const { conference } = event;
  const params: Record<string, string> = {
    AccountSid: conference.accountSid,
    ConferenceSid: conference.sid,
    FriendlyName: conference.friendlyName,
    StatusCallbackEvent: callbackEventName(event),
    ...(event.sequence !== undefined ? { SequenceNumber: String(event.sequence) } : {}),
    Timestamp: rfc2822(event.at),
  };
  if (event.type === 'announcement') {
    params.AnnounceUrl = event.url;
    // An announcement to one participant carries that participant, as its other events do.
    if (event.listener) Object.assign(params, participantParams(event.listener));
    else if (event.callSid) params.CallSid = event.callSid;
    if (event.reason) params.ReasonAnnouncementFailed = event.reason;
  }
  if ('participant' in event) {
    Object.assign(params, participantParams(event.participant));
    if (event.leaveReason) params.ReasonParticipantLeft = REASON_LEFT[event.leaveReason];
    if (event.callStatus) params.ParticipantCallStatus = event.callStatus;
  }
  if (event.type === 'end') {
    if (conference.reasonConferenceEnded) params.ReasonConferenceEnded = conference.reasonConferenceEnded;
    const reason = endMessage(conference, event.endedBy);
    if (reason) params.Reason = reason;
    if (conference.callSidEndingConference) params.CallSidEndingConference = conference.callSidEndingConference;
    if (event.endedBy?.label) params.ParticipantLabelEndingConference = event.endedBy.label;
  }
  return params;
}
