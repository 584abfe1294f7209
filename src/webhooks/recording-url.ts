/** The media URL of a recording with no extension (a WAV; add `.mp3` for MP3), as Twilio's `RecordingUrl`. */
import type { Recording } from '../domain/recording.js';

export function recordingUrl(baseUrl: string, recording: Pick<Recording, 'accountSid' | 'sid'>): string {
  return `${baseUrl}/2010-04-01/Accounts/${recording.accountSid}/Recordings/${recording.sid}`;
}
