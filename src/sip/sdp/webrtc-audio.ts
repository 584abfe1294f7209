/**
 * SDP offer/answer for a WebRTC peer's one audio stream (a browser, JsSIP, werift): the
 * JSEP/WebRTC shape of RFC 8829 and RFC 8843 on top of RFC 3264, as Conclave's ICE-lite,
 * DTLS-SRTP media legs need it.
 *
 * What we read: `m=audio … UDP/TLS/RTP/SAVPF` (or the older `RTP/SAVPF` with a fingerprint),
 * the peer's ICE credentials (RFC 8839 §5.4), its DTLS certificate fingerprint and role
 * (RFC 8122, RFC 5763 §5: `a=setup`), `a=mid` (BUNDLE of one stream), `a=rtcp-mux` (RFC 5761:
 * our leg has one port, required), a codec in our preference (Opus at 48 kHz, RFC 7587, then
 * PCMU and PCMA) and telephone-event at that codec's clock rate (RFC 4733 §2.3.1). Candidates
 * are read but not needed: we are ICE-lite (RFC 8445 §2.5), the peer's checks tell us where it
 * is. An mDNS `.local` candidate is therefore no problem.
 *
 * What we write: `a=ice-lite` at session level, our credentials and fingerprint, one host
 * candidate with the leg's address and port (and the same in `c=`), the mirrored `a=mid` in
 * `a=group:BUNDLE`, `a=rtcp-mux`; an answer takes `a=setup:passive` to an `actpass` offer (we are
 * the DTLS server, RFC 5763 §5) and mirrors the offer's direction (hold, RFC 3264 §8.4).
 * SDP text itself is parsed and written by sdp-transform (RFC 4566), as in audio-session.ts.
 */
import sdpTransform from 'sdp-transform';
import type { AudioCodecName, CertificateFingerprint, IceCredentials } from '../../media/protocol.js';
import { answerDirection, formatName, payloadsOf, TELEPHONE_EVENT_PT, type Direction } from './audio-session.js';

export type { AudioCodecName, CertificateFingerprint, IceCredentials };

export type DtlsSetup = 'active' | 'passive' | 'actpass';

export interface RemoteWebRtcAudio {
  codec: AudioCodecName;
  payloadType: number;
  /** The peer's telephone-event payload type at the codec's clock rate, when it offers RFC 4733 DTMF. */
  telephoneEvent: number | null;
  ice: IceCredentials;
  fingerprint: CertificateFingerprint;
  setup: DtlsSetup;
  /** The stream's `a=mid` ('' when the peer gave none: then no BUNDLE either). */
  mid: string;
  /** The m= line's transport, mirrored in the answer (RFC 3264 §6). */
  protocol: string;
  direction: Direction;
  /** The peer put the call on hold (RFC 3264 §8.4; `c=0.0.0.0` is normal in WebRTC and says nothing). */
  onHold: boolean;
  sessionId: string;
  sessionVersion: number;
  /** The peer's RTP candidates (component 1); unused by an ICE-lite agent but kept for the log. */
  candidates: Array<{ address: string; port: number; protocol: string }>;
}

export type WebRtcReadResult = { ok: true; audio: RemoteWebRtcAudio } | { ok: false; reason: string };

export interface LocalWebRtcAudio {
  address: string;
  port: number;
  sessionId: string;
  sessionVersion: number;
  ice: IceCredentials;
  fingerprint: CertificateFingerprint;
}

/** Chrome's numbers for Opus and its 48 kHz telephone-event; PCMU is 0, PCMA 8 (RFC 3551). */
export const OPUS_PT = 111;
export const TELEPHONE_EVENT_48K_PT = 110;

const WEBRTC_PROTOCOLS = new Set(['UDP/TLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVP']);
const CLOCK: Record<AudioCodecName, number> = { opus: 48_000, PCMU: 8000, PCMA: 8000 };
/** RFC 7587 §7: the rtpmap of Opus is always `opus/48000/2`. */
const RTPMAP_NAME: Record<AudioCodecName, string> = { opus: 'OPUS/48000', PCMU: 'PCMU/8000', PCMA: 'PCMA/8000' };
/** RFC 7587 §6.1: 10 ms frames at least, and we decode in-band FEC (the contract's §3.3 recovery). */
const OPUS_FMTP = 'minptime=10;useinbandfec=1';

type Media = sdpTransform.MediaDescription;

function parse(sdp: string): sdpTransform.SessionDescription | undefined {
  try {
    return sdpTransform.parse(sdp);
  } catch {
    return undefined;
  }
}

function audioOf(session: sdpTransform.SessionDescription): Media | undefined {
  return session.media?.find((m) => m.type === 'audio' && m.port !== 0);
}

function isWebRtcMedia(session: sdpTransform.SessionDescription, media: Media): boolean {
  // The old `RTP/SAVPF` of early WebRTC is DTLS-SRTP only with a fingerprint (else it is SDES).
  return WEBRTC_PROTOCOLS.has(media.protocol) || (media.protocol === 'RTP/SAVPF' && (media.fingerprint ?? session.fingerprint) !== undefined);
}

/** Whether the SDP's audio stream is WebRTC's (DTLS-SRTP with ICE), not plain or SDES RTP. */
export function isWebRtcSdp(sdp: string): boolean {
  const session = parse(sdp);
  const media = session && audioOf(session);
  return session !== undefined && media !== undefined && isWebRtcMedia(session, media);
}

/** Reads a WebRTC offer or answer; `preferred` orders the codecs we accept. */
export function readWebRtcAudio(sdp: string, preferred: readonly AudioCodecName[] = ['opus', 'PCMU', 'PCMA']): WebRtcReadResult {
  const session = parse(sdp);
  if (!session) return { ok: false, reason: 'unreadable SDP' };
  const media = audioOf(session);
  if (!media) return { ok: false, reason: 'no active audio stream (m=audio with a port)' };
  if (!isWebRtcMedia(session, media)) return { ok: false, reason: `unsupported transport ${media.protocol}: a WebRTC stream is UDP/TLS/RTP/SAVPF` };
  // ICE and DTLS attributes may be at media or session level (RFC 8839 §5.4, RFC 8122 §5).
  // sdp-transform turns an all-digit value into a number (werift's ufrag is 4 hex digits, all
  // decimal one time in 6.5): the credentials are strings, or no check would ever match them.
  const ufrag = textOf(media.iceUfrag ?? session.iceUfrag);
  const pwd = textOf(media.icePwd ?? session.icePwd);
  if (!ufrag || !pwd) return { ok: false, reason: 'no ICE credentials (a=ice-ufrag, a=ice-pwd)' };
  const fingerprint = media.fingerprint ?? session.fingerprint;
  if (!fingerprint) return { ok: false, reason: 'no DTLS certificate fingerprint (a=fingerprint)' };
  // RFC 4145 §4: no a=setup means active.
  const setup = media.setup ?? session.setup ?? 'active';
  if (setup !== 'active' && setup !== 'passive' && setup !== 'actpass') return { ok: false, reason: `unusable DTLS role a=setup:${setup}` };
  if (media.rtcpMux === undefined) return { ok: false, reason: 'no a=rtcp-mux: Conclave sends RTP and RTCP on one port (RFC 5761)' };

  const formats = payloadsOf(media);
  const nameOf = (pt: number): string | undefined => formatName(media, pt);
  let chosen: { codec: AudioCodecName; payloadType: number } | undefined;
  for (const codec of preferred) {
    const pt = formats.find((f) => nameOf(f) === RTPMAP_NAME[codec]);
    if (pt !== undefined) {
      chosen = { codec, payloadType: pt };
      break;
    }
  }
  if (!chosen) return { ok: false, reason: `no common codec: Conclave takes ${preferred.join(', ')}` };
  // RFC 4733 §2.3.1: telephone-event runs at the clock rate of the audio it goes with.
  const telephoneEvent = formats.find((f) => nameOf(f) === `TELEPHONE-EVENT/${CLOCK[chosen.codec]}`) ?? null;
  const direction = (media.direction ?? session.direction ?? 'sendrecv') as Direction;
  return {
    ok: true,
    audio: {
      ...chosen,
      telephoneEvent,
      ice: { ufrag, pwd },
      fingerprint: { algorithm: fingerprint.type.toLowerCase(), value: fingerprint.hash.toUpperCase() },
      setup,
      mid: media.mid === undefined ? '' : String(media.mid),
      protocol: media.protocol,
      direction,
      onHold: direction === 'sendonly' || direction === 'inactive',
      sessionId: String(session.origin?.sessionId ?? ''),
      sessionVersion: Number(session.origin?.sessionVersion ?? 0),
      candidates: (media.candidates ?? []).filter((c) => c.component === 1).map((c) => ({ address: c.ip, port: c.port, protocol: c.transport.toLowerCase() })),
    },
  };
}

interface Stream {
  protocol: string;
  mid: string;
  setup: DtlsSetup;
  direction: Direction;
  payloads: Array<{ pt: number; codec: AudioCodecName | 'telephone-event'; rate: number }>;
}

function write(local: LocalWebRtcAudio, stream: Stream): string {
  const { address, port } = local;
  return sdpTransform.write({
    version: 0,
    origin: { username: 'conclave', sessionId: local.sessionId, sessionVersion: local.sessionVersion, netType: 'IN', ipVer: 4, address },
    name: 'Conclave',
    connection: { version: 4, ip: address },
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    ...(stream.mid !== '' ? { groups: [{ type: 'BUNDLE', mids: stream.mid }] } : {}),
    media: [
      {
        type: 'audio',
        port,
        protocol: stream.protocol,
        payloads: stream.payloads.map((p) => p.pt).join(' '),
        rtp: stream.payloads.map((p) => ({ payload: p.pt, codec: p.codec, rate: p.rate, ...(p.codec === 'opus' ? { encoding: 2 } : {}) })),
        fmtp: stream.payloads.flatMap((p) => {
          if (p.codec === 'opus') return [{ payload: p.pt, config: OPUS_FMTP }];
          if (p.codec === 'telephone-event') return [{ payload: p.pt, config: '0-16' }];
          return [];
        }),
        ptime: 20,
        direction: stream.direction,
        ...(stream.mid !== '' ? { mid: stream.mid } : {}),
        // A stream id, so a browser's `track` event has a MediaStream to play (RFC 8830).
        msid: [{ id: 'conclave', appdata: 'audio' }],
        rtcpMux: 'rtcp-mux',
        iceUfrag: local.ice.ufrag,
        icePwd: local.ice.pwd,
        fingerprint: { type: local.fingerprint.algorithm, hash: local.fingerprint.value },
        setup: stream.setup,
        // One host candidate (RFC 8445 §5.1.1.1): an ICE-lite agent has nothing else.
        candidates: [{ foundation: '1', component: 1, transport: 'udp', priority: 2_130_706_431, ip: address, port, type: 'host' }],
        endOfCandidates: 'end-of-candidates',
      },
    ],
  });
}

/**
 * Our answer to a WebRTC offer: its chosen codec (and telephone-event if offered), our ICE and
 * DTLS credentials, the DTLS role the offer leaves us (RFC 5763 §5: passive to actpass or
 * active, active to passive), its mid and transport, the mirrored direction.
 */
export function writeWebRtcAnswer(local: LocalWebRtcAudio, offer: RemoteWebRtcAudio): string {
  const rate = CLOCK[offer.codec];
  const payloads: Stream['payloads'] = [{ pt: offer.payloadType, codec: offer.codec, rate }];
  if (offer.telephoneEvent !== null) payloads.push({ pt: offer.telephoneEvent, codec: 'telephone-event', rate });
  return write(local, {
    protocol: offer.protocol,
    mid: offer.mid,
    setup: offer.setup === 'passive' ? 'active' : 'passive',
    direction: answerDirection(offer.direction),
    payloads,
  });
}

/**
 * Our offer to a WebRTC peer: Opus, PCMU, PCMA and telephone-event at both clock rates (the
 * peer's choice of codec decides which applies), `a=setup:actpass`, mid 0 in BUNDLE.
 */
export function writeWebRtcOffer(local: LocalWebRtcAudio): string {
  return write(local, {
    protocol: 'UDP/TLS/RTP/SAVPF',
    mid: '0',
    setup: 'actpass',
    direction: 'sendrecv',
    payloads: [
      { pt: OPUS_PT, codec: 'opus', rate: 48_000 },
      { pt: 0, codec: 'PCMU', rate: 8000 },
      { pt: 8, codec: 'PCMA', rate: 8000 },
      { pt: TELEPHONE_EVENT_48K_PT, codec: 'telephone-event', rate: 48_000 },
      { pt: TELEPHONE_EVENT_PT, codec: 'telephone-event', rate: 8000 },
    ],
  });
}

/** An attribute's value as written: sdp-transform parses one that looks like an integer into a number. */
function textOf(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}
