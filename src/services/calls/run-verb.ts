/**
 * Runs one TwiML verb of an answered call. `<Dial><Conference>` puts the call in the room
 * until it leaves, `<Dial>` to phones bridges it with the first to answer (dial-endpoints.ts);
 * then the call goes to the Dial's `action` (told `DialCallStatus` and
 * `DialCallDuration`) or on to the next verb. `<Play>` and `<Say>` go to the audio player,
 * `<Pause>` waits, `<Redirect>` and `<Hangup>` end the document; `<Reject>` on an answered call
 * hangs up (https://www.twilio.com/docs/voice/twiml/reject).
 */
import type { Call } from '../../domain/call.js';
import type { DialCallStatus } from '../../domain/call-ports.js';
import type { DialVerb, TwimlVerb } from '../../twiml/verbs.js';
import type { CallApplicationSource } from './call-application.js';
import type { CallRuntime } from './call-runtime.js';
import { stayInConference } from './conference-leg.js';
import { dialEndpoints, type AnswerOnBridge } from './dial-endpoints.js';

export type VerbStep = { kind: 'continue' } | { kind: 'hangup' } | { kind: 'goto'; source: CallApplicationSource };

const CONTINUE: VerbStep = { kind: 'continue' };

/** `onBridge`: the caller is not answered yet (`<Dial answerOnBridge>`); the Dial answers it. */
export async function runVerb(rt: CallRuntime, call: Call, verb: TwimlVerb, signal: AbortSignal, onBridge?: AnswerOnBridge): Promise<VerbStep> {
  switch (verb.verb) {
    case 'Dial':
      return dial(rt, call, verb, signal, onBridge);
    case 'Play':
      if (verb.url !== undefined) await rt.audio.play(call, { kind: 'play', url: verb.url, loop: verb.loop }, signal);
      return CONTINUE;
    case 'Say':
      await rt.audio.play(call, { kind: 'say', text: verb.text, voice: verb.voice, language: verb.language, loop: verb.loop }, signal);
      return CONTINUE;
    case 'Pause':
      await pause(verb.length, signal);
      return CONTINUE;
    case 'Redirect':
      return { kind: 'goto', source: { kind: 'url', url: verb.url, method: verb.method, fallbackUrl: null, fallbackMethod: 'POST' } };
    case 'Hangup':
    case 'Reject':
      return { kind: 'hangup' };
  }
}

function pause(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, seconds * 1000);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

async function dial(rt: CallRuntime, call: Call, verb: DialVerb, signal: AbortSignal, onBridge: AnswerOnBridge | undefined): Promise<VerbStep> {
  let status: DialCallStatus;
  let durationSeconds = 0;
  const room = verb.conference;
  if (room && room.record !== 'do-not-record') {
    rt.logger.warn({ callSid: call.sid, conference: room.name }, '<Conference record> is not supported yet: the conference is not recorded');
  }
  if (room) {
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
        onJoined: (conference) => {
          if (conference.status !== 'init') return;
          rt.conferenceAudio.wait(conference, call.sid, room.waitUrl === undefined ? undefined : { url: room.waitUrl, method: room.waitMethod });
        },
      },
      signal,
      verb.timeLimit,
    );
    if (stay.joined) {
      status = 'completed';
      durationSeconds = stay.seconds;
    } else {
      status = 'failed';
      rt.logger.warn({ callSid: call.sid, code: stay.error.code }, `could not join conference ${room.name}: ${stay.error.message}`);
    }
  } else {
    ({ status, durationSeconds } = await dialEndpoints(rt, call, verb, signal, onBridge));
  }
  if (signal.aborted) return { kind: 'hangup' };
  if (verb.action === undefined) return CONTINUE;
  return {
    kind: 'goto',
    source: { kind: 'url', url: verb.action, method: verb.method, fallbackUrl: null, fallbackMethod: 'POST', dial: { status, durationSeconds } },
  };
}
