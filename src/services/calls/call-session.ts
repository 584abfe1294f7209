/**
 * One live call, from dialling (or ringing in) to its end: its status moves, its TwiML is
 * fetched and run verb by verb, and it can be hung up or redirected at any moment. Twilio's
 * behaviour is followed: a TwiML or webhook failure ends the call as an application error
 * (error 11200/12100/12200, logged), `<Reject>` as the first verb of an inbound call leaves it
 * unanswered (busy or no-answer), a kicked participant continues with the TwiML after `<Dial>`
 * or with its `action` (https://www.twilio.com/docs/voice/twiml/dial#action).
 * `<Dial answerOnBridge="true">` as the first verb of an inbound call leaves it ringing, with
 * early media (ringback), until a dialled line answers; if none does, the call is answered by
 * the next verb that plays or dials, or, when only `<Hangup>`/`<Reject>` or nothing follows,
 * refused with the Dial's outcome (busy: 486; else 603) and ended `busy`, `no-answer` or `failed`.
 */
import type { Call, CallStatus } from '../../domain/call.js';
import { isFinal } from '../../domain/call.js';
import type { DialCallStatus, InboundLeg, ProgressDetail, RemoteLeg } from '../../domain/call-ports.js';
import type { Endpoint } from '../../domain/endpoint.js';
import type { Conference } from '../../domain/model.js';
import { parseTwiml } from '../../twiml/parse-twiml.js';
import type { DialVerb, TwimlDocument, TwimlVerb } from '../../twiml/verbs.js';
import type { StartCallRecording } from '../recordings/control-recordings.js';
import type { CallApplicationSource } from './call-application.js';
import type { CallRuntime } from './call-runtime.js';
import { logApplicationError } from './application-error-log.js';
import { logCallStoreFailure } from './call-status.js';
import { stayInConference, type CallInterruption } from './conference-leg.js';
import type { AnswerOnBridge } from './dial-endpoints.js';
import { describeVerb } from './describe-verb.js';
import { RedirectLoopGuard } from './redirect-loop-guard.js';
import { runVerb } from './run-verb.js';

/** What a call needs beyond its row: the ringing far end of an inbound call, SIP credentials. */
export interface CallExtras {
  /** An inbound call's far end (a SIP INVITE); a simulated caller's when absent. */
  inbound?: InboundLeg;
  sipAuth?: { username: string; password: string };
  /** Keys sent once the called party answers, before its TwiML runs (Calls.create `SendDigits`). */
  sendDigits?: string;
  /** `Record=true` (Calls.create, Create Participant): recorded from the answer to the end. */
  record?: StartCallRecording;
  /** The caller ID the called party is shown (`CallerId`), when it is not the call's `From`. */
  callerId?: string;
  /** `TimeLimit`: the call is hung up this many seconds after its answer (default DEFAULT_TIME_LIMIT_S). */
  timeLimitSeconds?: number;
}

/** Twilio's default `TimeLimit` of a call placed through the API: four hours. */
export const DEFAULT_TIME_LIMIT_S = 14_400;
/** The longest `TimeLimit`: a day, as `<Dial timeLimit>`'s. */
export const MAX_TIME_LIMIT_S = 86_400;

/** `<Dial answerOnBridge="true">` to phones: it answers the caller itself, on the bridge. */
function answersOnBridge(verb: TwimlVerb | undefined): verb is DialVerb {
  return verb?.verb === 'Dial' && verb.answerOnBridge && verb.conference === undefined;
}

/** A parsed document and where it came from. */
interface LoadedDocument {
  document: TwimlDocument;
  source: CallApplicationSource;
}

export class CallSession {
  private call: Call;
  private readonly ended = new AbortController();
  private document = new AbortController();
  private redirectTo: CallApplicationSource | undefined;
  private remote: RemoteLeg | undefined;
  /** An inbound caller hearing early media, not answered yet (`<Dial answerOnBridge>`). */
  private early: InboundLeg | undefined;
  /** How the last `<Dial>` of a still unanswered call ended. */
  private lastDial: DialCallStatus | undefined;
  /** The SIP response that answered or refused the call, for SIP calls. */
  private sipResponseCode: number | undefined;
  /** `TimeLimit` in seconds (none for a call that was not given one), counted from the answer. */
  private timeLimitSeconds: number | undefined;
  /** When the call was answered (Date.now()), and the TimeLimit timer running since. */
  private answeredAt: number | undefined;
  private limitTimer: NodeJS.Timeout | undefined;
  private moving: Promise<void> = Promise.resolve();
  readonly done: Promise<void>;

  constructor(
    private readonly rt: CallRuntime,
    call: Call,
    private readonly endpoint: Endpoint,
    private readonly source: CallApplicationSource,
    private readonly extras: CallExtras = {},
  ) {
    this.call = call;
    this.timeLimitSeconds = extras.timeLimitSeconds;
    this.done = this.run();
    void this.done.finally(() => clearTimeout(this.limitTimer));
  }

  get current(): Call {
    return this.call;
  }

  /**
   * The call ends: the far end hung up or gave up (`hung-up`, also at shutdown), or the REST API
   * ended it (`Status=completed`/`canceled`: `hung-up-via-api`). The reason reaches what the call
   * is doing — a participant leaves with it.
   */
  hangup(cause: Extract<CallInterruption, 'hung-up' | 'hung-up-via-api'> = 'hung-up'): void {
    this.ended.abort(cause);
    this.document.abort(cause);
  }

  /**
   * A new `TimeLimit` (Calls update): still counted from the answer, so a limit already passed
   * hangs the call up at once; a call not answered yet gets it when it is.
   */
  setTimeLimit(seconds: number): void {
    this.timeLimitSeconds = seconds;
    this.limitDuration();
  }

  /** The REST API gave the live call new TwiML (`Url` or `Twiml`). */
  redirect(source: CallApplicationSource): void {
    this.redirectTo = source;
    this.document.abort('redirected-via-api' satisfies CallInterruption);
  }

  private async run(): Promise<void> {
    try {
      if (this.call.direction === 'inbound') await this.ringIn();
      else await this.dialOut();
    } catch (error) {
      logCallStoreFailure(this.rt.logger, error, this.call.sid, 'call failed');
    } finally {
      this.remote?.hangup();
      await this.end(this.call.status === 'in-progress' ? 'completed' : this.ended.signal.aborted ? 'canceled' : 'failed').catch((error: unknown) =>
        logCallStoreFailure(this.rt.logger, error, this.call.sid, 'could not store the end of the call'),
      );
    }
  }

  /**
   * Status moves are chained: `ringing` is told from the dialer's callback while the answer may
   * already be on its way, and each move must start from the call as the previous one left it
   * (two concurrent writes could otherwise land in either order on PostgreSQL).
   */
  private move(status: CallStatus, detail?: ProgressDetail): Promise<void> {
    this.moving = this.moving.catch(() => undefined).then(async () => {
      this.call = await this.rt.status.move(this.call, status, detail);
    });
    return this.moving;
  }

  /** The final move; its callback carries the SIP response that decided the call, if one did. */
  private async end(status: CallStatus): Promise<void> {
    const detail = this.sipResponseCode === undefined ? {} : { sipResponseCode: this.sipResponseCode };
    if (!isFinal(this.call.status)) await this.move(status, detail);
  }

  private answered(leg: RemoteLeg): void {
    this.answeredAt = Date.now();
    this.limitDuration();
    this.remote = leg;
    this.sipResponseCode = leg.sipResponseCode;
    void leg.hungUp.then(() => this.hangup());
  }

  private async dialOut(): Promise<void> {
    const result = await this.rt.dialer.dial(this.endpoint, {
      callSid: this.call.sid,
      accountSid: this.call.accountSid,
      from: this.extras.callerId ?? this.call.from,
      ...(this.extras.sipAuth ? { sipAuth: this.extras.sipAuth } : {}),
      timeoutSeconds: this.call.timeout,
      signal: this.ended.signal,
      onRinging: () =>
        void this.move('ringing')
          .then(() => this.rt.onRinging?.(this.call, this.source))
          .catch((error: unknown) => logCallStoreFailure(this.rt.logger, error, this.call.sid, 'could not store that the call rings')),
    });
    if (result.outcome !== 'answered') {
      this.sipResponseCode = result.sipResponseCode;
      await this.end(result.outcome);
      await this.rt.onUnanswered?.(this.call, this.source);
      return;
    }
    this.timeLimitSeconds ??= DEFAULT_TIME_LIMIT_S;
    this.answered(result.leg);
    await this.move('in-progress');
    if (this.ended.signal.aborted) return;
    if (this.extras.record) await this.record(this.extras.record);
    // "The string of keys to dial after connecting to the number" (twilio-oai CreateCall): an
    // extension to reach before the application speaks.
    if (this.extras.sendDigits) await this.rt.keypad.send(this.call.sid, this.extras.sendDigits, this.ended.signal);
    if (this.ended.signal.aborted) return;
    await this.runApplication(this.source);
  }

  /**
   * `TimeLimit` (https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource):
   * "the maximum duration of the call", counted from the answer; when it runs out Conclave
   * hangs up and the call ends `completed`, as when the far end hangs up.
   */
  private limitDuration(): void {
    const seconds = this.timeLimitSeconds;
    if (seconds === undefined || this.answeredAt === undefined || this.ended.signal.aborted) return;
    clearTimeout(this.limitTimer);
    this.limitTimer = setTimeout(() => {
      this.rt.logger.info({ callSid: this.call.sid, timeLimit: seconds }, `the call reached its TimeLimit of ${seconds} s and is hung up`);
      this.hangup();
    }, Math.max(0, this.answeredAt + seconds * 1000 - Date.now()));
  }

  /** Records the call from now to its end (its tap ends with its leg); a failure to start is logged, the call goes on. */
  private async record(request: StartCallRecording): Promise<void> {
    const { call } = this;
    await this.rt.recordings
      .start({ accountSid: call.accountSid, target: { callSid: call.sid }, callSid: call.sid, conferenceSid: null, source: 'OutboundAPI', ...request })
      .catch((error: unknown) => this.rt.logger.warn({ err: error, callSid: call.sid }, 'Record=true: the call could not be recorded'));
  }

  private async ringIn(): Promise<void> {
    const caller = this.extras.inbound ?? this.rt.dialer.inbound(this.endpoint);
    // The caller may give up (CANCEL) at any time before the answer: the call is then canceled.
    void caller.abandoned.then(() => {
      if (this.call.status !== 'in-progress') this.hangup();
    });
    caller.ring();
    await this.move('ringing');
    // A caller who gives up while the TwiML is fetched ends the call now, not when the fetch ends.
    const gaveUp = new Promise<undefined>((resolve) => this.ended.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    const first = this.ended.signal.aborted ? undefined : await Promise.race([this.load(this.source), gaveUp]);
    if (!first || this.ended.signal.aborted) {
      this.sipResponseCode = caller.refuse('failed');
      return;
    }
    const [verb] = first.document.verbs;
    if (verb?.verb === 'Reject') {
      this.sipResponseCode = caller.refuse(verb.reason === 'busy' ? 'busy' : 'no-answer');
      await this.end(verb.reason === 'busy' ? 'busy' : 'no-answer');
      return;
    }
    if (answersOnBridge(verb)) {
      await this.ringOnEarlyMedia(caller, first);
      return;
    }
    let leg: RemoteLeg;
    try {
      leg = await caller.answer(this.call.sid);
    } catch (error) {
      this.rt.logger.info({ callSid: this.call.sid, err: error }, 'the caller hung up before the answer');
      this.hangup();
      return;
    }
    this.answered(leg);
    await this.move('in-progress');
    await this.runApplication(first);
  }

  /** The caller hears early media while the application runs, until something answers it. */
  private async ringOnEarlyMedia(caller: InboundLeg, first: LoadedDocument): Promise<void> {
    try {
      await caller.earlyMedia(this.call.sid);
    } catch (error) {
      this.rt.logger.info({ callSid: this.call.sid, err: error }, 'the caller hung up before the answer');
      this.hangup();
      return;
    }
    this.early = caller;
    await this.runApplication(first);
    if (!this.early) return; // answered
    this.early = undefined;
    if (this.ended.signal.aborted) {
      caller.refuse('failed'); // hung up through the API (after a CANCEL from the caller, a no-op)
      return;
    }
    // Never answered: the caller is told the Dial's outcome.
    const status = this.lastDial;
    this.sipResponseCode = caller.refuse(status === 'busy' ? 'busy' : 'no-answer');
    await this.end(status === 'busy' || status === 'no-answer' ? status : 'failed');
  }

  /** Answers a caller left ringing by answerOnBridge; false when it is gone. */
  private async answerEarly(): Promise<boolean> {
    const caller = this.early;
    if (!caller) return true;
    this.early = undefined;
    try {
      this.answered(await caller.answer(this.call.sid));
    } catch (error) {
      this.rt.logger.info({ callSid: this.call.sid, err: error }, 'the caller hung up before the answer');
      this.hangup();
      return false;
    }
    await this.move('in-progress');
    return !this.ended.signal.aborted;
  }

  /**
   * Fetches and parses a document; on failure logs the application error and returns nothing.
   * The document comes with where it came from (the fallback's URL when the primary failed):
   * an empty `<Redirect/>` runs it again.
   */
  private async load(source: CallApplicationSource): Promise<LoadedDocument | undefined> {
    const started = performance.now();
    try {
      if (source.kind === 'participant') return { document: { verbs: [], warnings: [] }, source };
      let loaded: LoadedDocument;
      if (source.kind === 'twiml') {
        loaded = { document: parseTwiml(source.twiml), source };
      } else {
        // A hang-up or redirect meanwhile gives the fetch up at once (it is the document's signal).
        const fetched = await this.rt.twiml.fetch({ call: this.call, ...source, signal: this.document.signal });
        loaded = {
          document: parseTwiml(fetched.twiml, { documentUrl: fetched.url }),
          source: { kind: 'url', url: fetched.url, method: source.method, fallbackUrl: null, fallbackMethod: 'POST' },
        };
      }
      const { warnings } = loaded.document;
      if (warnings.length > 0) this.rt.logger.warn({ callSid: this.call.sid, warnings }, `TwiML warnings: ${warnings.join('; ')}`);
      return loaded;
    } catch (error) {
      if (this.document.signal.aborted) return undefined; // given up: the call hung up or was redirected
      logApplicationError(this.rt.logger, this.call.sid, error, performance.now() - started);
      return undefined;
    }
  }

  private async runApplication(first: CallApplicationSource | LoadedDocument): Promise<void> {
    const loops = new RedirectLoopGuard((limits) =>
      this.rt.logger.warn(
        { callSid: this.call.sid },
        `TwiML documents loop with nothing heard between them: fetching at most one a second from now on (the call ends after ${limits.maxQuick} in a row)`,
      ),
    );
    let next: CallApplicationSource | LoadedDocument | undefined = first;
    while (next !== undefined && !this.ended.signal.aborted) {
      this.document = new AbortController();
      if ('kind' in next && next.kind === 'participant') {
        const { waitUrl } = next;
        const entry = {
          kind: 'connect' as const,
          accountSid: next.accountSid,
          conferenceSid: next.conferenceSid,
          onJoined: (conference: Conference) => {
            if (conference.status === 'init') this.rt.conferenceAudio.wait(conference, this.call.sid, waitUrl);
          },
        };
        // A Create Participant call has no TwiML of its own: it ends when it leaves.
        // Its TimeLimit (limitDuration, from the answer) hangs it up first: the stay's own limit is the longest.
        await stayInConference(this.rt.ctx, this.call.sid, entry, this.document.signal, MAX_TIME_LIMIT_S, false);
        return;
      }
      if (!(await loops.pace(this.document.signal))) {
        this.rt.logger.warn({ callSid: this.call.sid }, 'application error: TwiML documents loop with nothing heard between them; the call is ended');
        return;
      }
      if (this.redirectTo || this.ended.signal.aborted) next = undefined; // redirected or hung up while paced
      else {
        const loaded: LoadedDocument | undefined = 'document' in next ? next : await this.load(next);
        // No document: an application error ends the call, unless it was redirected meanwhile.
        if (!loaded && !this.redirectTo) return;
        next = loaded ? await this.runVerbs(loaded) : undefined;
      }
      if (this.redirectTo) {
        next = this.redirectTo;
        this.redirectTo = undefined;
      }
    }
  }

  /** Runs verbs in order; returns the next document to run, or nothing when the call should end. */
  private async runVerbs({ document, source }: LoadedDocument): Promise<CallApplicationSource | undefined> {
    const { verbs } = document;
    for (const [index, verb] of verbs.entries()) {
      if (this.document.signal.aborted) return undefined;
      let onBridge: AnswerOnBridge | undefined;
      if (this.early) {
        // Still ringing after an unanswered answerOnBridge: the next Dial like it rings on; a
        // hang-up ends the call unanswered; anything else needs the call answered first.
        if (verb.verb === 'Hangup' || verb.verb === 'Reject') return undefined;
        if (answersOnBridge(verb)) onBridge = { answer: () => this.answerEarly(), notAnswered: (status) => (this.lastDial = status) };
        else if (!(await this.answerEarly())) return undefined;
      }
      this.rt.notifier.verbStarted?.(this.call, describeVerb(verb));
      const step = await runVerb(this.rt, this.call, verb, this.document.signal, { onBridge, last: index === verbs.length - 1, document: source });
      if (step.kind === 'continue') continue;
      if (step.kind === 'hangup') return undefined;
      return step.source;
    }
    return undefined;
  }
}
