/**
 * Hold music, wait music and announcements, from their URLs to the conference audio: the URL
 * is fetched and resolved in the background (a request never waits for it), then handed to
 * the media side. An announcement ends with an `announcement` event — `end`, or `fail` with
 * the reason — which a conference status callback subscribed to `announcement` receives.
 *
 * Hold and wait documents run live, as Twilio runs them: each pass of a TwiML document is
 * fetched when the one before has played, so `<Play>music.mp3</Play><Redirect/>` loops through
 * the app (and a document that changes between fetches is followed), and a document that ends
 * without a Redirect is fetched again from the HoldUrl/WaitUrl. A pass plays over and over
 * until the next is ready, so the next fetch starts a little before the pass ends (as long
 * before as the last fetch took). An audio file is simply looped. Passes that play nothing are
 * paced by the RedirectLoopGuard. The loop stops when the participant is taken off hold,
 * leaves, or its conference starts (wait music).
 */
import { performance } from 'node:perf_hooks';
import type { HttpMethod } from '../../domain/call.js';
import type { ConferenceAudio, DocumentFetcher } from '../../domain/call-ports.js';
import type { ConferenceEvent } from '../../domain/events.js';
import { isParticipantEvent } from '../../domain/events.js';
import type { Conference, Participant } from '../../domain/model.js';
import type { EventBus } from '../../events/event-bus.js';
import type { CallLogger } from './call-runtime.js';
import { RedirectLoopGuard } from './redirect-loop-guard.js';
import { readAudioDocument, resolveAudio, type AudioDocument } from './resolve-audio.js';
import { sleep } from './sleep.js';
import { logFailure } from './application-error-log.js';

export interface AudioUrlRequest {
  url: string;
  method: HttpMethod;
}

type Music = 'hold' | 'wait';

interface LiveDocument {
  conferenceSid: string;
  stop: AbortController;
}

/** 8 kHz: samples per millisecond. */
const SAMPLES_PER_MS = 8;
/** How much earlier than strictly needed the next pass is fetched. */
const FETCH_MARGIN_MS = 250;

export class ConferenceAudioScheduler {
  private readonly live = new Map<string, LiveDocument>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly documents: DocumentFetcher,
    private readonly audio: ConferenceAudio,
    bus: EventBus,
    /** Tells the `announcement` events (numbered for the callback when subscribed: record-events.ts). */
    private readonly tell: (events: ConferenceEvent[]) => Promise<void>,
    private readonly logger: CallLogger,
    private readonly now: () => number,
  ) {
    this.unsubscribe = bus.subscribe((event) => this.onEvent(event));
  }

  private params(conference: Conference, callSid?: string): Record<string, string> {
    return { AccountSid: conference.accountSid, ConferenceSid: conference.sid, FriendlyName: conference.friendlyName, ...(callSid ? { CallSid: callSid } : {}) };
  }

  /** A participant is put on hold: its HoldUrl's audio, or the default music when none works. */
  hold(conference: Conference, callSid: string, holdUrl: AudioUrlRequest | undefined): void {
    this.play('hold', conference, callSid, holdUrl);
  }

  /** A participant waits for the conference to start: its WaitUrl (`''` is silence), or the default. */
  wait(conference: Conference, callSid: string, waitUrl: AudioUrlRequest | undefined): void {
    if (waitUrl?.url === '') {
      this.stop('wait', callSid);
      void this.audio.waitMusic(callSid, new Int16Array(0));
      return;
    }
    this.play('wait', conference, callSid, waitUrl);
  }

  /** Plays an AnnounceUrl to one participant (`listener`) or to the whole conference. */
  announce(conference: Conference, announce: AudioUrlRequest, listener?: Participant): void {
    const callSid = listener?.callSid;
    const target = callSid ? { callSid } : { conferenceSid: conference.sid };
    const told = (outcome: 'end' | 'fail', reason?: string): void =>
      void this.tell([
        {
          type: 'announcement',
          at: this.now(),
          conference,
          outcome,
          url: announce.url,
          ...(listener ? { callSid: listener.callSid, listener } : {}),
          ...(reason ? { reason } : {}),
        },
      ]).catch((error: unknown) => this.logger.warn({ err: error, url: announce.url }, 'could not tell the announcement'));
    void resolveAudio(this.documents, { ...announce, accountSid: conference.accountSid, params: this.params(conference, callSid) })
      .then((playlist) => this.audio.announce(target, playlist))
      .then(
        () => told('end'),
        (error: unknown) => {
          logFailure(this.logger, { url: announce.url, target }, 'AnnounceUrl could not be played', error);
          told('fail', (error as Error).message);
        },
      );
  }

  /** Stops every live document (shutdown). Idempotent. */
  close(): void {
    this.unsubscribe();
    this.stopAll();
  }

  /** Stops every live document, and goes on listening (a fenced node). */
  stopAll(): void {
    for (const document of this.live.values()) document.stop.abort();
    this.live.clear();
  }

  private onEvent(event: ConferenceEvent): void {
    if (event.type === 'start' || event.type === 'end') {
      for (const [key, document] of this.live) {
        if (document.conferenceSid === event.conference.sid && (event.type === 'end' || key.startsWith('wait:'))) this.stopKey(key);
      }
      return;
    }
    if (!isParticipantEvent(event)) return;
    const { callSid } = event.participant;
    if (event.type === 'unhold') this.stop('hold', callSid);
    if (event.type === 'leave') {
      this.stop('hold', callSid);
      this.stop('wait', callSid);
    }
  }

  private stop(music: Music, callSid: string): void {
    this.stopKey(`${music}:${callSid}`);
  }

  private stopKey(key: string): void {
    this.live.get(key)?.stop.abort();
    this.live.delete(key);
  }

  private set(music: Music, callSid: string, sound: Int16Array | undefined): Promise<void> {
    return music === 'hold' ? this.audio.holdMusic(callSid, sound) : this.audio.waitMusic(callSid, sound);
  }

  private play(music: Music, conference: Conference, callSid: string, url: AudioUrlRequest | undefined): void {
    this.stop(music, callSid);
    if (!url) {
      void this.set(music, callSid, undefined);
      return;
    }
    const document: LiveDocument = { conferenceSid: conference.sid, stop: new AbortController() };
    this.live.set(`${music}:${callSid}`, document);
    void this.runLive(music, conference, callSid, url, document.stop.signal).finally(() => {
      if (this.live.get(`${music}:${callSid}`) === document) this.live.delete(`${music}:${callSid}`);
    });
  }

  /** Plays a hold or wait URL pass after pass (see the file comment). */
  private async runLive(music: Music, conference: Conference, callSid: string, first: AudioUrlRequest, signal: AbortSignal): Promise<void> {
    const name = music === 'hold' ? 'HoldUrl' : 'WaitUrl';
    const request = { accountSid: conference.accountSid, params: this.params(conference, callSid) };
    const loops = new RedirectLoopGuard((limits) =>
      this.logger.warn({ callSid, url: first.url }, `${name} plays nothing between its fetches: fetching it at most once a second (stopping after ${limits.maxQuick} in a row)`),
    );
    let next: AudioUrlRequest = first;
    let playingUntil = 0;
    for (let pass = 0; !signal.aborted; pass++) {
      if (!(await loops.pace(signal))) {
        this.logger.warn({ callSid, url: first.url }, `${name} kept playing nothing; it is no longer fetched`);
        return;
      }
      if (signal.aborted) return;
      const began = performance.now();
      let document: AudioDocument;
      let sound: Int16Array;
      try {
        document = await readAudioDocument(this.documents, { ...next, ...request, signal });
        const playlist = document.kind === 'audio' ? [{ kind: 'play' as const, url: document.url, loop: 1 }] : document.items;
        sound = await this.audio.render(playlist, true);
      } catch (error) {
        if (signal.aborted) return;
        if (pass === 0) {
          logFailure(this.logger, { callSid, url: next.url }, `${name} gave nothing to play (playing the default ${music} music)`, error);
          await this.set(music, callSid, undefined);
        } else {
          logFailure(this.logger, { callSid, url: next.url }, `${name} gave nothing to play (the last audio it gave plays on)`, error);
        }
        return;
      }
      await sleep(playingUntil - performance.now(), signal); // the pass now playing ends first
      if (signal.aborted) return;
      await this.set(music, callSid, sound);
      if (document.kind === 'audio') return; // a file loops by itself
      const lengthMs = sound.length / SAMPLES_PER_MS;
      playingUntil = performance.now() + lengthMs;
      next = document.redirect ?? first;
      // Fetch the next pass as long before this one ends as this fetch took.
      const took = performance.now() - began;
      await sleep(lengthMs - took - FETCH_MARGIN_MS, signal);
    }
  }
}
