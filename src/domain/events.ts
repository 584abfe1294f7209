/**
 * What happens to a conference, as typed events. The services publish them on the event bus
 * after the change is stored; status callbacks, the live stream and the media plane consume them.
 * The names are Twilio's conference `statusCallbackEvent` values (twilio-oai CreateParticipant
 * `ConferenceStatusCallbackEvent`), with mute/unmute and hold/unhold told apart as Twilio posts them.
 */
import type { CallStatus } from './call.js';
import type { Conference, LeaveReason, Participant } from './model.js';

/** `speech-start`/`speech-stop`: talk detection in the mixer (subscribed to as `speaker`). */
export type ParticipantEventType = 'join' | 'leave' | 'mute' | 'unmute' | 'hold' | 'unhold' | 'modify' | 'speech-start' | 'speech-stop';
export type ConferenceLifecycleEventType = 'start' | 'end';
export type ConferenceEventType = ParticipantEventType | ConferenceLifecycleEventType | 'announcement';

export interface ParticipantEvent {
  type: ParticipantEventType;
  at: number;
  conference: Conference;
  participant: Participant;
  /** Only on `leave`. */
  leaveReason?: LeaveReason;
  /**
   * Only on `leave`: the participant's call status as it leaves — `in-progress` when the call
   * goes on with more TwiML, else how it ended (Twilio's `ParticipantCallStatus`).
   */
  callStatus?: CallStatus;
}

export interface ConferenceLifecycleEvent {
  type: ConferenceLifecycleEventType;
  at: number;
  conference: Conference;
  /** On `end`: the participant whose leaving ended it, when one did. */
  endedBy?: Participant;
}

/** An AnnounceUrl was played (`end`) or could not be (`fail`), to one participant or to all. */
export interface AnnouncementEvent {
  type: 'announcement';
  at: number;
  conference: Conference;
  /** The participant it was played to; absent when played to the whole conference. */
  callSid?: string;
  /** That participant as it was when the announcement was asked for. */
  listener?: Participant;
  outcome: 'end' | 'fail';
  url: string;
  /** Why it failed, when it did. */
  reason?: string;
}

export type ConferenceEvent = ParticipantEvent | ConferenceLifecycleEvent | AnnouncementEvent;

export function isParticipantEvent(event: ConferenceEvent): event is ParticipantEvent {
  return event.type !== 'start' && event.type !== 'end' && event.type !== 'announcement';
}
