/**
 * An INVITE from a phone or trunk (RFC 3261 §13.3): the user part of its Request-URI names what
 * it calls — a number the account owns, with or without `+` — and the app's router creates the
 * inbound call, which rings (180) while its TwiML is fetched. The TwiML decides: answered (200
 * with our SDP answer and an RTP leg), or `<Reject>` (486 Busy Here for `busy`, 603 Decline
 * otherwise, as Twilio's SIP interface answers). Nothing to route to: 404. A CANCEL from the
 * caller before that abandons the call. `<Dial answerOnBridge>` first sends a 183 with the same
 * SDP answer and RTP leg (early media: the caller hears ringback), and answers on the bridge.
 * With every RTP port pair taken, an INVITE is answered 503 with Retry-After at once.
 */
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import type { InboundRouter, SipGateway } from './sip-gateway.js';
import { RETRY_AFTER, SipInboundLeg } from './sip-inbound-leg.js';

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
    if (!this.gateway.hasMediaCapacity()) {
      // Every RTP port pair is taken: say so now (RFC 3261 §21.5.4) rather than ring and fail.
      incoming.reject(503, { reason: 'Service Unavailable', headers: [RETRY_AFTER] });
      return;
    }
    const leg = new SipInboundLeg(this.gateway, incoming);
    let routed: boolean;
    try {
      routed = await this.route({ user: unescapeUser(user), from, leg });
    } catch (error) {
      this.gateway.log.warn({ err: error, user, from }, 'SIP: could not route an inbound call');
      incoming.reject(500, { reason: 'Server Internal Error' });
      return;
    }
    if (!routed) {
      this.gateway.floodLog.unrouted(user, from, incoming.source);
      incoming.reject(404, { reason: 'Not Found' });
    }
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
