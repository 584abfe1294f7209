/**
 * Recording status callbacks, in Twilio's spelling
 * (https://www.twilio.com/docs/voice/api/recording#recordingstatuscallback): sent for the
 * events the recording subscribed to (`in-progress` when it starts, `completed`, `absent`),
 * signed with the account's auth token like every webhook. `RecordingUrl` is the media's URL
 * with no extension (a WAV; `.mp3` for MP3), as Twilio gives it.
 */
import type { Recording, RecordingCallbackEvent } from '../domain/recording.js';
import { rfc2822 } from './call-webhooks.js';
import { recordingUrl } from './recording-url.js';
import type { SignedCallbacks } from './signed-callbacks.js';

export class RecordingWebhooks {
  constructor(
    private readonly callbacks: SignedCallbacks,
    /** The API's base URL as callers reach it (`http://host:port`), for `RecordingUrl`. */
    private readonly baseUrl: () => string,
  ) {}

  recordingStatus(recording: Recording): void {
    const callback = recording.statusCallback;
    const event = callbackEvent(recording);
    if (!callback || !event || !callback.events.includes(event)) return;
    this.callbacks.send(recording.sid, recording.accountSid, callback.url, callback.method, recordingParams(recording, this.baseUrl(), event), 'recording-status-callback');
  }
}

function callbackEvent(recording: Recording): RecordingCallbackEvent | undefined {
  switch (recording.status) {
    case 'in-progress':
    case 'completed':
    case 'absent':
      return recording.status;
    default:
      return undefined;
  }
}

/**
 * What a recording status callback says of the recording in `status` (the live event stream
 * sends the same for every status the recording moves through).
 */
export function recordingParams(recording: Recording, baseUrl: string, status: string = recording.status): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: recording.accountSid,
    CallSid: recording.callSid ?? '',
    RecordingSid: recording.sid,
    RecordingUrl: recordingUrl(baseUrl, recording),
    RecordingStatus: status,
    RecordingDuration: String(recording.duration ?? 0),
    RecordingChannels: String(recording.channels),
    RecordingStartTime: rfc2822(recording.startTime),
    RecordingSource: recording.source,
    RecordingTrack: recording.track,
    ErrorCode: String(recording.errorCode ?? 0),
  };
  if (recording.conferenceSid) params.ConferenceSid = recording.conferenceSid;
  return params;
}
