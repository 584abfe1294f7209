/**
 * A recording's status callback from the attributes or parameters that ask for one
 * (`recordingStatusCallback`, `…Method`, `…Event`; default event `completed`, as Twilio's).
 */
import type { HttpMethod } from '../../domain/call.js';
import type { RecordingCallback, RecordingCallbackEvent } from '../../domain/recording.js';

export function recordingCallback(url: string | null | undefined, method: HttpMethod, events: readonly RecordingCallbackEvent[] | undefined): RecordingCallback | null {
  if (!url) return null;
  return { url, method, events: events && events.length > 0 ? [...events] : ['completed'] };
}
