/**
 * The records Conclave keeps, in the program's own spelling (camelCase, epoch milliseconds).
 * Twilio's spellings are produced from these only at the HTTP edge.
 */

export type AccountStatus = 'active' | 'suspended' | 'closed';

export interface Account {
  sid: string;
  /** The account that owns this one; an owner account owns itself, as in Twilio. */
  ownerAccountSid: string;
  friendlyName: string;
  authToken: string;
  status: AccountStatus;
  dateCreated: number;
  dateUpdated: number;
}

export interface ApiKey {
  sid: string;
  accountSid: string;
  friendlyName: string;
  /** SHA-256 of the secret, hex: what API requests are checked against. */
  secretHash: string;
  /**
   * The secret sealed with AES-256-GCM under a cluster secret (services/sealed-secrets.ts): an
   * Access Token's HMAC can only be checked with the secret itself. Absent for keys made before
   * Access Tokens were supported.
   */
  sealedSecret?: string;
  dateCreated: number;
  dateUpdated: number;
}

export type ConferenceStatus = 'init' | 'in-progress' | 'completed';

export type ConferenceEndReason =
  | 'conference-ended-via-api'
  | 'participant-with-end-conference-on-exit-left'
  | 'participant-with-end-conference-on-exit-kicked'
  | 'last-participant-kicked'
  | 'last-participant-left';

export interface Conference {
  sid: string;
  accountSid: string;
  friendlyName: string;
  status: ConferenceStatus;
  region: string;
  /** Capacity, set by the first participant (2–250, default 250). */
  maxParticipants: number;
  reasonConferenceEnded: ConferenceEndReason | null;
  callSidEndingConference: string | null;
  /** Where conference events go; set by the first participant, as Twilio does ("the first participant wins"). */
  statusCallback: ConferenceStatusCallback | null;
  /**
   * The node whose media room is the conference's, claimed by the node that created it
   * (several nodes on PostgreSQL); calls on other nodes reach that room through a trunk, and the
   * home node sends the conference's callbacks. Never part of Twilio's representation.
   */
  homeNodeId?: string;
  dateCreated: number;
  dateUpdated: number;
}

/** The conference events a status callback may subscribe to (TwiML `statusCallbackEvent`). */
export type ConferenceCallbackEvent = 'start' | 'end' | 'join' | 'leave' | 'mute' | 'hold' | 'modify' | 'speaker' | 'announcement';
export const CONFERENCE_CALLBACK_EVENTS: readonly ConferenceCallbackEvent[] = ['start', 'end', 'join', 'leave', 'mute', 'hold', 'modify', 'speaker', 'announcement'];

export interface ConferenceStatusCallback {
  url: string;
  method: 'GET' | 'POST';
  events: ConferenceCallbackEvent[];
}

export type ParticipantStatus = 'queued' | 'connecting' | 'ringing' | 'connected' | 'complete' | 'failed';

export interface Participant {
  callSid: string;
  conferenceSid: string;
  accountSid: string;
  label: string | null;
  status: ParticipantStatus;
  muted: boolean;
  hold: boolean;
  coaching: boolean;
  callSidToCoach: string | null;
  startConferenceOnEnter: boolean;
  endConferenceOnExit: boolean;
  /** When to beep: Twilio's `beep` attribute (`true`, `false`, `onEnter`, `onExit`). */
  beep: BeepSetting;
  /** Milliseconds the call waited before being placed; only reported on create. */
  queueTime: number | null;
  /**
   * Whether the call goes on with TwiML once out of the conference (a `<Dial><Conference>` with
   * an `action` or more verbs after it) rather than ending there: it decides the
   * `ParticipantCallStatus` its leave is told with, by whichever node removes it.
   */
  goesOn?: boolean;
  dateCreated: number;
  dateUpdated: number;
}

export type BeepSetting = 'true' | 'false' | 'onEnter' | 'onExit';

/**
 * Why a participant left, in the program's spelling; the conference callback turns it into
 * Twilio's `ReasonParticipantLeft` (https://www.twilio.com/docs/voice/twiml/conference
 * "statusCallback" parameters, Twilio changelog 2023-10-25):
 * - `hung-up`: its call ended (the phone hung up, it was cut off) — `participant_hung_up`;
 * - `time-limit`: the `<Dial timeLimit>` ran out — Twilio documents no value for it; the
 *   closest, `participant_hung_up`;
 * - `left-on-star`: the caller pressed `*` in a `<Dial hangupOnStar="true">` — Twilio documents
 *   no value for it; the closest, `participant_hung_up` (the caller left by its own hand);
 * - `hung-up-via-api`, `redirected-via-api`: its call was updated through the Calls API
 *   (`Status=completed`, new `Url`/`Twiml`) — `participant_updated_via_api`;
 * - `removed-via-api`: DELETE of the participant (a kick) — `participant_updated_via_api`;
 * - `add-failed`: a Create Participant call that was never answered — `participant_add_failed`;
 * - `conference-ended-via-api`: the conference was ended through the API — `conference_ended_via_api`;
 * - `ended-by-moderator`: a participant with `endConferenceOnExit` left or was removed —
 *   `moderator_ended_conference`.
 */
export type LeaveReason =
  | 'hung-up'
  | 'time-limit'
  | 'left-on-star'
  | 'hung-up-via-api'
  | 'redirected-via-api'
  | 'removed-via-api'
  | 'add-failed'
  | 'conference-ended-via-api'
  | 'ended-by-moderator';

/** The reasons a participant leaves by itself or through a request about it, not because the conference ended. */
export type OwnLeaveReason = Exclude<LeaveReason, 'conference-ended-via-api' | 'ended-by-moderator'>;
