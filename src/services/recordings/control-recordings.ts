/**
 * Starting and changing recordings through the REST API: `POST /Calls/{CallSid}/Recordings`
 * (start one mid-call) and `POST …/Recordings/{Sid|Twilio.CURRENT}` with `Status=paused|
 * in-progress|stopped` and `PauseBehavior` (twilio-oai CreateCallRecording,
 * UpdateCallRecording, UpdateConferenceRecording). The recording runs on the node that has
 * the call's leg or the conference's room; a change made through another node reaches it as
 * a node command.
 */
import type { PauseBehavior, Recording, RecordingCallback, RecordingTrack } from '../../domain/recording.js';
import type { RecordingServiceContext } from './recording-service-context.js';

export interface StartCallRecording {
  channels: 1 | 2;
  track: RecordingTrack;
  trim: boolean;
  statusCallback: RecordingCallback | null;
}

/** Which recordings `Twilio.CURRENT` and a SID are looked up among. */
export type RecordingScope = { callSid: string } | { conferenceSid: string };

export interface RecordingChange {
  status: 'paused' | 'in-progress' | 'stopped';
  /** With `paused`; default `silence`. */
  pauseBehavior?: PauseBehavior;
}

/** Starts recording a live call (source `StartCallRecordingAPI`); 404 when the call is not found, 400 (21220) when it is not in progress. */
export async function startCallRecording(ctx: RecordingServiceContext, accountSid: string, callSid: string, request: StartCallRecording): Promise<Recording> {
  return ctx.recordings.startCallRecording(accountSid, callSid, request);
}

/**
 * Pauses, resumes or stops a recording of the call or conference: by SID, or `Twilio.CURRENT`
 * for the one in progress (or paused). 404 (20404) when there is none.
 */
export async function updateRecording(ctx: RecordingServiceContext, accountSid: string, scope: RecordingScope, sid: string, change: RecordingChange): Promise<Recording> {
  return ctx.recordings.update(accountSid, scope, sid, change);
}
