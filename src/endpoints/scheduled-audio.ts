/**
 * The audio player until the media plane exists: `<Play>` and `<Say>` are scheduled — logged
 * with what would be heard — and take the time they would take where that is known (`<Say>`:
 * about 150 words a minute; `<Play>`: not known without fetching the file, so no time). The
 * media plane replaces this with real playback.
 */
import type { Call } from '../domain/call.js';
import type { AudioPlayer, AudioRequest, ConferenceAudio, PlaylistItem } from '../domain/call-ports.js';

export interface AudioLogger {
  info(obj: object, msg: string): void;
}

const SECONDS_PER_WORD = 0.4;

export class ScheduledAudio implements AudioPlayer, ConferenceAudio {
  constructor(private readonly logger: AudioLogger) {}

  holdMusic(callSid: string, playlist: PlaylistItem[] | undefined): void {
    this.logger.info({ callSid, playlist: playlist ?? 'default hold music' }, 'scheduled hold music (no media plane yet: nothing is heard)');
  }

  waitMusic(callSid: string, playlist: PlaylistItem[] | undefined): void {
    this.logger.info({ callSid, playlist: playlist ?? 'default wait music' }, 'scheduled wait music (no media plane yet: nothing is heard)');
  }

  announce(target: { conferenceSid: string } | { callSid: string }, playlist: PlaylistItem[]): Promise<void> {
    this.logger.info({ target, playlist }, 'scheduled announcement (no media plane yet: nothing is heard)');
    return Promise.resolve();
  }

  play(call: Call, audio: AudioRequest, signal: AbortSignal): Promise<void> {
    this.logger.info({ callSid: call.sid, audio }, `scheduled ${audio.kind} (no media plane yet: nothing is heard)`);
    if (audio.kind === 'play' || signal.aborted) return Promise.resolve();
    const words = audio.text.split(/\s+/).filter(Boolean).length;
    const seconds = words * SECONDS_PER_WORD * Math.max(1, audio.loop);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
