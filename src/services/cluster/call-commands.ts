/**
 * What only the node that runs a call can do — hang it up, give it new TwiML or a TimeLimit, read what its
 * simulated endpoint heard, play a HoldUrl, WaitUrl or AnnounceUrl to it — asked of that node,
 * whichever node the request reached (node-commands.ts carries it; this node runs it at once).
 * Conference-wide announcements are played by the conference's home node, whose room the
 * other nodes' calls hear through their trunks.
 *
 * A call whose node was declared dead meanwhile is ended here, as its survivor would end it,
 * so that a hang-up through the API answers with the call ended, as Twilio's does.
 */
import { isFinal, type Call } from '../../domain/call.js';
import { isParticipantEvent, type ConferenceEvent } from '../../domain/events.js';
import type { Conference, Participant } from '../../domain/model.js';
import { NodeUnavailableError, ResourceNotFound } from '../../errors.js';
import type { CallApplicationSource } from '../calls/call-application.js';
import type { CallServiceContext } from '../calls/call-service-context.js';
import type { AudioUrlRequest } from '../calls/conference-audio-scheduler.js';

const KIND = {
  hangup: 'call.hangup',
  redirect: 'call.redirect',
  timeLimit: 'call.time-limit',
  recording: 'call.recording',
  hold: 'conference.hold-audio',
  wait: 'conference.wait-audio',
  announce: 'conference.announce',
} as const;

/** The node that runs the call; this one for calls stored before nodes were. */
function ownerOf(ctx: CallServiceContext, call: Pick<Call, 'nodeId'>): string {
  return call.nodeId ?? ctx.node.id;
}

/** What this node does when another asks. */
export function handleCallCommands(ctx: CallServiceContext): void {
  const { commands, calls } = ctx;
  commands.handle(KIND.hangup, async (p) => calls.hangup((p as { callSid: string }).callSid));
  commands.handle(KIND.redirect, async (p) => {
    const { callSid, source } = p as { callSid: string; source: CallApplicationSource };
    return calls.redirect(callSid, source);
  });
  commands.handle(KIND.timeLimit, async (p) => {
    const { callSid, seconds } = p as { callSid: string; seconds: number };
    return calls.limit(callSid, seconds);
  });
  commands.handle(KIND.recording, async (p) => {
    const wav = await calls.recording((p as { callSid: string }).callSid);
    return wav === undefined ? null : Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength).toString('base64');
  });
  commands.handle(KIND.hold, async (p) => {
    const { conference, callSid, url } = p as { conference: Conference; callSid: string; url?: AudioUrlRequest };
    const released = (event: ConferenceEvent): boolean => isParticipantEvent(event) && event.participant.callSid === callSid && (event.type === 'unhold' || event.type === 'leave');
    const stillHeld = async (): Promise<boolean> => (await ctx.store.findParticipantByCall(callSid))?.hold === true;
    if (await unlessOvertaken(ctx, released, stillHeld)) calls.conferenceAudio.hold(conference, callSid, url);
  });
  commands.handle(KIND.wait, async (p) => {
    const { conference, callSid, url } = p as { conference: Conference; callSid: string; url: AudioUrlRequest };
    const over = (event: ConferenceEvent): boolean =>
      event.conference.sid === conference.sid && (event.type === 'start' || event.type === 'end' || (event.type === 'leave' && event.participant.callSid === callSid));
    const stillWaiting = async (): Promise<boolean> =>
      (await ctx.store.findConference(conference.accountSid, conference.sid))?.status === 'init' && (await ctx.store.findParticipantByCall(callSid)) !== undefined;
    if (await unlessOvertaken(ctx, over, stillWaiting)) calls.conferenceAudio.wait(conference, callSid, url);
  });
  commands.handle(KIND.announce, async (p) => {
    const { conference, url, listener } = p as { conference: Conference; url: AudioUrlRequest; listener?: Participant };
    calls.conferenceAudio.announce(conference, url, listener);
  });
}

/**
 * Whether hold or wait music asked for may still start. It is asked for after the change that
 * calls for it has committed, so a change through another node that undoes it (an unhold, the
 * conference starting, the participant leaving) may have reached this node first: the music
 * would then start after the event that stops it, and its HoldUrl or WaitUrl document be
 * fetched over and over for as long as the call lasts. The stored state says whether it was
 * undone before the read; an undoing event heard while reading says it was undone meanwhile;
 * one that comes later stops the music as usual.
 */
async function unlessOvertaken(ctx: CallServiceContext, undoes: (event: ConferenceEvent) => boolean, stillWanted: () => Promise<boolean>): Promise<boolean> {
  let undone = false;
  const stop = ctx.bus.subscribe((event) => {
    if (undoes(event)) undone = true;
  });
  try {
    return (await stillWanted()) && !undone;
  } finally {
    stop();
  }
}

/**
 * Hangs up (or cancels) a live call wherever it runs; resolves once it has ended. False when no
 * node runs it (it ended meanwhile).
 */
export async function hangupCall(ctx: CallServiceContext, call: Call): Promise<boolean> {
  const owner = ownerOf(ctx, call);
  try {
    return await ctx.commands.request<boolean>(owner, KIND.hangup, { callSid: call.sid });
  } catch (error) {
    if (!(error instanceof NodeUnavailableError) || !(await isGone(ctx, owner))) throw error;
    await ctx.calls.endLeftBehind(call);
    return true;
  }
}

/** Ends the call of that SID wherever it runs, if it has not ended (a participant still ringing). */
export async function cancelCall(ctx: CallServiceContext, callSid: string): Promise<void> {
  const call = await ctx.store.findCall(callSid);
  if (call && !isFinal(call.status)) await hangupCall(ctx, call);
}

/** Gives a live call new TwiML wherever it runs; false when no node runs it. */
export async function redirectCall(ctx: CallServiceContext, call: Call, source: CallApplicationSource): Promise<boolean> {
  return ctx.commands.request<boolean>(ownerOf(ctx, call), KIND.redirect, { callSid: call.sid, source });
}

/** Gives a live call a new TimeLimit wherever it runs; false when no node runs it. */
export async function limitCall(ctx: CallServiceContext, call: Call, seconds: number): Promise<boolean> {
  return ctx.commands.request<boolean>(ownerOf(ctx, call), KIND.timeLimit, { callSid: call.sid, seconds });
}

/** What the call's `sim:…;record` endpoint heard, from the node that ran it. */
export async function callRecording(ctx: CallServiceContext, call: Call): Promise<Uint8Array | undefined> {
  const owner = ownerOf(ctx, call);
  if (owner === ctx.node.id) return ctx.calls.recording(call.sid);
  let base64: string | null;
  try {
    base64 = await ctx.commands.request<string | null>(owner, KIND.recording, { callSid: call.sid }, 30_000);
  } catch (error) {
    // The recording was kept in that node's memory, and went with it: gone for good, not for now.
    if (error instanceof NodeUnavailableError && (await isGone(ctx, owner))) {
      throw new ResourceNotFound(`SimulatedAudio of ${call.sid} (its node ${owner} has stopped, and what the call heard went with it)`);
    }
    throw error;
  }
  return base64 === null ? undefined : new Uint8Array(Buffer.from(base64, 'base64'));
}

/** Plays a participant's HoldUrl (or the default music) on the node that runs its call. */
export async function holdAudio(ctx: CallServiceContext, conference: Conference, callSid: string, url: AudioUrlRequest | undefined): Promise<void> {
  await ctx.commands.send(await nodeOfCall(ctx, callSid), KIND.hold, { conference, callSid, ...(url ? { url } : {}) });
}

/** Plays a participant's WaitUrl on the node that runs its call. */
export async function waitAudio(ctx: CallServiceContext, conference: Conference, callSid: string, url: AudioUrlRequest): Promise<void> {
  await ctx.commands.send(await nodeOfCall(ctx, callSid), KIND.wait, { conference, callSid, url });
}

/** An AnnounceUrl, to one participant (on its call's node) or to everyone (on the home node). */
export async function announce(ctx: CallServiceContext, conference: Conference, url: AudioUrlRequest, listener?: Participant): Promise<void> {
  const node = listener ? await nodeOfCall(ctx, listener.callSid) : (conference.homeNodeId ?? ctx.node.id);
  await ctx.commands.send(node, KIND.announce, { conference, url, ...(listener ? { listener } : {}) });
}

async function nodeOfCall(ctx: CallServiceContext, callSid: string): Promise<string> {
  const call = await ctx.store.findCall(callSid);
  return call ? ownerOf(ctx, call) : ctx.node.id;
}

/** Whether the node was declared dead or left (its calls are nobody's now). */
async function isGone(ctx: CallServiceContext, nodeId: string): Promise<boolean> {
  const node = await ctx.store.findNode(nodeId);
  return node === undefined || node.state !== 'live';
}
