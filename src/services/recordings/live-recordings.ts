/**
 * This node's live recordings. Each one taps a conference's room or a call's leg on the media
 * plane (RecorderTaps) and writes what it hands over to a file as it comes (RecordingStorage),
 * so the 20 ms tick never waits on a disk. Its row moves as Twilio's does
 * (https://www.twilio.com/docs/voice/api/recording#recording-status-values): `in-progress`,
 * `paused` and back, then `stopped` → `processing` (the file is finished and, with
 * `trim-silence`, trimmed) → `completed`; or `absent` with an error code when nothing could be
 * kept (the directory unwritable, the disk full: the call goes on, a log line says why).
 * A recording with no audio left after trimming also ends `absent`, as Twilio keeps no empty
 * recordings. Each move is told to the recording's status callback when it subscribed to it.
 *
 * A recording ends with what it records: the conference's end, the call's end (the tap ends
 * when the leg closes), or a REST `Status=stopped`.
 */
import { RuleViolation, ResourceNotFound, TwilioCode } from '../../errors.js';
import type { RecorderTap, RecorderTaps, RecordingSink, RecordingStorage, RecordingTarget } from '../../domain/recording-ports.js';
import { isLive, type PauseBehavior, type Recording, type RecordingCallback, type RecordingSource, type RecordingStatus, type RecordingTrack } from '../../domain/recording.js';
import { newSid } from '../../domain/sids.js';
import type { ServiceContext } from '../context.js';
import type { RecordingChange, RecordingScope, StartCallRecording } from './control-recordings.js';

/** Tells a recording's status callback (webhooks/recording-webhooks.ts). */
export interface RecordingNotifier {
  recordingStatus(recording: Recording): void;
  /** Any other move (paused, resumed, stopped, processing): no callback, the live event stream tells it. */
  recordingMoved?(recording: Recording): void;
}

export interface RecordingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LiveRecordingsPorts {
  taps: RecorderTaps;
  storage: RecordingStorage;
  notifier: RecordingNotifier;
  logger: RecordingLogger;
  /** Whether the call is live on this node (its leg is here). */
  callIsHere(callSid: string): boolean;
}

/** What to record and how. */
export interface RecordingRequest {
  accountSid: string;
  target: RecordingTarget;
  /** The call recorded; with a conference, none. */
  callSid: string | null;
  conferenceSid: string | null;
  source: RecordingSource;
  channels: 1 | 2;
  track: RecordingTrack;
  trim: boolean;
  statusCallback: RecordingCallback | null;
}

/**
 * The `error_code` of a recording that could not be kept (a directory Conclave cannot write, a
 * disk that fills up). Twilio's recording errors are its 16xxx "Voice Recording" family
 * (https://www.twilio.com/docs/api/errors); it documents none for a local disk, so Conclave
 * takes one code of that family and names the cause in its log line.
 */
export const RECORDING_NOT_SAVED = 16107;

/** Recordings handled per recovery or retention pass. */
const LEFTOVER_PAGE = 1000;

class LiveRecording {
  private tap: RecorderTap | undefined;
  private ending: Promise<Recording> | undefined;
  private moving: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly owner: LiveRecordings,
    public row: Recording,
    private readonly sink: RecordingSink,
  ) {}

  get status(): RecordingStatus {
    return this.row.status;
  }

  attach(tap: RecorderTap): void {
    this.tap = tap;
    // The leg or the room closed: the recording ends with it.
    void tap.ended.then(() => this.end());
    void this.sink.failed.then((error) => this.fail(error));
  }

  async pause(behavior: PauseBehavior): Promise<Recording> {
    return this.serially(async () => {
      if (this.row.status === 'paused' || this.ending) return this.row;
      await this.tap?.pause(behavior);
      return this.owner.move(this.row, 'paused', { pauseBehavior: behavior });
    });
  }

  async resume(): Promise<Recording> {
    return this.serially(async () => {
      if (this.row.status !== 'paused' || this.ending) return this.row;
      await this.tap?.resume();
      return this.owner.move(this.row, 'in-progress');
    });
  }

  /** Stops and completes it (or ends it absent); idempotent, resolves with its last state. */
  end(): Promise<Recording> {
    this.ending ??= this.serially(async () => {
      if (!isLive(this.row.status)) return this.row;
      await this.owner.move(this.row, 'stopped');
      await this.tap?.stop();
      await this.owner.move(this.row, 'processing');
      let seconds: number;
      try {
        seconds = await this.sink.finish({ trim: this.row.trim });
      } catch (error) {
        return this.owner.absent(this, error as Error);
      }
      if (seconds <= 0) {
        await this.sink.discard();
        return this.owner.move(this.row, 'absent', { duration: 0 });
      }
      return this.owner.move(this.row, 'completed', { duration: seconds });
    }).finally(() => this.owner.forget(this));
    return this.ending;
  }

  /** A write failed: the tap stops, the file goes, the recording ends absent; the call goes on. */
  private fail(error: Error): void {
    this.ending ??= this.serially(async () => {
      await this.tap?.stop().catch(() => undefined);
      return this.owner.absent(this, error);
    }).finally(() => this.owner.forget(this));
  }

  async discard(): Promise<void> {
    await this.sink.discard();
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.moving.catch(() => undefined).then(step);
    this.moving = next;
    return next;
  }
}

/**
 * How a conference is to be recorded (`<Conference record="record-from-start">`, Create
 * Participant `ConferenceRecord`), as the participant who created it asked: kept on the node of
 * that participant, which is the conference's home and has its whole mix.
 */
export interface ConferenceRecordingPlan {
  trim: boolean;
  statusCallback: RecordingCallback | null;
}

export class LiveRecordings {
  private readonly live = new Map<string, LiveRecording>();
  private readonly plans = new Map<string, ConferenceRecordingPlan & { accountSid: string }>();
  private readonly stopListening: () => void;
  private closed = false;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly ports: LiveRecordingsPorts,
  ) {
    // A planned conference is recorded from its start (wait music before it is not) to its end.
    this.stopListening = ctx.bus.subscribe((event) => {
      if (event.type !== 'start' && event.type !== 'end') return;
      const { sid } = event.conference;
      if (event.type === 'end') {
        this.plans.delete(sid);
        void this.endAll({ conferenceSid: sid });
        return;
      }
      const plan = this.plans.get(sid);
      if (!plan) return;
      this.plans.delete(sid);
      this.start({
        accountSid: plan.accountSid,
        target: { conferenceSid: sid },
        callSid: null,
        conferenceSid: sid,
        source: 'Conference',
        channels: 1,
        track: 'both',
        trim: plan.trim,
        statusCallback: plan.statusCallback,
      }).catch((error: unknown) => this.ports.logger.error({ err: error, conferenceSid: sid }, `could not record conference ${sid}`));
    });
  }

  /** The conference this node created is to be recorded from its start. */
  planConference(accountSid: string, conferenceSid: string, plan: ConferenceRecordingPlan): void {
    if (!this.closed) this.plans.set(conferenceSid, { accountSid, ...plan });
  }

  /**
   * Starts a recording: its file first (an unwritable directory ends it `absent` at once), then
   * its row (`in-progress`, told), then the tap. Rejects only when the target has no media here.
   */
  async start(request: RecordingRequest): Promise<Recording> {
    if (this.closed) throw new RuleViolation(TwilioCode.invalidParameter, 'this node is shutting down');
    const now = this.ctx.clock.now();
    const sid = newSid('RE');
    const row: Recording = {
      sid,
      accountSid: request.accountSid,
      callSid: request.callSid,
      conferenceSid: request.conferenceSid,
      status: 'in-progress',
      source: request.source,
      channels: request.channels,
      track: request.track,
      trim: request.trim,
      pauseBehavior: 'silence',
      startTime: now,
      duration: null,
      errorCode: null,
      statusCallback: request.statusCallback,
      nodeId: this.ctx.node.clustered ? this.ctx.node.id : null,
      dateCreated: now,
      dateUpdated: now,
    };
    let sink: RecordingSink;
    try {
      sink = await this.ports.storage.create(sid, request.channels);
    } catch (error) {
      const absent = { ...row, status: 'absent' as const, errorCode: RECORDING_NOT_SAVED };
      await this.ctx.store.insertRecording(absent);
      this.ports.logger.error({ recordingSid: sid, err: error, ...targetOf(request) }, `recording ${sid} could not start: ${(error as Error).message}; the call goes on unrecorded`);
      this.ports.notifier.recordingStatus(absent);
      return absent;
    }
    await this.ctx.store.insertRecording(row);
    const recording = new LiveRecording(this, row, sink);
    this.live.set(sid, recording);
    let tap: RecorderTap;
    try {
      tap = await this.ports.taps.start(sid, request.target, { channels: request.channels, track: request.track }, (pcm) => sink.append(pcm));
    } catch (error) {
      this.live.delete(sid);
      await recording.discard();
      await this.ctx.store.deleteRecording(sid);
      throw error;
    }
    this.ports.notifier.recordingStatus(row);
    recording.attach(tap);
    this.ports.logger.info({ recordingSid: sid, source: request.source, ...targetOf(request) }, 'recording started');
    return row;
  }

  /** `POST /Calls/{CallSid}/Recordings`: the call must be in progress, and here. */
  async startCallRecording(accountSid: string, callSid: string, request: StartCallRecording): Promise<Recording> {
    const call = await this.ctx.store.findCall(callSid, accountSid);
    if (!call) throw new ResourceNotFound(`Call ${callSid}`);
    if (call.status !== 'in-progress' || !this.ports.callIsHere(callSid)) {
      throw new RuleViolation(TwilioCode.invalidCallState, `Call ${callSid} is not in progress on this node; only a call in progress can be recorded`);
    }
    return this.start({ accountSid, target: { callSid }, callSid, conferenceSid: null, source: 'StartCallRecordingAPI', ...request });
  }

  /** Pauses, resumes or stops one of the scope's recordings (by SID or `Twilio.CURRENT`). */
  async update(accountSid: string, scope: RecordingScope, sid: string, change: RecordingChange): Promise<Recording> {
    const recording = this.find(accountSid, scope, sid);
    if (!recording) {
      const stored = sid === 'Twilio.CURRENT' ? undefined : await this.ctx.store.findRecording(sid, accountSid);
      if (stored && inScope(stored, scope)) {
        throw new RuleViolation(TwilioCode.invalidParameter, `Recording ${sid} is ${stored.status}: only a recording in progress or paused can be changed`);
      }
      throw new ResourceNotFound(`An active recording ${sid === 'Twilio.CURRENT' ? '(Twilio.CURRENT)' : sid} of ${'callSid' in scope ? `call ${scope.callSid}` : `conference ${scope.conferenceSid}`}`);
    }
    switch (change.status) {
      case 'paused':
        return recording.pause(change.pauseBehavior ?? 'silence');
      case 'in-progress':
        return recording.resume();
      case 'stopped':
        return recording.end();
    }
  }

  /** Stops one recording and resolves with how it ended (completed or absent); undefined when it is not live here. */
  async stop(sid: string): Promise<Recording | undefined> {
    return this.live.get(sid)?.end();
  }

  /** Ends every live recording of the target (its conference ended, its call ended). */
  async endAll(target: RecordingTarget): Promise<void> {
    const ending = [...this.live.values()].filter((r) => matches(r.row, target)).map((r) => r.end());
    await Promise.all(ending);
  }

  /**
   * Recordings a process left live when it died (kill -9, a node declared dead): each file is
   * made playable up to where the disk has it, and the recording ends `completed` with that
   * audio — what was said before the crash is kept, as a user would want — or `absent` when the
   * file has none. `gone` says whose recordings these are: on SQLite every live one (the
   * server's previous run), on PostgreSQL those of nodes that are not live.
   */
  async recoverLeftovers(gone: (nodeId: string | null) => boolean): Promise<number> {
    let recovered = 0;
    for (const row of await this.ctx.store.listLiveRecordings(LEFTOVER_PAGE)) {
      if (this.live.has(row.sid) || !gone(row.nodeId)) continue;
      let seconds: number | undefined;
      try {
        seconds = await this.ports.storage.recover(row.sid);
      } catch (error) {
        this.ports.logger.warn({ err: error, recordingSid: row.sid }, `could not recover the file of recording ${row.sid}`);
      }
      const ended: Recording =
        seconds !== undefined && seconds > 0
          ? { ...row, status: 'completed', duration: seconds, dateUpdated: this.ctx.clock.now() }
          : { ...row, status: 'absent', duration: 0, errorCode: RECORDING_NOT_SAVED, dateUpdated: this.ctx.clock.now() };
      if (await this.ctx.store.updateRecording(ended)) {
        recovered++;
        this.ports.notifier.recordingStatus(ended);
        this.ports.logger.warn({ recordingSid: row.sid, status: ended.status, duration: ended.duration }, `recording ${row.sid} was left ${row.status} by a process that stopped abruptly; it ends ${ended.status}`);
      }
    }
    return recovered;
  }

  /** Deletes the recordings (rows and files) created more than `days` ago; 0 = keep for ever. */
  async deleteExpired(days: number): Promise<number> {
    if (days <= 0) return 0;
    const before = this.ctx.clock.now() - days * 86_400_000;
    let deleted = 0;
    for (const row of await this.ctx.store.listRecordingsCreatedBefore(before, LEFTOVER_PAGE)) {
      if (this.live.has(row.sid)) continue;
      await this.ports.storage.remove(row.sid);
      if (await this.ctx.store.deleteRecording(row.sid)) deleted++;
    }
    if (deleted > 0) this.ports.logger.info({ deleted, days }, `deleted ${deleted} recordings older than ${days} days (CONCLAVE_RECORDINGS_RETENTION_DAYS)`);
    return deleted;
  }

  /** Ends every live recording (shutdown): each is completed with what it has. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopListening();
    this.plans.clear();
    await Promise.all([...this.live.values()].map((r) => r.end()));
  }

  // For LiveRecording.

  async move(row: Recording, status: RecordingStatus, patch: Partial<Recording> = {}): Promise<Recording> {
    const next: Recording = { ...row, ...patch, status, dateUpdated: this.ctx.clock.now() };
    const recording = this.live.get(row.sid);
    if (recording) recording.row = next;
    const stored = await this.ctx.store.updateRecording(next).catch((error: unknown) => {
      this.ports.logger.warn({ err: error, recordingSid: row.sid }, `could not store that recording ${row.sid} is ${status}`);
      return true;
    });
    // Told: its start (in start()), and how it ended; pauses and resumes are not callback events.
    if (stored && (status === 'completed' || status === 'absent')) this.ports.notifier.recordingStatus(next);
    else if (stored) this.ports.notifier.recordingMoved?.(next);
    return next;
  }

  async absent(recording: LiveRecording, error: Error): Promise<Recording> {
    const row = recording.row;
    this.ports.logger.error({ err: error, recordingSid: row.sid, callSid: row.callSid, conferenceSid: row.conferenceSid }, `recording ${row.sid} could not be kept (${(error as NodeJS.ErrnoException).code ?? error.message}); it ends absent, the call goes on`);
    await recording.discard().catch(() => undefined);
    return this.move(row, 'absent', { errorCode: RECORDING_NOT_SAVED });
  }

  forget(recording: LiveRecording): void {
    if (this.live.get(recording.row.sid) === recording) this.live.delete(recording.row.sid);
  }

  private find(accountSid: string, scope: RecordingScope, sid: string): LiveRecording | undefined {
    const candidates = [...this.live.values()].filter((r) => r.row.accountSid === accountSid && inScope(r.row, scope) && isLive(r.status) && r.status !== 'stopped' && r.status !== 'processing');
    if (sid === 'Twilio.CURRENT') return candidates.at(-1);
    return candidates.find((r) => r.row.sid === sid);
  }
}

function inScope(row: Recording, scope: RecordingScope): boolean {
  return 'callSid' in scope ? row.callSid === scope.callSid : row.conferenceSid === scope.conferenceSid && row.callSid === null;
}

function matches(row: Recording, target: RecordingTarget): boolean {
  return 'callSid' in target ? row.callSid === target.callSid : row.conferenceSid === target.conferenceSid && row.callSid === null;
}

function targetOf(request: RecordingRequest): Record<string, string> {
  return 'callSid' in request.target ? { callSid: request.target.callSid } : { conferenceSid: request.target.conferenceSid };
}
