/**
 * Real audio for calls and conferences: `<Play>` and `<Say>` to a call's leg, hold and wait
 * music from HoldUrl and WaitUrl, and AnnounceUrl to one participant or the whole room.
 * Sounds are turned into 8 kHz PCM here (files decoded, text spoken by espeak-ng) and handed to
 * the media worker, which loops or plays them in its 20 ms tick.
 *
 * Where espeak-ng is missing, `<Say>` is silence of about the time the words would take (150
 * words a minute) and a warning says why, so the TwiML around it still runs as it would.
 */
import type { AudioFetcher } from '../../audio/audio-fetcher.js';
import { concatPcm } from '../../audio/pcm.js';
import { SpeechSynthesizer } from '../../audio/speech.js';
import type { Call } from '../../domain/call.js';
import type { AudioPlayer, AudioRequest, ConferenceAudio, PlaylistItem } from '../../domain/call-ports.js';
import type { SoundSpec } from '../../media/protocol.js';
import type { MediaLogger, MediaPlane } from './media-plane.js';

const RATE = 8000;
const SECONDS_PER_WORD = 0.4;
/** A `<Play>` file larger than this is refused (about 6 minutes of 48 kHz 16-bit stereo). */
const MAX_AUDIO_BYTES = 64 * 1024 * 1024;
/** Twilio plays `loop="0"` "indefinitely"; a hold or wait playlist loops by itself. */
const FOREVER = 1000;

export interface MediaAudioOptions {
  speechCommand: string;
  fetchTimeoutMs: number;
  /** Fetches and caches media files, through the app's outbound policy. */
  fetcher: AudioFetcher;
}

export class MediaAudio implements AudioPlayer, ConferenceAudio {
  private readonly speech: SpeechSynthesizer;
  private warnedNoSpeech = false;

  constructor(
    private readonly plane: MediaPlane,
    private readonly logger: MediaLogger,
    private readonly options: MediaAudioOptions,
  ) {
    this.speech = new SpeechSynthesizer({ command: options.speechCommand, timeoutMs: 20_000 });
  }

  async play(call: Call, audio: AudioRequest, signal: AbortSignal): Promise<void> {
    if (signal.aborted || !this.plane.leg(call.sid)) return;
    const loops = audio.loop === 0 ? FOREVER : Math.max(1, audio.loop);
    let pcm: Int16Array;
    try {
      pcm = await this.renderOne(audio, signal);
    } catch (error) {
      if (signal.aborted) return; // the call moved on while the file was fetched
      // Twilio goes on with the next verb when a <Play> file cannot be played (error 13227 family).
      this.logger.warn({ err: error, callSid: call.sid, audio }, `could not play: ${(error as Error).message}`);
      return;
    }
    // The leg is looked up after the fetch: the call may have ended meanwhile.
    const leg = this.plane.leg(call.sid);
    for (let i = 0; leg && i < loops && !signal.aborted; i++) {
      if (!(await leg.play({ pcm }, signal))) return;
    }
  }

  async ringback(call: Call, signal: AbortSignal): Promise<void> {
    // One 6 s cycle per request, again and again: the cycle ends in 4 s of silence, so the
    // round trip between two cycles is never heard.
    const leg = this.plane.leg(call.sid);
    while (leg && !signal.aborted) {
      if (!(await leg.play('ringback', signal))) return;
    }
  }

  async beep(call: Call, signal: AbortSignal): Promise<void> {
    await this.plane.leg(call.sid)?.play('beep', signal);
  }

  /** A sound file (WAV, MP3, raw μ-law) as 8 kHz PCM, fetched (and cached) as `<Play>` fetches it. */
  fetchSound(url: string, signal?: AbortSignal): Promise<Int16Array> {
    return this.options.fetcher.fetch(url, { timeoutMs: this.options.fetchTimeoutMs, maxBytes: MAX_AUDIO_BYTES, ...(signal ? { signal } : {}) });
  }

  holdMusic(callSid: string, sound: Int16Array | undefined): Promise<void> {
    return this.sources(callSid, 'hold', sound);
  }

  waitMusic(callSid: string, sound: Int16Array | undefined): Promise<void> {
    return this.sources(callSid, 'wait', sound);
  }

  async announce(target: { conferenceSid: string } | { callSid: string }, playlist: PlaylistItem[]): Promise<void> {
    const pcm = await this.render(playlist, false);
    if (pcm.length === 0) return;
    const listeners = 'callSid' in target ? this.plane.leg(target.callSid) : this.plane.findRoom(target.conferenceSid);
    const played = (await listeners?.play({ pcm })) ?? false;
    if (!played) throw new Error('the announcement was cut short: its listeners left');
  }

  private async sources(callSid: string, which: 'hold' | 'wait', pcm: Int16Array | undefined): Promise<void> {
    const leg = this.plane.leg(callSid);
    if (!leg) return;
    const builtin = which === 'hold' ? 'hold-music' : 'wait-music';
    const sound: SoundSpec | null = pcm === undefined ? builtin : pcm.length === 0 ? null : { pcm };
    // A leg gone meanwhile (the call ended) has nothing left to play to.
    await leg.setSources(which === 'hold' ? { hold: sound } : { wait: sound }).catch((error: unknown) => this.plane.unlessGone(error, callSid, `set the ${which} music`));
  }

  /** One PCM for a whole playlist; `looping` playlists (hold, wait) cap `loop="0"` items at one pass. */
  async render(playlist: PlaylistItem[], looping: boolean): Promise<Int16Array> {
    const parts: Int16Array[] = [];
    for (const item of playlist) {
      if (item.kind === 'pause') {
        parts.push(new Int16Array(Math.round(item.seconds * RATE)));
        continue;
      }
      const pcm = await this.renderOne(item);
      const loops = item.loop === 0 ? (looping ? 1 : 10) : Math.max(1, item.loop);
      for (let i = 0; i < loops; i++) parts.push(pcm);
    }
    return concatPcm(parts);
  }

  private async renderOne(audio: AudioRequest, signal?: AbortSignal): Promise<Int16Array> {
    if (audio.kind === 'play') return this.fetchSound(audio.url, signal);
    if (await this.speech.available()) return this.speech.speak(audio.text, { voice: audio.voice, language: audio.language });
    if (!this.warnedNoSpeech) {
      this.warnedNoSpeech = true;
      this.logger.warn({ command: this.options.speechCommand }, '<Say> is silent: espeak-ng is not installed (apt-get install espeak-ng)');
    }
    const words = audio.text.split(/\s+/).filter(Boolean).length;
    return new Int16Array(Math.round(words * SECONDS_PER_WORD * RATE));
  }
}
