/**
 * Starting and changing recordings through the REST API: `POST /Calls/{CallSid}/Recordings`
 * (start one mid-call) and `POST …/Recordings/{Sid|Twilio.CURRENT}` with `Status=paused|
 * in-progress|stopped` and `PauseBehavior` (twilio-oai CreateCallRecording,
 * UpdateCallRecording, UpdateConferenceRecording). A recording runs on the node that has the
 * call's leg or the conference's room; a request that reached another node goes to that one as
 * a node command (issue 11: a change made anywhere takes effect where the call is), and its
 * answer — the recording, or Twilio's 404 or 400 — comes back as if it had been made here.
 */
import { ResourceNotFound, RuleViolation, TwilioCode } from '../../errors.js';
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

const KIND = { start: 'recording.start', update: 'recording.update' } as const;

/** A command's answer: the recording, or the refusal the REST API gives. */
type Answer = { recording: Recording } | { refused: { notFound: boolean; code: number; message: string } };


/** What this node does when another asks. */
export function handleRecordingCommands(ctx: RecordingServiceContext): void {
  ctx.commands.handle(KIND.start, (p) => {
    const { accountSid, callSid, request } = p as { accountSid: string; callSid: string; request: StartCallRecording };
    return answer(() => ctx.recordings.startCallRecording(accountSid, callSid, request));
  });
  ctx.commands.handle(KIND.update, (p) => {
    const { accountSid, scope, sid, change } = p as { accountSid: string; scope: RecordingScope; sid: string; change: RecordingChange };
    return answer(() => ctx.recordings.update(accountSid, scope, sid, change));
  });
}

/** Starts recording a live call (source `StartCallRecordingAPI`) on the node that runs it; 404 when the call is not found, 400 (21220) when it is not in progress. */
export async function startCallRecording(ctx: RecordingServiceContext, accountSid: string, callSid: string, request: StartCallRecording): Promise<Recording> {
  const call = await ctx.store.findCall(callSid, accountSid);
  const owner = call?.nodeId ?? ctx.node.id;
  if (owner === ctx.node.id) return ctx.recordings.startCallRecording(accountSid, callSid, request);
  return unwrap(await ctx.commands.request<Answer>(owner, KIND.start, { accountSid, callSid, request }));
}

/**
 * Pauses, resumes or stops a recording of the call or conference: by SID, or `Twilio.CURRENT`
 * for the one in progress (or paused). 404 (20404) when there is none.
 */
export async function updateRecording(ctx: RecordingServiceContext, accountSid: string, scope: RecordingScope, sid: string, change: RecordingChange): Promise<Recording> {
  const owner = await recordingNode(ctx, accountSid, scope, sid);
  if (owner === undefined || owner === ctx.node.id) return ctx.recordings.update(accountSid, scope, sid, change);
  return unwrap(await ctx.commands.request<Answer>(owner, KIND.update, { accountSid, scope, sid, change }));
}

/** The node of the scope's live recording (of that SID, or the newest for `Twilio.CURRENT`), as the store has it. */
async function recordingNode(ctx: RecordingServiceContext, accountSid: string, scope: RecordingScope, sid: string): Promise<string | undefined> {
  if (!ctx.node.clustered) return undefined;
  const filter = 'callSid' in scope ? { accountSid, callSid: scope.callSid } : { accountSid, conferenceSid: scope.conferenceSid, callSid: null };
  const { items } = await ctx.store.listRecordings(filter, { pageSize: 50, page: 0 });
  const live = items.find((r) => (sid === 'Twilio.CURRENT' || r.sid === sid) && (r.status === 'in-progress' || r.status === 'paused'));
  return live?.nodeId ?? undefined;
}

async function answer(work: () => Promise<Recording>): Promise<Answer> {
  try {
    return { recording: await work() };
  } catch (error) {
    if (error instanceof ResourceNotFound) return { refused: { notFound: true, code: TwilioCode.notFound, message: error.message } };
    if (error instanceof RuleViolation) return { refused: { notFound: false, code: error.code, message: error.message } };
    throw error;
  }
}

function unwrap(reply: Answer): Recording {
  if ('recording' in reply) return reply.recording;
  const { notFound, code, message } = reply.refused;
  // ResourceNotFound adds its own ' was not found'.
  throw notFound ? new ResourceNotFound(message.replace(/ was not found$/, '')) : new RuleViolation(code, message);
}
