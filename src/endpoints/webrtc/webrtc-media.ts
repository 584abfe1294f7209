/**
 * A call's WebRTC media leg, as the control plane opens it for a browser (or JsSIP, or any
 * WebRTC peer): the SDP of webrtc-audio.ts on one side, the media plane's ICE-lite, DTLS-SRTP
 * leg on the other. Used by the SIP gateway (a JsSIP INVITE, a call to a ws/wss contact) and
 * the browser signalling alike.
 *
 * Each leg has its own ICE credentials (RFC 8445 §5.3: random, ufrag ≥ 24 bits, pwd ≥ 128 bits;
 * ours are 48 and 144 bits of base64, whose alphabet is exactly SDP's ice-char, RFC 8839 §5.4);
 * the DTLS certificate is the media plane's one (`MediaPlane.dtlsFingerprint`).
 *
 * Roles (RFC 5763 §5): answering an `actpass` or `active` offer we are passive, the DTLS server;
 * our own offers say `actpass`, so we open the leg as the server and learn from the answer
 * whether the peer (`a=setup:passive`) wants us to be the client.
 */
import { randomBytes } from 'node:crypto';
import type { RemoteAddress, WebRtcLegParams } from '../../media/protocol.js';
import {
  OPUS_PT,
  readWebRtcAudio,
  TELEPHONE_EVENT_48K_PT,
  writeWebRtcAnswer,
  writeWebRtcOffer,
  type IceCredentials,
  type LocalWebRtcAudio,
  type RemoteWebRtcAudio,
} from '../../sip/sdp/webrtc-audio.js';
import type { MediaLeg } from '../media/media-leg.js';
import type { MediaPlane } from '../media/media-plane.js';

/** An offer (or answer) a WebRTC leg cannot take; `reason` says why, for a 488's Warning or the log. */
export class WebRtcOfferRefused extends Error {
  constructor(readonly reason: string) {
    super(`unusable WebRTC SDP: ${reason}`);
    this.name = 'WebRtcOfferRefused';
  }
}

export interface WebRtcMediaOptions {
  /** The call is not answered yet: the leg's RTP timeout starts with `MediaLeg.answered()`. */
  unanswered?: boolean;
  /** The address our SDP names (c=, the host candidate): the public media address; else the leg's own. */
  advertisedAddress?: string;
}

export interface AnsweredWebRtc {
  leg: MediaLeg;
  answerSdp: string;
  /** The offer as read: a re-offer is compared with it (`reanswerWebRtc`). */
  offer: RemoteWebRtcAudio;
  /** Our side of the SDP (address, credentials, o= line): a re-offer is answered from it (`reanswerWebRtc`). */
  local: LocalWebRtcAudio;
}

export interface OfferedWebRtc {
  leg: MediaLeg;
  offerSdp: string;
  local: LocalWebRtcAudio;
  /** Completes the offer with the peer's answer (the leg's remote credentials, role, codec); rejects with WebRtcOfferRefused for an unusable one. Resolves with the answer as read. */
  accept(answerSdp: string): Promise<RemoteWebRtcAudio>;
}

/** Fresh ICE credentials for one leg (RFC 8445 §5.3). */
export function newIceCredentials(): IceCredentials {
  return { ufrag: randomBytes(6).toString('base64'), pwd: randomBytes(18).toString('base64') };
}

/** Our DTLS role answering an offer of `setup` (RFC 5763 §5): a passive peer makes us the client. */
function dtlsRoleFor(peer: RemoteWebRtcAudio): WebRtcLegParams['dtlsRole'] {
  return peer.setup === 'passive' ? 'client' : 'server';
}

function read(sdp: string): RemoteWebRtcAudio {
  const result = readWebRtcAudio(sdp);
  if (!result.ok) throw new WebRtcOfferRefused(result.reason);
  return result.audio;
}

function localOf(plane: MediaPlane, opened: RemoteAddress, ice: IceCredentials, options: WebRtcMediaOptions): LocalWebRtcAudio {
  return {
    address: options.advertisedAddress ?? opened.address,
    port: opened.port,
    sessionId: String(randomBytes(4).readUInt32BE() >>> 1),
    sessionVersion: 1,
    ice,
    fingerprint: plane.dtlsFingerprint,
  };
}

/** Answers a browser's (or JsSIP's) offer: opens the call's WebRTC media leg; throws WebRtcOfferRefused for an unusable offer. */
export async function answerWebRtc(plane: MediaPlane, callSid: string, offerSdp: string, options: WebRtcMediaOptions = {}): Promise<AnsweredWebRtc> {
  const offer = read(offerSdp);
  const localIce = newIceCredentials();
  const { leg, local: opened } = await plane.openRtpLeg(callSid, {
    codec: offer.codec,
    payloadType: offer.payloadType,
    telephoneEvent: offer.telephoneEvent,
    webrtc: { localIce, remoteIce: offer.ice, remoteFingerprint: offer.fingerprint, dtlsRole: dtlsRoleFor(offer) },
    ...(options.unanswered ? { unanswered: true } : {}),
  });
  const local = localOf(plane, opened, localIce, options);
  return { leg, answerSdp: writeWebRtcAnswer(local, offer), offer, local };
}

/**
 * A new offer inside the call (a re-INVITE: hold, resume, an ICE restart): the leg takes what
 * changed since `previous` (credentials, fingerprint, codec), and the answer is ours again, one
 * session version on (RFC 3264 §8).
 */
export function reanswerWebRtc(plane: MediaPlane, leg: MediaLeg, local: LocalWebRtcAudio, previous: RemoteWebRtcAudio, offer: RemoteWebRtcAudio): { answerSdp: string; local: LocalWebRtcAudio } {
  if (!sameMedia(previous, offer)) {
    leg
      .setWebRtcRemote({
        webrtc: { remoteIce: offer.ice, remoteFingerprint: offer.fingerprint, dtlsRole: dtlsRoleFor(offer) },
        codec: offer.codec,
        payloadType: offer.payloadType,
        telephoneEvent: offer.telephoneEvent,
      })
      .catch((error: unknown) => plane.unlessGone(error, leg.callSid, 'follow the new offer'));
  }
  const next = { ...local, sessionVersion: local.sessionVersion + 1 };
  return { answerSdp: writeWebRtcAnswer(next, offer), local: next };
}

/** Whether two SDPs of the peer ask the same of the leg (a plain hold or resume changes nothing there). */
function sameMedia(a: RemoteWebRtcAudio, b: RemoteWebRtcAudio): boolean {
  return (
    a.codec === b.codec &&
    a.payloadType === b.payloadType &&
    a.telephoneEvent === b.telephoneEvent &&
    dtlsRoleFor(a) === dtlsRoleFor(b) &&
    a.ice.ufrag === b.ice.ufrag &&
    a.ice.pwd === b.ice.pwd &&
    a.fingerprint.algorithm === b.fingerprint.algorithm &&
    a.fingerprint.value === b.fingerprint.value
  );
}

/** Our offer to a browser; `accept(answerSdp)` completes it. */
export async function offerWebRtc(plane: MediaPlane, callSid: string, options: WebRtcMediaOptions = {}): Promise<OfferedWebRtc> {
  const localIce = newIceCredentials();
  // Opus until the answer says otherwise; the server role until a passive answer says client.
  const { leg, local: opened } = await plane.openRtpLeg(callSid, {
    codec: 'opus',
    payloadType: OPUS_PT,
    telephoneEvent: TELEPHONE_EVENT_48K_PT,
    webrtc: { localIce, dtlsRole: 'server' },
    ...(options.unanswered ? { unanswered: true } : {}),
  });
  const local = localOf(plane, opened, localIce, options);
  return {
    leg,
    offerSdp: writeWebRtcOffer(local),
    local,
    accept: async (answerSdp) => {
      const answer = read(answerSdp);
      if (answer.setup === 'actpass') throw new WebRtcOfferRefused('an answer must say a=setup:active or passive (RFC 5763 §5)');
      await leg.setWebRtcRemote({
        webrtc: { remoteIce: answer.ice, remoteFingerprint: answer.fingerprint, dtlsRole: dtlsRoleFor(answer) },
        codec: answer.codec,
        payloadType: answer.payloadType,
        telephoneEvent: answer.telephoneEvent,
      });
      return answer;
    },
  };
}
