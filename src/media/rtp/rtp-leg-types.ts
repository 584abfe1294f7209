/**
 * The types of an RTP leg (rtp-leg.ts): its options, counters, and its state as plain data for
 * a move to another media worker. Split out so the leg itself reads as behaviour.
 */
import type { JitterBufferOptions } from '../jitter-buffer.js';
import type { AudioCodecName, DtlsCertificatePem, WebRtcLegParams } from '../protocol.js';
import type { RtcpState } from './rtcp-session.js';
import type { RtpSocketFactory } from './rtp-socket.js';
import type { SrtpContextState } from './srtp-context.js';
import type { SrtpKey } from './srtp-keys.js';
import type { WebRtcState } from './webrtc-transport.js';

export type G711Codec = 'PCMU' | 'PCMA';

/** Static payload types of RFC 3551 Table 4. */
export const G711_PAYLOAD_TYPE: Readonly<Record<G711Codec, number>> = { PCMU: 0, PCMA: 8 };

export interface RtpLegOptions {
  codec?: AudioCodecName;
  /** The codec's payload type: required for opus (dynamic, 96–127); G.711's static one when absent. */
  payloadType?: number;
  /** Local address to bind (default 127.0.0.1). */
  host?: string;
  /** Fixed local (even) port; 0/absent lets the OS choose. Ignored when `portRange` is given. */
  port?: number;
  /** Inclusive range to take the first free even port (and the odd one after it) from. */
  portRange?: { min: number; max: number };
  /** Where to send; otherwise learnt from the first valid packet received. */
  remote?: { address: string; port: number };
  ssrc?: number;
  jitterBuffer?: JitterBufferOptions;
  /** The peer's RFC 4733 telephone-event payload type (null/absent = none negotiated). */
  telephoneEventPayloadType?: number | null;
  /** Bind RTCP on port + 1 (default true). */
  rtcp?: boolean;
  /** Mean interval between our SRs in ms (default 5000; randomised ×0.5–1.5). */
  rtcpIntervalMs?: number;
  /** A leg that moved from another worker: bind its ports and carry on its stream. */
  restore?: RtpLegState;
  /** Where the sockets come from (default node:dgram; a media worker passes its UdpBatch's). */
  openSocket?: RtpSocketFactory;
  /**
   * SRTP (RFC 3711, keyed by SDES, RFC 4568): `local` is our key (in our SDP), which protects
   * what we send; `remote` the peer's, which unprotects what it sends (absent until its SDP
   * is read: see `setRemoteKey`). An SRTP leg never sends or accepts plain RTP or RTCP.
   */
  srtp?: RtpLegSrtp;
  /**
   * A WebRTC leg (webrtc-transport.ts): ICE-lite, DTLS-SRTP with `certificate`, RTP and RTCP
   * on one port (no RTCP socket, whatever `rtcp` says). `remote` and `srtp` are ignored.
   */
  webrtc?: WebRtcLegParams;
  /** The process's DTLS certificate (a WebRTC leg, also one restored after a move). */
  dtlsCertificate?: DtlsCertificatePem;
}

export interface RtpLegSrtp {
  local: SrtpKey;
  remote?: SrtpKey | null;
}

export interface RtpLegStats {
  packetsReceived: number;
  packetsSent: number;
  /** Datagrams that were not valid RTP. */
  malformed: number;
  /** Valid RTP with neither the codec's nor the telephone-event payload type. */
  otherPayloadType: number;
  /** RFC 4733 telephone-event packets (not audio, not in packetsReceived). */
  telephoneEvents: number;
  sendErrors: number;
  /** RTCP datagrams received (either port). */
  rtcpReceived: number;
  /** SRTP legs: RTP or RTCP dropped because its tag was wrong, or no peer key is known yet (RFC 3711 §3.3). */
  srtpAuthFailures: number;
  /** SRTP legs: RTP or RTCP dropped as a replay or too old for the window (RFC 3711 §3.3.2). */
  srtpReplays: number;
}

/** A leg's stream as plain data, to re-open it in another worker (structured-clone safe). */
export interface RtpLegState {
  host: string;
  localPort: number;
  withRtcp: boolean;
  codec: AudioCodecName;
  payloadType: number;
  telephoneEventPayloadType: number | null;
  ssrc: number;
  seq: number;
  timestamp: number;
  firstSend: boolean;
  remote: { address: string; port: number } | null;
  rtcpRemote: { address: string; port: number } | null;
  seqShift: number;
  shiftSsrc: number;
  lastEventTs: number;
  stats: RtpLegStats;
  rtcp: RtcpState;
  rtcpIntervalMs: number;
  /** SRTP legs: both directions' contexts (the receive side null until the peer's key is known). */
  srtp: { send: SrtpContextState; receive: SrtpContextState | null } | null;
  /** WebRTC legs: ICE and DTLS state (connected, or not started: see WebRtcTransport). */
  webrtc: WebRtcState | null;
}

