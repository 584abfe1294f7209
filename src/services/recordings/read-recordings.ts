/**
 * Reading and deleting recordings through the API (twilio-oai FetchRecording, ListRecording,
 * DeleteRecording and their Call and Conference twins), and their media as WAV or MP3.
 *
 * - A recording is seen through a call only if it is that call's, and through a conference
 *   only if it is the conference's own (its mix, recorded for no call).
 * - Its media exists once it completed: before that, and when it ended `absent`, the media is
 *   404 / 20404, as Twilio answers until the file exists.
 * - Deleting removes the row, then the media. A recording still being made (in-progress,
 *   paused, stopped or processing) is not deleted: 400 / 21220, stop it first (Status=stopped)
 *   and delete it once it completed — the way a live call is not deleted either. Deleting it
 *   under its writer would leave a file that the recorder goes on writing with no row for it.
 */
import type { PageRequest, PageResult } from '../../domain/paging.js';
import type { RecordingFilter } from '../../domain/ports.js';
import type { RecordingMedia } from '../../domain/recording-ports.js';
import { isLive, type Recording } from '../../domain/recording.js';
import { ResourceNotFound, RuleViolation, TwilioCode } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import type { RecordingScope } from './control-recordings.js';
import type { RecordingServiceContext } from './recording-service-context.js';

/** The recording of the account, seen through the call or conference of `scope` when given; 404 otherwise. */
export async function getRecording(ctx: ServiceContext, accountSid: string, sid: string, scope?: RecordingScope): Promise<Recording> {
  const recording = await ctx.store.findRecording(sid, accountSid);
  if (!recording || (scope && !inScope(recording, scope))) throw new ResourceNotFound(`Recording ${sid}`);
  return recording;
}

function inScope(recording: Recording, scope: RecordingScope): boolean {
  if ('callSid' in scope) return recording.callSid === scope.callSid;
  return recording.conferenceSid === scope.conferenceSid && recording.callSid === null;
}

/** The account's recordings, newest first. */
export function listRecordings(ctx: ServiceContext, filter: RecordingFilter, page: PageRequest): Promise<PageResult<Recording>> {
  return ctx.store.listRecordings(filter, page);
}

/** Recordings of the call or conference of `scope`, which must be the account's (404 otherwise). */
export async function listScopedRecordings(
  ctx: ServiceContext,
  filter: Omit<RecordingFilter, 'callSid' | 'conferenceSid'>,
  scope: RecordingScope,
  page: PageRequest,
): Promise<PageResult<Recording>> {
  if ('callSid' in scope) {
    if (!(await ctx.store.findCall(scope.callSid, filter.accountSid))) throw new ResourceNotFound(`Call ${scope.callSid}`);
    return ctx.store.listRecordings({ ...filter, callSid: scope.callSid }, page);
  }
  if (!(await ctx.store.findConference(filter.accountSid, scope.conferenceSid))) throw new ResourceNotFound(`Conference ${scope.conferenceSid}`);
  return ctx.store.listRecordings({ ...filter, conferenceSid: scope.conferenceSid, callSid: null }, page);
}

export async function deleteRecording(ctx: RecordingServiceContext, accountSid: string, sid: string, scope?: RecordingScope): Promise<void> {
  const recording = await getRecording(ctx, accountSid, sid, scope);
  if (isLive(recording.status)) {
    throw new RuleViolation(
      TwilioCode.invalidCallState,
      `Recording ${sid} is ${recording.status}: only a finished recording can be deleted; stop it first with Status=stopped`,
    );
  }
  // Gone from the API first: a media removal that fails leaves a file nothing serves, never a
  // row whose media is missing.
  if (!(await ctx.store.deleteRecording(sid))) throw new ResourceNotFound(`Recording ${sid}`);
  await ctx.recordingStorage.remove(sid);
}

/** The completed recording's audio as WAV or MP3; 404 while it is not completed or has no media. */
export async function readRecordingMedia(ctx: RecordingServiceContext, accountSid: string, sid: string, format: 'wav' | 'mp3'): Promise<RecordingMedia> {
  const recording = await getRecording(ctx, accountSid, sid);
  if (recording.status !== 'completed') throw new ResourceNotFound(`The media of recording ${sid} (${recording.status})`);
  const media = await ctx.recordingStorage.read(sid, format);
  if (!media) throw new ResourceNotFound(`The media of recording ${sid}`);
  return media;
}
