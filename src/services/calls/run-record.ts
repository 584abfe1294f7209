/**
 * `<Record>` (https://www.twilio.com/docs/voice/twiml/record): after a beep, what the caller
 * says is recorded (its inbound track, mono) until a key of `finishOnKey`, `timeout` seconds of
 * silence (the mixer's talk detection), `maxLength`, or the caller hanging up. The action — by
 * default the current document's URL — is then requested with `RecordingUrl`, `RecordingSid`,
 * `RecordingDuration` and `Digits` (the key; `hangup` after a hang-up, whose answer is not
 * run). An empty recording (nothing said, trimmed away) requests nothing: the next verb runs,
 * as Twilio documents.
 */
import type { Call } from '../../domain/call.js';
import type { RecordReport } from '../../domain/call-ports.js';
import type { Recording } from '../../domain/recording.js';
import type { RecordVerb } from '../../twiml/verbs.js';
import { recordingCallback } from '../recordings/recording-callback.js';
import type { CallApplicationSource } from './call-application.js';
import type { CallRuntime } from './call-runtime.js';
import { logFailure } from './application-error-log.js';

export type RecordOutcome = { kind: 'action'; source: CallApplicationSource } | { kind: 'next' } | { kind: 'hangup' };

export async function runRecord(rt: CallRuntime, call: Call, verb: RecordVerb, signal: AbortSignal, document: CallApplicationSource): Promise<RecordOutcome> {
  if (verb.playBeep) await rt.audio.beep(call, signal);
  if (signal.aborted) return { kind: 'hangup' };
  let recording: Recording;
  try {
    recording = await rt.recordings.start({
      accountSid: call.accountSid,
      target: { callSid: call.sid },
      callSid: call.sid,
      conferenceSid: null,
      source: 'RecordVerb',
      channels: 1,
      track: 'inbound',
      trim: verb.trim === 'trim-silence',
      statusCallback: recordingCallback(verb.recordingStatusCallback, verb.recordingStatusCallbackMethod, verb.recordingStatusCallbackEvent),
    });
  } catch (error) {
    logFailure(rt.logger, { callSid: call.sid }, '<Record>: could not record (the next verb runs)', error);
    return { kind: 'next' };
  }
  const digits = recording.status === 'absent' ? '' : await untilEnd(rt, call, verb, signal);
  const ended = (await rt.recordings.stop(recording.sid)) ?? recording;
  const action = verb.action ?? (document.kind === 'url' ? document.url : undefined);
  const report: RecordReport = { recording: ended, digits: signal.aborted ? 'hangup' : digits };
  const source: CallApplicationSource | undefined =
    action === undefined ? undefined : { kind: 'url', url: action, method: verb.method, fallbackUrl: null, fallbackMethod: 'POST', record: report };
  if (signal.aborted) {
    // Twilio requests the action after a hang-up too, so the app learns of the recording.
    if (source?.kind === 'url' && ended.status === 'completed') {
      void rt.twiml.fetch({ call, ...source }).catch((error: unknown) => logFailure(rt.logger, { callSid: call.sid }, '<Record>: the action after the hang-up failed', error));
    }
    return { kind: 'hangup' };
  }
  if (ended.status !== 'completed') return { kind: 'next' };
  if (source === undefined) {
    rt.logger.warn({ callSid: call.sid }, '<Record> without action in inline TwiML: the recording is kept but nobody is told; the next verb runs');
    return { kind: 'next' };
  }
  return { kind: 'action', source };
}

/** Waits for what ends the recording; resolves with the finishing key, or '' for silence, the limit or a hang-up. */
function untilEnd(rt: CallRuntime, call: Call, verb: RecordVerb, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    let silence: NodeJS.Timeout | undefined;
    const quiet = (): void => {
      clearTimeout(silence);
      if (verb.timeout > 0) silence = setTimeout(() => finish(''), verb.timeout * 1000);
    };
    const stopKeys = rt.keypad.listen(call.sid, (key) => {
      if (verb.finishOnKey.includes(key)) finish(key);
    });
    const stopTalk = rt.voice.listen(call.sid, (talking) => (talking ? clearTimeout(silence) : quiet()));
    const limit = setTimeout(() => finish(''), verb.maxLength * 1000);
    const aborted = (): void => finish('');
    let done = false;
    function finish(key: string): void {
      if (done) return;
      done = true;
      clearTimeout(silence);
      clearTimeout(limit);
      stopKeys();
      stopTalk();
      signal.removeEventListener('abort', aborted);
      resolve(key);
    }
    if (signal.aborted) return finish('');
    signal.addEventListener('abort', aborted, { once: true });
    quiet(); // silence from the start counts too
  });
}
