/**
 * `<Dial record>` (https://www.twilio.com/docs/voice/twiml/dial#record): the caller's call is
 * recorded from the moment the dialled line answers (`record-from-answer`) or from the start of
 * the ringing (`record-from-ringing`), to the end of the Dial; `-dual` keeps the caller on the
 * first channel and the dialled party on the second. The Dial's action is then told
 * `RecordingUrl`, `RecordingSid` and `RecordingDuration`. A recording that cannot start is
 * logged and the call goes on unrecorded.
 */
import type { Call } from '../../domain/call.js';
import type { DialReport } from '../../domain/call-ports.js';
import type { Recording } from '../../domain/recording.js';
import type { DialVerb } from '../../twiml/verbs.js';
import { recordingCallback } from '../recordings/recording-callback.js';
import type { CallRuntime } from './call-runtime.js';

export class DialRecorder {
  /** Whether it starts with the ringing (else with the answer); false when nothing is recorded. */
  readonly fromRinging: boolean;
  private readonly wanted: boolean;
  private recording: Recording | undefined;

  constructor(
    private readonly rt: CallRuntime,
    private readonly caller: Call,
    private readonly verb: DialVerb,
  ) {
    this.wanted = verb.record !== 'do-not-record';
    this.fromRinging = verb.record.startsWith('record-from-ringing');
  }

  /** Starts recording the caller's call (once; nothing when the Dial does not record). */
  async start(): Promise<void> {
    if (!this.wanted || this.recording) return;
    const { verb, caller } = this;
    try {
      this.recording = await this.rt.recordings.start({
        accountSid: caller.accountSid,
        target: { callSid: caller.sid },
        callSid: caller.sid,
        conferenceSid: null,
        source: 'DialVerb',
        channels: verb.record.endsWith('-dual') ? 2 : 1,
        track: 'both',
        trim: verb.trim === 'trim-silence',
        statusCallback: recordingCallback(verb.recordingStatusCallback, verb.recordingStatusCallbackMethod, verb.recordingStatusCallbackEvent),
      });
    } catch (error) {
      this.rt.logger.warn({ err: error, callSid: caller.sid }, '<Dial record>: the call could not be recorded');
    }
  }

  /** Ends the recording (if any) and adds it to what the Dial's action is told. */
  async finish(report: DialReport): Promise<DialReport> {
    const started = this.recording;
    if (!started) return report;
    const ended = (await this.rt.recordings.stop(started.sid)) ?? started;
    return { ...report, recording: ended };
  }
}
