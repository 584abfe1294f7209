/**
 * The caller of an inbound SIP call before (and as) Conclave answers it, as the call engine
 * sees it (InboundLeg): 180 while the TwiML is fetched; a 183 with our SDP answer and a live
 * RTP leg for early media (`<Dial answerOnBridge>`'s ringback); the 200 with the same answer
 * (RFC 3264 §5: the answer of a 183 and of the 200 must match), or a refusal.
 *
 * Our side of the SDP and the RTP leg are made once, by whichever of early media and answer
 * comes first. A leg opened for early media is ours to close if the call is never answered
 * (refused, or the caller CANCELs), and its RTP timeout starts only with the 200: a phone need
 * not send RTP before it.
 *
 * A WebRTC offer (a JsSIP client over WebSocket, RFC 7118) is answered with a WebRTC leg
 * (ICE-lite, DTLS-SRTP: webrtc-media.ts) instead of an RTP one; the rest is the same.
 */
import type { InboundLeg, Refusal, RemoteLeg } from '../../domain/call-ports.js';
import { writeAnswer, type RemoteAudio } from '../../sip/sdp/audio-session.js';
import { answerCrypto } from '../../sip/sdp/sdes-crypto.js';
import { isWebRtcAudio } from '../../sip/sdp/session-audio.js';
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import type { SipCallMedia, SipGateway } from './sip-gateway.js';
import { WebRtcOfferRefused } from '../webrtc/webrtc-media.js';
import { remoteLegOf } from './sip-remote-leg.js';

/** When a caller refused for want of media ports may try again (seconds). */
export const RETRY_AFTER = ['Retry-After', '5'] as const;

/** <Reject> and unanswered answerOnBridge: 486 Busy Here for `busy`, 603 Decline otherwise, as Twilio's SIP interface answers. */
const REFUSAL_STATUS: Record<Refusal, number> = { busy: 486, 'no-answer': 603, failed: 500 };

interface OpenedMedia {
  /** Our SDP answer, for the 183 and the 200 alike. */
  sdp: string;
  /** The leg and our side of the SDP, which the gateway keeps for re-INVITEs. */
  media: SipCallMedia;
}

export class SipInboundLeg implements InboundLeg {
  readonly abandoned: Promise<void>;
  private media: Promise<OpenedMedia> | undefined;
  private callSid = '';
  private early = false;

  constructor(
    private readonly gateway: SipGateway,
    private readonly incoming: IncomingCall,
  ) {
    this.abandoned = new Promise<void>((resolve) =>
      incoming.on('cancel', () => {
        this.closeUnanswered();
        resolve();
      }),
    );
  }

  ring(): void {
    this.incoming.ringing();
  }

  refuse(why: Refusal): number {
    const status = REFUSAL_STATUS[why];
    this.incoming.reject(status);
    this.closeUnanswered();
    return status;
  }

  async earlyMedia(callSid: string): Promise<void> {
    this.early = true;
    const { sdp } = await this.openMedia(callSid);
    this.incoming.progress(sdp);
  }

  async answer(callSid: string): Promise<RemoteLeg> {
    const { sdp, media } = await this.openMedia(callSid);
    const { leg } = media;
    const call = this.incoming.accept(sdp);
    if (this.early) leg.answered().catch((error: unknown) => this.gateway.media.unlessGone(error, callSid, 'start its RTP timeout'));
    this.gateway.track(call, media);
    return remoteLegOf(call, leg);
  }

  /** The RTP leg and our SDP answer, opened once; rejects (leg closed) if the caller is gone. */
  private async openMedia(callSid: string): Promise<OpenedMedia> {
    if (this.incoming.state !== 'pending') throw gone();
    this.callSid = callSid;
    // A WebRTC offer (JsSIP over WebSocket) gets a WebRTC leg (ICE-lite, DTLS-SRTP); a phone's, an RTP one.
    const { offer, offerSdp } = this.incoming;
    this.media ??= isWebRtcAudio(offer) ? this.gateway.answerWebRtc(callSid, offerSdp, this.early) : this.openRtp(callSid, offer);
    let opened: OpenedMedia;
    try {
      opened = await this.media;
    } catch (error) {
      // No media for this call (no RTP port free, the media plane failed): the caller is told
      // at once (503, RFC 3261 §21.5.4) rather than left ringing; an offer we cannot use, 488.
      if (this.incoming.state === 'pending') {
        if (error instanceof WebRtcOfferRefused) this.incoming.reject(488, { reason: 'Not Acceptable Here' });
        else this.incoming.reject(503, { reason: 'Service Unavailable', headers: [RETRY_AFTER] });
      }
      throw error;
    }
    if (this.incoming.state !== 'pending') {
      await opened.media.leg.close();
      throw gone();
    }
    return opened;
  }

  /** A phone's offer: an RTP leg, SRTP to an SRTP offer (RFC 4568), with our fresh key on the line it chose. */
  private async openRtp(callSid: string, offer: RemoteAudio): Promise<OpenedMedia> {
    const ours = offer.crypto ? answerCrypto(offer.crypto) : undefined;
    const opened = await this.gateway.openMedia(callSid, {
      codec: offer.codec,
      telephoneEvent: offer.telephoneEvent,
      ...(offer.address !== '0.0.0.0' ? { remote: { address: offer.address, port: offer.port } } : {}),
      unanswered: this.early,
      ...(ours && offer.crypto ? { srtp: { local: ours.key, remote: offer.crypto.key } } : {}),
    });
    return { sdp: writeAnswer(opened.local, offer, ours ? { crypto: [ours] } : {}), media: { ...opened, ...(ours ? { crypto: ours } : {}) } };
  }

  private closeUnanswered(): void {
    if (this.media) void this.media.then(({ media }) => media.leg.close()).catch(() => undefined); // a failed open has nothing to close
  }
}

function gone(): Error {
  return new Error('the caller hung up before the answer');
}
