/**
 * What happens to a conference, as typed events. The services publish them on the event bus
 * after the change is stored; status callbacks, the live stream and the media plane consume them.
 * The names are Twilio's conference `statusCallbackEvent` values (twilio-oai CreateParticipant
 * `ConferenceStatusCallbackEvent`), with mute/unmute and hold/unhold told apart as Twilio posts them.
 */
import type { CallStatus } from './call.js';
import type { Conference, ConferenceCallbackEvent, LeaveReason, Participant } from './model.js';

/** `speech-start`/`speech-stop`: talk detection in the mixer (subscribed to as `speaker`). */
export type ParticipantEventType = 'join' | 'leave' | 'mute' | 'unmute' | 'hold' | 'unhold' | 'modify' | 'speech-start' | 'speech-stop';
export type ConferenceLifecycleEventType = 'start' | 'end';
export type ConferenceEventType = ParticipantEventType | ConferenceLifecycleEventType | 'announcement';

/** What every event has: its conference, when, and the SequenceNumber of its callback, if told. */
interface EventBase {
  at: number;
  conference: Conference;
  /**
   * The `SequenceNumber` of the callback that tells it, when the conference's callback
   * subscribes to it: numbered in the store, in the transaction of the change, so the numbers
   * are one series per conference whichever node made the change.
   */
  sequence?: number;
}

export interface ParticipantEvent extends EventBase {
  type: ParticipantEventType;
  participant: Participant;
  /** Only on `leave`. */
  leaveReason?: LeaveReason;
  /**
   * Only on `leave`: the participant's call status as it leaves — `in-progress` when the call
   * goes on with more TwiML, else how it ended (Twilio's `ParticipantCallStatus`).
   */
  callStatus?: CallStatus;
}

export interface ConferenceLifecycleEvent extends EventBase {
  type: ConferenceLifecycleEventType;
  /** On `end`: the participant whose leaving ended it, when one did. */
  endedBy?: Participant;
}

/** An AnnounceUrl was played (`end`) or could not be (`fail`), to one participant or to all. */
export interface AnnouncementEvent extends EventBase {
  type: 'announcement';
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

/** The `statusCallbackEvent` value that subscribes to each event (mute and unmute: `mute`…). */
const SUBSCRIPTION: Record<ConferenceEventType, ConferenceCallbackEvent> = {
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

/** Whether the conference's status callback is told this event. */
export function isCalledBack(event: ConferenceEvent): boolean {
  const callback = event.conference.statusCallback;
  return callback !== null && callback.events.includes(SUBSCRIPTION[event.type]);
}
