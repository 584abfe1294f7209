/**
 * Runs one TwiML verb of an answered call. `<Dial><Conference>` puts the call in the room
 * until it leaves, `<Dial>` to phones bridges it with the first to answer (dial-endpoints.ts);
 * with `hangupOnStar` the caller's `*` leaves the room or ends the bridge (star-key.ts);
 * then the call goes to the Dial's `action` (told `DialCallStatus`, and after phones the
 * dialled leg: `DialCallSid`, `DialCallDuration`, `DialBridged`) or on to the next verb.
 * `<Gather>` collects keys (run-gather.ts); `<Play>` and `<Say>` go to the audio player (`<Play
 * digits>` to the keypad), `<Pause>` waits (run-prompt.ts), `<Redirect>` and `<Hangup>` end
 * the document — an empty `<Redirect/>` fetches the current document again
 * (https://www.twilio.com/docs/voice/twiml/redirect) —; `<Reject>` on an answered call hangs up
 * (https://www.twilio.com/docs/voice/twiml/reject).
 */
import type { Call } from '../../domain/call.js';
import type { DialReport } from '../../domain/call-ports.js';
import type { DialVerb, TwimlVerb } from '../../twiml/verbs.js';
import { documentAgain, type CallApplicationSource } from './call-application.js';
import type { CallRuntime } from './call-runtime.js';
import { stayInConference } from './conference-leg.js';
import { dialEndpoints, type AnswerOnBridge } from './dial-endpoints.js';
import { recordingCallback } from '../recordings/recording-callback.js';
import { runGather } from './run-gather.js';
import { listenForStar } from './star-key.js';
import { runPrompt } from './run-prompt.js';
import { runRecord } from './run-record.js';
import { logFailure } from './application-error-log.js';

export type VerbStep = { kind: 'continue' } | { kind: 'hangup' } | { kind: 'goto'; source: CallApplicationSource };

const CONTINUE: VerbStep = { kind: 'continue' };

export interface VerbContext {
  /** The caller is not answered yet (`<Dial answerOnBridge>`); the Dial answers it. */
  onBridge?: AnswerOnBridge | undefined;
  /** The verb is its document's last (nothing runs after it unless it has an `action`). */
  last: boolean;
  /** Where the running document came from: an empty `<Redirect/>` runs it again. */
  document: CallApplicationSource;
}

export async function runVerb(rt: CallRuntime, call: Call, verb: TwimlVerb, signal: AbortSignal, context: VerbContext): Promise<VerbStep> {
  switch (verb.verb) {
    case 'Dial':
      return dial(rt, call, verb, signal, context);
    case 'Gather': {
      const outcome = await runGather(rt, call, verb, signal, context.document);
      return outcome.kind === 'action' ? { kind: 'goto', source: outcome.source } : outcome.kind === 'next' ? CONTINUE : { kind: 'hangup' };
    }
    case 'Record': {
      const outcome = await runRecord(rt, call, verb, signal, context.document);
      return outcome.kind === 'action' ? { kind: 'goto', source: outcome.source } : outcome.kind === 'next' ? CONTINUE : { kind: 'hangup' };
    }
    case 'Play':
    case 'Say':
    case 'Pause':
      await runPrompt(rt, call, verb, signal);
      return CONTINUE;
    case 'Redirect':
      if (verb.url === undefined) return { kind: 'goto', source: documentAgain(context.document, verb.method) };
      return { kind: 'goto', source: { kind: 'url', url: verb.url, method: verb.method, fallbackUrl: null, fallbackMethod: 'POST' } };
    case 'Hangup':
    case 'Reject':
      return { kind: 'hangup' };
  }
}


async function dial(rt: CallRuntime, call: Call, verb: DialVerb, signal: AbortSignal, context: VerbContext): Promise<VerbStep> {
  let report: DialReport;
  const room = verb.conference;
  if (room) {
    const star = verb.hangupOnStar ? listenForStar(rt.keypad, call.sid) : undefined;
    const stay = await stayInConference(
      rt.ctx,
      call.sid,
      {
        kind: 'join',
        request: {
          accountSid: call.accountSid,
          friendlyName: room.name,
          label: room.participantLabel ?? null,
          muted: room.muted,
          beep: room.beep,
          startConferenceOnEnter: room.startConferenceOnEnter,
          endConferenceOnExit: room.endConferenceOnExit,
          maxParticipants: room.maxParticipants,
          ...(room.region ? { region: room.region } : {}),
          ...(room.coach ? { callSidToCoach: room.coach } : {}),
          conferenceStatusCallback: room.statusCallback
            ? {
                url: room.statusCallback,
                method: room.statusCallbackMethod,
                // Twilio's default subscription, as for ConferenceStatusCallbackEvent: start and end.
                events: room.statusCallbackEvent.length > 0 ? [...room.statusCallbackEvent] : ['start', 'end'],
              }
            : null,
        },
        onJoined: (conference, created) => {
          // The participant who creates the conference decides whether it is recorded.
          if (created && room.record === 'record-from-start') {
            rt.recordings.planConference(call.accountSid, conference.sid, {
              trim: room.trim === 'trim-silence',
              statusCallback: recordingCallback(room.recordingStatusCallback, room.recordingStatusCallbackMethod, room.recordingStatusCallbackEvent),
            });
          }
          if (conference.status !== 'init') return;
          rt.conferenceAudio.wait(conference, call.sid, room.waitUrl === undefined ? undefined : { url: room.waitUrl, method: room.waitMethod });
        },
      },
      star ? AbortSignal.any([signal, star.signal]) : signal,
      verb.timeLimit,
      verb.action !== undefined || !context.last,
    ).finally(() => star?.stop());
    if (stay.joined) {
      report = { status: 'completed' };
    } else {
      report = { status: 'failed' };
      rt.logger.warn({ callSid: call.sid, code: stay.error.code }, `could not join conference ${room.name}: ${stay.error.message}`);
    }
  } else {
    report = await dialEndpoints(rt, call, verb, signal, context.onBridge);
  }
  if (signal.aborted) {
    // The caller hung up (or the API ended the call) during the Dial: Twilio still requests the
    // action "when the <Dial> call ends", with CallStatus completed, so the app learns how the
    // Dial went; what it answers is not run (https://www.twilio.com/docs/voice/twiml/dial#action).
    const cause: unknown = signal.reason;
    if (verb.action !== undefined && (cause === 'hung-up' || cause === 'hung-up-via-api')) {
      void rt.twiml
        .fetch({ call: { ...call, status: 'completed' }, url: verb.action, method: verb.method, dial: report })
        .catch((error: unknown) => logFailure(rt.logger, { callSid: call.sid }, '<Dial>: the action after the hang-up failed', error));
    }
    return { kind: 'hangup' };
  }
  if (verb.action === undefined) return CONTINUE;
  return {
    kind: 'goto',
    source: { kind: 'url', url: verb.action, method: verb.method, fallbackUrl: null, fallbackMethod: 'POST', dial: report },
  };
}
