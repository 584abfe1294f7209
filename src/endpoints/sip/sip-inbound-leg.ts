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
 */
import type { InboundLeg, Refusal, RemoteLeg } from '../../domain/call-ports.js';
import { writeAnswer, type LocalAudio } from '../../sip/sdp/audio-session.js';
import { answerCrypto, type SdesCrypto } from '../../sip/sdp/sdes-crypto.js';
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import type { SipGateway } from './sip-gateway.js';
import { remoteLegOf } from './sip-remote-leg.js';
import type { MediaLeg } from '../media/media-leg.js';

/** When a caller refused for want of media ports may try again (seconds). */
export const RETRY_AFTER = ['Retry-After', '5'] as const;

/** <Reject> and unanswered answerOnBridge: 486 Busy Here for `busy`, 603 Decline otherwise, as Twilio's SIP interface answers. */
const REFUSAL_STATUS: Record<Refusal, number> = { busy: 486, 'no-answer': 603, failed: 500 };

interface OpenedMedia {
  leg: MediaLeg;
  local: LocalAudio;
  /** Our SDP answer, for the 183 and the 200 alike. */
  sdp: string;
  /** Our SRTP key and line, when the call is SRTP. */
  crypto?: SdesCrypto;
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
    const { leg, local, sdp, crypto } = await this.openMedia(callSid);
    const call = this.incoming.accept(sdp);
    if (this.early) leg.answered().catch((error: unknown) => this.gateway.media.unlessGone(error, callSid, 'start its RTP timeout'));
    this.gateway.track(call, { leg, local, ...(crypto ? { crypto } : {}) });
    return remoteLegOf(call, leg);
  }

  /** The RTP leg and our SDP answer, opened once; rejects (leg closed) if the caller is gone. */
  private async openMedia(callSid: string): Promise<OpenedMedia> {
    if (this.incoming.state !== 'pending') throw gone();
    this.callSid = callSid;
    this.media ??= (async () => {
      const offer = this.incoming.offer;
      // An SRTP offer (RFC 4568) is answered with SRTP: our fresh key on the line it chose.
      const ours = offer.crypto ? answerCrypto(offer.crypto) : undefined;
      const opened = await this.gateway.openMedia(callSid, {
        codec: offer.codec,
        telephoneEvent: offer.telephoneEvent,
        ...(offer.address !== '0.0.0.0' ? { remote: { address: offer.address, port: offer.port } } : {}),
        unanswered: this.early,
        ...(ours && offer.crypto ? { srtp: { local: ours.key, remote: offer.crypto.key } } : {}),
      });
      return { ...opened, sdp: writeAnswer(opened.local, offer, ours ? { crypto: [ours] } : {}), ...(ours ? { crypto: ours } : {}) };
    })();
    let media: OpenedMedia;
    try {
      media = await this.media;
    } catch (error) {
      // No media for this call (no RTP port free, the media plane failed): the caller is told
      // at once (503, RFC 3261 §21.5.4) rather than left ringing.
      if (this.incoming.state === 'pending') this.incoming.reject(503, { reason: 'Service Unavailable', headers: [RETRY_AFTER] });
      throw error;
    }
    if (this.incoming.state !== 'pending') {
      await media.leg.close();
      throw gone();
    }
    return media;
  }

  private closeUnanswered(): void {
    if (this.media) void this.media.then(({ leg }) => leg.close()).catch(() => undefined); // a failed open has nothing to close
  }
}

function gone(): Error {
  return new Error('the caller hung up before the answer');
}
