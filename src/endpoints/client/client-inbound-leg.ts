/**
 * The browser of a call it places (`connect`), before and as Conclave answers it — the call
 * engine's InboundLeg, as SipInboundLeg is a phone's INVITE. The browser is told, by the `id`
 * it chose and the CallSid:
 * - `{ type: 'ringing', id, callSid }` while the Application's TwiML is fetched;
 * - `{ type: 'ringing', id, callSid, sdp }` for early media (`<Dial answerOnBridge>`'s ringback);
 * - `{ type: 'accepted', id, callSid, sdp? }` on the answer (the SDP answer in the first message
 *   that carries one: whichever of these came first);
 * - `{ type: 'hangup', id, callSid, reason }` when the call is refused (`<Reject>`: busy or
 *   no-answer; failed), `{ type: 'error', id, callSid, code, message }` when its offer is unusable.
 * The browser gives up before the answer with `hangup` (or by closing its WebSocket).
 */
import type { InboundLeg, Refusal, RemoteLeg } from '../../domain/call-ports.js';
import type { MediaLeg } from '../media/media-leg.js';
import type { BrowserMedia } from './browser-media.js';
import { browserRemoteLeg, type KeyPresses } from './browser-remote-leg.js';
import { BAD_MESSAGE } from './client-protocol.js';
import type { ClientSession, SessionCall } from './client-session.js';

export class ClientInboundLeg implements InboundLeg {
  readonly abandoned: Promise<void>;
  private giveUp: () => void = () => {};
  private callSid: string | undefined;
  private rang = false;
  private sdpSent = false;
  private early = false;
  private settled = false;
  private media: Promise<{ leg: MediaLeg; answerSdp: string }> | undefined;
  /** Its messages until the answer: a hang-up, or the WebSocket closing, is the caller giving up. */
  private readonly pending: SessionCall = {
    message: (message) => {
      if (message.type === 'hangup') this.abandon();
    },
    sessionClosed: () => this.abandon(),
  };

  constructor(
    private readonly session: ClientSession,
    /** The id the browser gave its `connect`. */
    readonly id: string,
    private readonly offerSdp: string,
    private readonly browserMedia: BrowserMedia,
    private readonly pressed: KeyPresses,
  ) {
    this.abandoned = new Promise((resolve) => (this.giveUp = resolve));
  }

  /** The call's SID, once it exists: messages about it reach this leg, and a ring already asked for is told. */
  bind(callSid: string): void {
    if (this.callSid !== undefined) return;
    this.callSid = callSid;
    if (this.session.closed) {
      this.abandon();
      return;
    }
    this.session.attach(callSid, this.pending);
    if (this.rang) this.session.send({ type: 'ringing', id: this.id, callSid });
  }

  ring(): void {
    this.rang = true;
    if (this.callSid !== undefined) this.session.send({ type: 'ringing', id: this.id, callSid: this.callSid });
  }

  async earlyMedia(callSid: string): Promise<void> {
    this.early = true;
    const { answerSdp } = await this.openMedia(callSid);
    this.session.send({ type: 'ringing', id: this.id, callSid, ...this.sdpOnce(answerSdp) });
  }

  async answer(callSid: string): Promise<RemoteLeg> {
    const { leg, answerSdp } = await this.openMedia(callSid);
    this.settled = true;
    if (this.early) await leg.answered();
    this.session.detach(callSid, this.pending);
    this.session.send({ type: 'accepted', id: this.id, callSid, ...this.sdpOnce(answerSdp) });
    return browserRemoteLeg(this.session, callSid, leg, this.pressed);
  }

  refuse(why: Refusal): undefined {
    this.settled = true;
    if (this.callSid !== undefined) {
      this.session.detach(this.callSid, this.pending);
      this.session.send({ type: 'hangup', id: this.id, callSid: this.callSid, reason: why });
    }
    this.closeMedia();
    return undefined;
  }

  /** The SDP answer, in the first message that carries one. */
  private sdpOnce(sdp: string): { sdp?: string } {
    if (this.sdpSent) return {};
    this.sdpSent = true;
    return { sdp };
  }

  /** The call's WebRTC leg and our answer, opened once; rejects when the browser is gone or its offer unusable. */
  private async openMedia(callSid: string): Promise<{ leg: MediaLeg; answerSdp: string }> {
    this.bind(callSid);
    if (this.session.closed) throw gone();
    this.media ??= this.browserMedia.answer(callSid, this.offerSdp, { unanswered: this.early });
    let media: { leg: MediaLeg; answerSdp: string };
    try {
      media = await this.media;
    } catch (error) {
      this.settled = true;
      this.session.detach(callSid, this.pending);
      this.session.send({ type: 'error', id: this.id, callSid, code: BAD_MESSAGE, message: `Conclave could not use the call's SDP offer: ${(error as Error).message}` });
      throw error;
    }
    if (this.session.closed) {
      await media.leg.close();
      throw gone();
    }
    return media;
  }

  private abandon(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.callSid !== undefined) this.session.detach(this.callSid, this.pending);
    this.closeMedia();
    this.giveUp();
  }

  private closeMedia(): void {
    if (this.media) void this.media.then(({ leg }) => leg.close()).catch(() => undefined); // a failed open has nothing to close
  }
}

function gone(): Error {
  return new Error('the browser hung up before the answer');
}
