/**
 * The audio stream of an SDP a SIP call carries, whichever kind it is: plain or SDES RTP with
 * G.711 (audio-session.ts: phones, trunks), or a WebRTC stream (webrtc-audio.ts: JsSIP and other
 * WebRTC SIP clients, RFC 7118). The user agent reads every offer and answer with this, and the
 * gateway answers each kind in kind.
 */
import { readAudio, type AudioCodec, type ReadResult, type RemoteAudio } from './audio-session.js';
import { isWebRtcSdp, readWebRtcAudio, type RemoteWebRtcAudio, type WebRtcReadResult } from './webrtc-audio.js';

export type SessionAudio = RemoteAudio | RemoteWebRtcAudio;

/** A WebRTC stream (ICE, DTLS-SRTP), not G.711 RTP. */
export function isWebRtcAudio(audio: SessionAudio): audio is RemoteWebRtcAudio {
  return 'ice' in audio;
}

/** Reads an offer or answer; `codecs` orders the G.711 codecs of a plain (or SDES) stream, SRTP offers included. */
export function readSessionAudio(sdp: string, codecs?: readonly AudioCodec[]): ReadResult | WebRtcReadResult {
  return isWebRtcSdp(sdp) ? readWebRtcAudio(sdp) : readAudio(sdp, codecs, { srtp: true });
}

/** The stream of a session that can only be RTP (a phone's, a trunk's: we offered G.711); throws for a WebRTC one. */
export function rtpAudio(audio: SessionAudio): RemoteAudio {
  if (isWebRtcAudio(audio)) throw new Error('a WebRTC stream where a plain or SDES RTP one was expected');
  return audio;
}
