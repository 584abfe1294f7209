/**
 * Twilio's Secure Media on a SIP Domain (https://www.twilio.com/docs/voice/api/secure-media):
 * with `Secure=true`, "TLS must be used to encrypt SIP messages and SRTP must be used for the
 * media packets. Any non-encrypted calls will be rejected"; with it off, "RTP must be used …
 * Any SRTP encrypted calls will be rejected". So an INVITE to a domain is refused:
 *  - Secure, not over TLS: 403 Forbidden (Twilio's error 32209, "Secure transport required") —
 *    checked first, before any credentials are asked for over the plain transport;
 *  - Secure, a plain RTP offer: 488 Not Acceptable Here (RFC 3261 §21.4.26: the session
 *    description is not acceptable);
 *  - not Secure, an SRTP offer (RTP/SAVP with a=crypto): 488 (Twilio's error 32207, "Secure
 *    media not accepted").
 * Each refusal carries a Warning (RFC 3261 §20.43) saying what the domain takes.
 * A WebRTC offer (JsSIP over WebSocket) is DTLS-SRTP, the only media a browser has: it counts
 * as SRTP for a Secure domain and is taken by the others too, whose rule is about SDES keys a
 * phone sends in the clear. A Secure domain's TLS is `wss:` for it.
 */
import type { SipDomain } from '../../domain/sip-domain.js';
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import { isWebRtcAudio } from '../../sip/sdp/session-audio.js';

export interface SecureMediaRefusal {
  status: 403 | 488;
  reason: string;
  warning: string;
}

/** Why the domain's Secure setting refuses this INVITE, or undefined when it may go on. */
export function secureMediaRefusal(domain: Pick<SipDomain, 'secure'>, incoming: Pick<IncomingCall, 'source' | 'offer'>): SecureMediaRefusal | undefined {
  const { offer } = incoming;
  if (domain.secure && incoming.source.transport !== 'tls' && incoming.source.transport !== 'wss') {
    return { status: 403, reason: 'Forbidden', warning: 'this domain takes calls over TLS only (sips: or ;transport=tls)' };
  }
  const webrtc = isWebRtcAudio(offer);
  const sdes = !webrtc && offer.crypto !== undefined;
  if (domain.secure && !sdes && !webrtc) {
    return { status: 488, reason: 'Not Acceptable Here', warning: 'this domain takes SRTP (RTP/SAVP with a=crypto) only' };
  }
  if (!domain.secure && sdes) {
    return { status: 488, reason: 'Not Acceptable Here', warning: 'this domain takes plain RTP only; SRTP needs Secure=true' };
  }
  return undefined;
}
