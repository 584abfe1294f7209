/**
 * Hold music, wait music and announcements, from their URLs to the conference audio: the URL
 * is fetched and resolved in the background (a request never waits for it), then handed to
 * the media side. An announcement ends with an `announcement` event — `end`, or `fail` with
 * the reason — which a conference status callback subscribed to `announcement` receives.
 */
import type { HttpMethod } from '../../domain/call.js';
import type { ConferenceAudio, DocumentFetcher } from '../../domain/call-ports.js';
import type { Conference } from '../../domain/model.js';
import type { EventBus } from '../../events/event-bus.js';
import type { CallLogger } from './call-runtime.js';
import { resolveAudio } from './resolve-audio.js';

export interface AudioUrlRequest {
  url: string;
  method: HttpMethod;
}

export class ConferenceAudioScheduler {
  constructor(
    private readonly documents: DocumentFetcher,
    private readonly audio: ConferenceAudio,
    private readonly bus: EventBus,
    private readonly logger: CallLogger,
    private readonly now: () => number,
  ) {}

  private params(conference: Conference, callSid?: string): Record<string, string> {
    return { AccountSid: conference.accountSid, ConferenceSid: conference.sid, FriendlyName: conference.friendlyName, ...(callSid ? { CallSid: callSid } : {}) };
  }

  /** A participant is put on hold: its HoldUrl's audio, or the default music when none works. */
  hold(conference: Conference, callSid: string, holdUrl: AudioUrlRequest | undefined): void {
    if (!holdUrl) return this.audio.holdMusic(callSid, undefined);
    void resolveAudio(this.documents, { ...holdUrl, accountSid: conference.accountSid, params: this.params(conference, callSid) }).then(
      (playlist) => this.audio.holdMusic(callSid, playlist),
      (error: unknown) => {
        this.logger.warn({ err: error, callSid, url: holdUrl.url }, 'HoldUrl gave nothing to play; playing the default hold music');
        this.audio.holdMusic(callSid, undefined);
      },
    );
  }

  /** A participant waits for the conference to start: its WaitUrl (`''` is silence), or the default. */
  wait(conference: Conference, callSid: string, waitUrl: AudioUrlRequest | undefined): void {
    if (!waitUrl) return this.audio.waitMusic(callSid, undefined);
    if (waitUrl.url === '') return this.audio.waitMusic(callSid, []);
    void resolveAudio(this.documents, { ...waitUrl, accountSid: conference.accountSid, params: this.params(conference, callSid) }).then(
      (playlist) => this.audio.waitMusic(callSid, playlist),
      (error: unknown) => {
        this.logger.warn({ err: error, callSid, url: waitUrl.url }, 'WaitUrl gave nothing to play; playing the default wait music');
        this.audio.waitMusic(callSid, undefined);
      },
    );
  }

  /** Plays an AnnounceUrl to one participant (`callSid`) or to the whole conference. */
  announce(conference: Conference, announce: AudioUrlRequest, callSid?: string): void {
    const target = callSid ? { callSid } : { conferenceSid: conference.sid };
    const told = (outcome: 'end' | 'fail', reason?: string): void =>
      this.bus.publish([
        { type: 'announcement', at: this.now(), conference, outcome, url: announce.url, ...(callSid ? { callSid } : {}), ...(reason ? { reason } : {}) },
      ]);
    void resolveAudio(this.documents, { ...announce, accountSid: conference.accountSid, params: this.params(conference, callSid) })
      .then((playlist) => this.audio.announce(target, playlist))
      .then(
        () => told('end'),
        (error: unknown) => {
          this.logger.warn({ err: error, url: announce.url, target }, 'AnnounceUrl could not be played');
          told('fail', (error as Error).message);
        },
      );
  }
}
