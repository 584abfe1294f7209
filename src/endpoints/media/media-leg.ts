/**
 * One call's media leg, as the control plane holds it: an RTP leg to a phone or a simulated
 * endpoint's leg, in the media worker. It has the lifecycle of a mediasoup Producer: an
 * idempotent `close()`, a `closed` getter, one `close` event on its `observer` (with why), and
 * it closes when its plane does (or the worker dies) — then every play it was waiting on settles
 * `false` and every request rejects with `MediaError('closed')`, so nothing waits for ever.
 *
 * The worker handles requests as they come, and some (adding an RTP leg: binding a socket)
 * finish later than the ones after them; so every request about one leg waits for the previous
 * one (the leg's chain), and a mute can never overtake the move into the room.
 *
 * A leg lives in its own "home" room while the call runs TwiML (`<Play>`, `<Say>`) and moves
 * into a MediaRoom (a conference, a `<Dial>` bridge) while it is in one.
 */
import { EventEmitter } from 'node:events';
import { MediaError } from '../../media/media-error.js';
import type { AudioCodecName, LegFlagsPatch, RemoteAddress, SoundSpec, SrtpKey, WebRtcLegParams } from '../../media/protocol.js';
import type { MediaRoom } from './media-room.js';
import type { MediaChannel } from './media-channel.js';

/** Why a leg closed: the call ended, its RTP stopped, or the media plane failed it. */
export type LegEnd = 'hung-up' | 'rtp-timeout' | 'media-failure';

export interface MediaLegEvents {
  close: [why: LegEnd];
}

export class MediaLeg {
  /** `close` fires once, when the leg closes for whatever reason. */
  readonly observer = new EventEmitter<MediaLegEvents>();
  /** Resolves (never rejects) when the leg has closed, with why. */
  readonly ended: Promise<LegEnd>;
  private chain: Promise<unknown> = Promise.resolve();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private current: MediaRoom | undefined;
  private readonly plays = new Set<(played: boolean) => void>();
  private resolveEnded: (why: LegEnd) => void = () => {};

  constructor(
    readonly callSid: string,
    readonly kind: 'rtp' | 'sim',
    /** Whether the leg records what it hears (a `sim:…;record` endpoint). */
    readonly records: boolean,
    private readonly channel: MediaChannel,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** True once `close()` was called or the plane closed it. */
  get closed(): boolean {
    return this.state !== 'open';
  }

  /** The room it is in besides its own (a conference, a bridge), if any. */
  get room(): MediaRoom | undefined {
    return this.current;
  }

  /** The worker's room of the leg's own, while it runs TwiML. */
  get homeRoomId(): string {
    return `call:${this.callSid}`;
  }

  /** Runs `op` after every earlier request about this leg; rejects with `closed` once it is. */
  run<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new MediaError('closed', `the media leg of ${this.callSid} is closed`));
    const next = this.chain.catch(() => undefined).then(() => {
      if (this.state === 'closed') throw new MediaError('closed', `the media leg of ${this.callSid} is closed`);
      return op();
    });
    this.chain = next;
    return next;
  }

  /** Where the leg sends (the peer's SDP), with which codec, and its telephone-event payload type (null: none). */
  setRemote(remote: RemoteAddress, codec?: AudioCodecName, telephoneEvent?: number | null, srtp?: SrtpKey, payloadType?: number): Promise<void> {
    return this.run(async () => {
      const te = telephoneEvent === undefined ? {} : { telephoneEventPayloadType: telephoneEvent };
      const pt = payloadType === undefined ? {} : { payloadType };
      await this.channel.request('setRemote', { legId: this.callSid, ...remote, ...(codec ? { codec } : {}), ...pt, ...te, ...(srtp ? { srtp } : {}) });
    });
  }

  /**
   * A WebRTC leg: what the peer's SDP says (its answer to our offer, or a new offer) — its ICE
   * credentials, certificate fingerprint and DTLS role, the codec and payload type chosen, its
   * telephone-event payload type. No address: ICE finds where the peer is (RFC 8445 §2.5).
   */
  setWebRtcRemote(remote: {
    webrtc: Partial<Pick<WebRtcLegParams, 'remoteIce' | 'remoteFingerprint' | 'dtlsRole'>>;
    codec?: AudioCodecName;
    payloadType?: number;
    telephoneEvent?: number | null;
  }): Promise<void> {
    return this.run(async () => {
      const { webrtc, codec, payloadType, telephoneEvent } = remote;
      await this.channel.request('setRemote', {
        legId: this.callSid,
        webrtc,
        ...(codec ? { codec } : {}),
        ...(payloadType === undefined ? {} : { payloadType }),
        ...(telephoneEvent === undefined ? {} : { telephoneEventPayloadType: telephoneEvent }),
      });
    });
  }

  /** The call of a leg opened `unanswered` was answered: its RTP timeout starts now. */
  answered(): Promise<void> {
    return this.run(async () => {
      await this.channel.request('startRtpTimeout', { legId: this.callSid });
    });
  }

  /** Moves the leg into `room` with its flags (or sets its flags if it is there already). */
  enter(room: MediaRoom, flags: LegFlagsPatch): Promise<void> {
    return this.run(async () => {
      if (this.current === room) {
        await this.channel.request('setLeg', { legId: this.callSid, ...flags });
        return;
      }
      // A member before the move, so a last leg leaving meanwhile keeps the room.
      room.add(this);
      try {
        await room.created;
        await this.channel.request('moveLeg', { legId: this.callSid, roomId: room.id, flags });
      } catch (error) {
        room.remove(this);
        throw error;
      }
      const left = this.current;
      this.current = room;
      left?.remove(this);
    });
  }

  /** Back to its own room (the call goes on after the conference or the bridge). */
  leave(): Promise<void> {
    return this.run(async () => {
      const left = this.current;
      if (!left) return;
      await this.channel.request('moveLeg', { legId: this.callSid, roomId: this.homeRoomId });
      this.current = undefined;
      left.remove(this);
    });
  }

  setFlags(flags: LegFlagsPatch): Promise<void> {
    return this.run(async () => {
      await this.channel.request('setLeg', { legId: this.callSid, ...flags });
    });
  }

  /** What the leg hears on hold and while waiting (undefined: built-in music, null: silence). */
  setSources(sources: { hold?: SoundSpec | null; wait?: SoundSpec | null }): Promise<void> {
    return this.run(async () => {
      await this.channel.request('setSources', { legId: this.callSid, ...sources });
    });
  }

  /**
   * Plays a sound to this leg; resolves true when it has played, false when it was stopped
   * (`signal`), or the leg or plane closed first. Never rejects for those reasons.
   */
  play(sound: SoundSpec, signal?: AbortSignal): Promise<boolean> {
    return this.untilPlayed(async () => (await this.channel.request('play', { target: { legId: this.callSid }, sound })).playId, signal);
  }

  /**
   * Sends keypad digits to the far end (`0-9 * # A-D`, `w` 0.5 s and `W` 1 s pauses): RFC 4733
   * events where it negotiated telephone-event, tones in the audio otherwise (a simulated
   * endpoint hears them). Resolves as `play` does: true when all went out, false when stopped
   * by `signal` or the leg or plane closed first; rejects with `invalid` on other characters.
   */
  sendDigits(digits: string, signal?: AbortSignal): Promise<boolean> {
    return this.untilPlayed(async () => (await this.channel.request('sendDigits', { legId: this.callSid, digits })).playId, signal);
  }

  /**
   * A simulated endpoint's far end presses keys (tests, `sim:` calls): each digit reaches
   * `MediaPlane.onDigit` when its key is released, 100 ms apart from the next. Resolves as
   * `sendDigits` does; rejects with `invalid` for an RTP leg.
   */
  pressKeys(digits: string, signal?: AbortSignal): Promise<boolean> {
    return this.untilPlayed(async () => (await this.channel.request('pressKeys', { legId: this.callSid, digits })).playId, signal);
  }

  /** Starts something that ends with a `played` (a play, digits) and waits for that end. */
  private async untilPlayed(start: () => Promise<number>, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.closed || signal?.aborted) return false;
    let playId: number;
    try {
      playId = await this.run(start);
    } catch (error) {
      if (this.closed) return false;
      throw error;
    }
    return this.channel.awaitPlay(playId, { legId: this.callSid }, this.plays, signal);
  }

  /** What a recording leg heard since the last take (a WAV). */
  takeRecording(): Promise<Uint8Array> {
    return this.run(async () => (await this.channel.request('takeRecording', { legId: this.callSid })).wav);
  }

  /**
   * Ends the leg (the call ended, or its RTP stopped): the worker removes it, a recording leg
   * keeps what it heard, its room loses a member, pending plays settle false. Idempotent;
   * resolves when done.
   */
  close(why: LegEnd = 'hung-up'): Promise<void> {
    if (this.state !== 'open') return this.ended.then(() => undefined);
    this.state = 'closing';
    // Once every request before it is done; the chain's own guard lets this one through.
    const done = this.chain
      .catch(() => undefined)
      .then(() => this.channel.legClosing(this, why))
      .catch((error: unknown) => this.channel.log.warn({ err: error, callSid: this.callSid }, 'media: could not close the leg cleanly'))
      .finally(() => this.finish(why));
    this.chain = done;
    return done;
  }

  /** The plane closed or its worker died: nothing to ask the worker, everything settles now. */
  planeClosed(why: LegEnd): void {
    if (this.state === 'closed') return;
    this.state = 'closing';
    this.finish(why);
  }

  private finish(why: LegEnd): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const settle of [...this.plays]) settle(false);
    this.plays.clear();
    this.current?.remove(this);
    this.current = undefined;
    this.channel.forget(this);
    this.resolveEnded(why);
    this.observer.emit('close', why);
  }
}
