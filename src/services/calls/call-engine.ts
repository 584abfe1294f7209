/**
 * The live calls of this node. Each call runs as a CallSession; the engine finds them by SID
 * for hang-up and redirect, and ends them all on shutdown. Calls live on the node that placed
 * or received them (design.md: a call leg belongs to one media node).
 */
import type { Call } from '../../domain/call.js';
import type { AudioPlayer, CallBridge, CallNotifier, ConferenceAudio, DocumentFetcher, EndpointDialer, Keypad, SimulatedRecordings, TwimlSource, VoiceActivity } from '../../domain/call-ports.js';
import { ConferenceAudioScheduler } from './conference-audio-scheduler.js';
import type { Endpoint } from '../../domain/endpoint.js';
import { ResourceNotFound } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import type { LiveRecordings } from '../recordings/live-recordings.js';
import { ringParticipant } from '../connect-participant.js';
import { removeParticipant } from '../remove-participant.js';
import { tellEvents } from '../record-events.js';
import type { CallApplicationSource } from './call-application.js';
import type { CallLogger, CallRuntime } from './call-runtime.js';
import { CallSession, type CallExtras } from './call-session.js';
import { CallStatusKeeper } from './call-status.js';
import { endCallsLeftBehind } from './sweep-orphan-calls.js';

export interface CallEnginePorts {
  dialer: EndpointDialer;
  twiml: TwimlSource;
  audio: AudioPlayer;
  keypad: Keypad;
  voice: VoiceActivity;
  notifier: CallNotifier;
  logger: CallLogger;
  documents: DocumentFetcher;
  conferenceAudio: ConferenceAudio;
  recordings: SimulatedRecordings;
  bridge: CallBridge;
  /** This node's live recordings (Recording resources), not the simulated endpoints' `recordings`. */
  liveRecordings: LiveRecordings;
}

export class CallEngine {
  private readonly sessions = new Map<string, CallSession>();
  private readonly runtime: CallRuntime;
  private readonly notifier: CallNotifier;
  private readonly recordings: SimulatedRecordings;
  /** Hold, wait and announcement audio of conferences. */
  readonly conferenceAudio: ConferenceAudioScheduler;
  private closed = false;
  /** Told each call's final state as its session ends (the metrics). */
  private ended: (call: Call) => void = () => undefined;

  constructor(ctx: ServiceContext, ports: CallEnginePorts) {
    this.conferenceAudio = new ConferenceAudioScheduler(
      ports.documents,
      ports.conferenceAudio,
      ctx.bus,
      (events) => tellEvents(ctx, events),
      ports.logger,
      () => ctx.clock.now(),
    );
    this.runtime = {
      ctx,
      conferenceAudio: this.conferenceAudio,
      dialer: ports.dialer,
      twiml: ports.twiml,
      audio: ports.audio,
      keypad: ports.keypad,
      voice: ports.voice,
      recordings: ports.liveRecordings,
      bridge: ports.bridge,
      notifier: ports.notifier,
      logger: ports.logger,
      status: new CallStatusKeeper(ctx.store, ctx.clock, ports.notifier),
      onRinging: async (call, source) => {
        if (source.kind === 'participant') await ringParticipant(ctx, source.accountSid, source.conferenceSid, call.sid).catch(() => undefined);
      },
      onUnanswered: async (call, source) => {
        if (source.kind !== 'participant') return;
        const address = { accountSid: source.accountSid, conferenceSid: source.conferenceSid, participant: call.sid };
        await removeParticipant(ctx, address, { reason: 'add-failed', callStatus: call.status }).catch(
          (error: unknown) => {
            if (!(error instanceof ResourceNotFound)) ports.logger.warn({ err: error, callSid: call.sid }, 'could not remove an unanswered participant');
          },
        );
      },
    };
    this.notifier = ports.notifier;
    this.recordings = ports.recordings;
  }

  /** What a recording simulated endpoint heard on this call (`sim:…;record`), as a WAV. */
  recording(callSid: string): Promise<Uint8Array | undefined> {
    return this.recordings.recording(callSid);
  }

  /** Starts a stored, queued call: tells `initiated`, then dials (outbound) or rings in (inbound). */
  start(call: Call, endpoint: Endpoint, source: CallApplicationSource, extras: CallExtras = {}): void {
    if (this.closed) throw new Error('the call engine is closed');
    this.notifier.callProgress(call, 'initiated');
    const session = new CallSession(this.runtime, call, endpoint, source, extras);
    this.sessions.set(call.sid, session);
    void session.done.finally(() => {
      this.sessions.delete(call.sid);
      this.ended(session.current);
    });
  }

  /** The calls live on this node now. */
  *liveCalls(): Iterable<Call> {
    for (const session of this.sessions.values()) yield session.current;
  }

  /** `listener` is told each call that ends on this node, with its final status; one listener. */
  onCallEnded(listener: (call: Call) => void): void {
    this.ended = listener;
  }

  /** Whether this node dials E.164 numbers (it has a carrier trunk). */
  reachesNumbers(): boolean {
    return this.runtime.dialer.reachesNumbers();
  }

  /** The live call as this node knows it, if it is live here. */
  live(callSid: string): Call | undefined {
    return this.sessions.get(callSid)?.current;
  }

  /** The REST API hangs up (or cancels) a live call; resolves when it has ended. False when not live here. */
  async hangup(callSid: string): Promise<boolean> {
    const session = this.sessions.get(callSid);
    if (!session) return false;
    session.hangup('hung-up-via-api');
    await session.done;
    return true;
  }

  /** A live call's new TimeLimit (Calls update); false when not live here. */
  limit(callSid: string, seconds: number): boolean {
    const session = this.sessions.get(callSid);
    if (!session) return false;
    session.setTimeLimit(seconds);
    return true;
  }

  redirect(callSid: string, source: CallApplicationSource): boolean {
    const session = this.sessions.get(callSid);
    if (!session) return false;
    session.redirect(source);
    return true;
  }

  /**
   * Ends a call whose node is gone (declared dead, or its run ended without hanging up): its
   * participant leaves, its end is stored and told — once, whoever else tries.
   */
  async endLeftBehind(call: Call): Promise<void> {
    let listed = false;
    await endCallsLeftBehind(this.runtime.ctx, this.notifier, async () => {
      if (listed) return [];
      listed = true;
      return [call];
    });
  }

  /**
   * This node was declared dead by the others, who ended its calls: every session stops now,
   * and what they would write finds the calls ended already (nothing is told twice).
   */
  async fence(): Promise<void> {
    this.conferenceAudio.stopAll();
    for (const session of this.sessions.values()) session.hangup();
    await this.idle();
  }

  /** Resolves when no call is live (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sessions.size > 0) await Promise.all([...this.sessions.values()].map((s) => s.done));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.conferenceAudio.close();
    for (const session of this.sessions.values()) session.hangup();
    await this.idle();
  }
}
