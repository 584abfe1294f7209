/**
 * A recording: the audio of a conference (its mix) or of a call (what the call says and hears),
 * kept as a WAV file and served as WAV or MP3. Statuses, sources, channels and tracks are
 * Twilio's (twilio-oai `recording_enum_status`, `recording_enum_source`, Call Recording
 * `track`); a recording moves in-progress ⇄ paused → stopped → processing → completed, or ends
 * `absent` (nothing could be kept) with an `errorCode`.
 */
import type { HttpMethod } from './call.js';

export type RecordingStatus = 'in-progress' | 'paused' | 'stopped' | 'processing' | 'completed' | 'absent';

/** What started it (Twilio's `source`). */
export type RecordingSource =
  | 'DialVerb'
  | 'Conference'
  | 'OutboundAPI'
  | 'Trunking'
  | 'RecordVerb'
  | 'StartCallRecordingAPI'
  | 'StartConferenceRecordingAPI';

/** Whose audio a call recording keeps: what the call says, what it hears, or both. */
export type RecordingTrack = 'inbound' | 'outbound' | 'both';

/** The recording status callback events (`recordingStatusCallbackEvent`). */
export type RecordingCallbackEvent = 'in-progress' | 'completed' | 'absent';
export const RECORDING_CALLBACK_EVENTS: readonly RecordingCallbackEvent[] = ['in-progress', 'completed', 'absent'];

/** While paused: `skip` leaves the time out, `silence` keeps it as silence (Twilio's default). */
export type PauseBehavior = 'skip' | 'silence';

export interface RecordingCallback {
  url: string;
  method: HttpMethod;
  /** Default `['completed']`. */
  events: RecordingCallbackEvent[];
}

export interface Recording {
  /** `RE…` */
  sid: string;
  accountSid: string;
  /** The call recorded, or for a conference recording none. */
  callSid: string | null;
  /** The conference recorded (or the conference of a participant's call). */
  conferenceSid: string | null;
  status: RecordingStatus;
  source: RecordingSource;
  /** 1 = mono; 2 = dual (a call: what it says on the first channel, what it hears on the second). */
  channels: 1 | 2;
  track: RecordingTrack;
  /** Trim leading and trailing silence when it completes (`trim-silence`, Twilio's default). */
  trim: boolean;
  pauseBehavior: PauseBehavior;
  /** Epoch ms when it started. */
  startTime: number;
  /** Whole seconds of audio kept; null until it completed. */
  duration: number | null;
  /** Twilio error code when it ended `absent`. */
  errorCode: number | null;
  statusCallback: RecordingCallback | null;
  /** The node that records it (PostgreSQL with several nodes); null on SQLite. */
  nodeId: string | null;
  dateCreated: number;
  dateUpdated: number;
}

/** The statuses of recordings still being made (or finished, not yet completed). */
export const LIVE_RECORDING_STATUSES: readonly RecordingStatus[] = ['in-progress', 'paused', 'stopped', 'processing'];

/** Recordings that are still being made (or finished, not yet completed). */
export function isLive(status: RecordingStatus): boolean {
  return LIVE_RECORDING_STATUSES.includes(status);
}
