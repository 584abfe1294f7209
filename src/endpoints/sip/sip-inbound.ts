/**
 * An INVITE from a phone or trunk (RFC 3261 §13.3): the user part of its Request-URI names what
 * it calls — a number the account owns, with or without `+` — and the app's router creates the
 * inbound call, which rings (180) while its TwiML is fetched. The TwiML decides: answered (200
 * with our SDP answer and an RTP leg), or `<Reject>` (486 Busy Here for `busy`, 603 Decline
 * otherwise, as Twilio's SIP interface answers). Nothing to route to: 404. A CANCEL from the
 * caller before that abandons the call.
 */
import type { InboundLeg, Refusal, RemoteLeg } from '../../domain/call-ports.js';
import { writeAnswer } from '../../sip/sdp/audio-session.js';
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import type { InboundRouter, SipGateway } from './sip-gateway.js';
import { remoteLegOf } from './sip-remote-leg.js';

const REFUSAL_STATUS: Record<Refusal, number> = { busy: 486, 'no-answer': 603, failed: 500 };

export class SipInbound {
  constructor(
    private readonly gateway: SipGateway,
    private readonly route: InboundRouter,
  ) {}

  async receive(incoming: IncomingCall): Promise<void> {
    const user = incoming.request.uri.match(/^sips?:([^@;?]+)@/i)?.[1];
    const from = incoming.from?.uri ?? 'sip:anonymous@anonymous.invalid';
    if (!user) {
      incoming.reject(404, { reason: 'Not Found' });
      return;
    }
    const leg = this.inboundLeg(incoming);
    let routed: boolean;
    try {
      routed = await this.route({ user: unescapeUser(user), from, leg });
    } catch (error) {
      this.gateway.log.warn({ err: error, user, from }, 'SIP: could not route an inbound call');
      incoming.reject(500, { reason: 'Server Internal Error' });
      return;
    }
    if (!routed) {
      this.gateway.log.info({ user, from }, `SIP: nothing answers to ${user}`);
      incoming.reject(404, { reason: 'Not Found' });
    }
  }

  private inboundLeg(incoming: IncomingCall): InboundLeg {
    const { gateway } = this;
    const abandoned = new Promise<void>((resolve) => incoming.on('cancel', () => resolve()));
    return {
      ring: () => incoming.ringing(),
      refuse: (why) => incoming.reject(REFUSAL_STATUS[why]),
      abandoned,
      answer: async (callSid: string): Promise<RemoteLeg> => {
        if (incoming.state !== 'pending') throw new Error('the caller hung up before the answer');
        const offer = incoming.offer;
        const { local, mediaGone } = await gateway.openMedia(callSid, {
          codec: offer.codec,
          telephoneEvent: offer.telephoneEvent,
          ...(offer.address !== '0.0.0.0' ? { remote: { address: offer.address, port: offer.port } } : {}),
        });
        if (incoming.state !== 'pending') {
          await gateway.media.closeLeg(callSid);
          throw new Error('the caller hung up before the answer');
        }
        const call = incoming.accept(writeAnswer(local, offer));
        gateway.track(call, { callSid, local });
        return remoteLegOf(gateway, call, callSid, mediaGone);
      },
    };
  }
}

/** The user part of a URI with its %-escapes undone (RFC 3261 §19.1.2); a bad escape stays as written. */
function unescapeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
