/**
 * Conference status callbacks: each conference event, if the conference's callback subscribed
 * to it, is posted in order per conference with Twilio's parameters
 * (https://www.twilio.com/docs/voice/api/conference-resource#conference-status-callback):
 * `StatusCallbackEvent` is `conference-start`, `conference-end`, `participant-join`,
 * `participant-leave`, `participant-mute`/`-unmute` (subscribed as `mute`),
 * `participant-hold`/`-unhold` (as `hold`), `participant-modify`, or `announcement-end`/`-fail`
 * (as `announcement`, with `AnnounceUrl`), `participant-speech-start`/`-stop` (as `speaker`,
 * twilio-api.md §2.6); `SequenceNumber` counts
 * the callbacks of the conference from 1.
 */
import type { ConferenceEvent } from '../domain/events.js';
import type { ConferenceCallbackEvent } from '../domain/model.js';
import { rfc2822 } from './call-webhooks.js';
import type { SignedCallbacks } from './signed-callbacks.js';

const SUBSCRIPTION: Record<ConferenceEvent['type'], ConferenceCallbackEvent> = {
  start: 'start',
  end: 'end',
  join: 'join',
  leave: 'leave',
  mute: 'mute',
  unmute: 'mute',
  hold: 'hold',
  unhold: 'hold',
  modify: 'modify',
  'speech-start': 'speaker',
  'speech-stop': 'speaker',
  announcement: 'announcement',
};

const REASON_LEFT = { left: 'participant_hung_up', kicked: 'participant_kicked', 'conference-ended': 'conference_ended' } as const;

function callbackEventName(event: ConferenceEvent): string {
  if (event.type === 'announcement') return `announcement-${event.outcome}`;
  if (event.type === 'start' || event.type === 'end') return `conference-${event.type}`;
  return `participant-${event.type}`;
}

export class ConferenceWebhooks {
  private readonly sequence = new Map<string, number>();

  constructor(private readonly callbacks: SignedCallbacks) {}

  /** A bus listener: `bus.subscribe((e) => webhooks.onEvent(e))`. */
  onEvent(event: ConferenceEvent): void {
    const { conference } = event;
    const callback = conference.statusCallback;
    if (!callback || !callback.events.includes(SUBSCRIPTION[event.type])) return;
    const sequenceNumber = (this.sequence.get(conference.sid) ?? 0) + 1;
    this.sequence.set(conference.sid, sequenceNumber);
    if (event.type === 'end') this.sequence.delete(conference.sid);

    const params: Record<string, string> = {
      AccountSid: conference.accountSid,
      ConferenceSid: conference.sid,
      FriendlyName: conference.friendlyName,
      StatusCallbackEvent: callbackEventName(event),
      SequenceNumber: String(sequenceNumber),
      Timestamp: rfc2822(event.at),
    };
    if (event.type === 'announcement') {
      params.AnnounceUrl = event.url;
      if (event.callSid) params.CallSid = event.callSid;
      if (event.reason) params.ReasonAnnouncementFailed = event.reason;
    }
    if ('participant' in event) {
      const p = event.participant;
      Object.assign(params, {
        CallSid: p.callSid,
        Muted: String(p.muted),
        Hold: String(p.hold),
        Coaching: String(p.coaching),
        EndConferenceOnExit: String(p.endConferenceOnExit),
        StartConferenceOnEnter: String(p.startConferenceOnEnter),
        ...(p.label !== null ? { ParticipantLabel: p.label } : {}),
        ...(p.callSidToCoach !== null ? { CallSidToCoach: p.callSidToCoach } : {}),
        ...(event.leaveReason ? { ReasonParticipantLeft: REASON_LEFT[event.leaveReason] } : {}),
      });
    }
    if (event.type === 'end') {
      if (conference.reasonConferenceEnded) params.ReasonConferenceEnded = conference.reasonConferenceEnded;
      if (conference.callSidEndingConference) params.CallSidEndingConference = conference.callSidEndingConference;
    }
    this.callbacks.send(conference.sid, conference.accountSid, callback.url, callback.method, params);
  }
}
