/**
 * SDP offer/answer for one audio stream, the way a conference bridge needs it (RFC 3264):
 * read the peer's offer or answer, pick G.711 (PCMU or PCMA) and RFC 4733 telephone-event,
 * learn where to send RTP and whether the peer holds the call (§8.4: `sendonly`/`inactive`,
 * or the old `c=0.0.0.0`); write our offer or answer with ptime 20. SDP text itself is parsed
 * and written by sdp-transform (RFC 4566).
 */
import sdpTransform from 'sdp-transform';

export type AudioCodec = 'PCMU' | 'PCMA';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** telephone-event has a dynamic payload type; 101 by habit (RFC 4733). PCMU is 0, PCMA 8 (RFC 3551). */
export const TELEPHONE_EVENT_PT = 101;

export interface RemoteAudio {
  address: string;
  port: number;
  codec: AudioCodec;
  payloadType: number;
  /** The peer's telephone-event payload type, when it offers RFC 4733 DTMF. */
  telephoneEvent: number | null;
  ptime: number;
  direction: Direction;
  /** The peer put the call on hold (RFC 3264 §8.4). */
  onHold: boolean;
  /** o= session id and version: a re-INVITE with the same version changes nothing (§8). */
  sessionId: string;
  sessionVersion: number;
}

export type ReadResult = { ok: true; audio: RemoteAudio } | { ok: false; reason: string };

/** Reads an offer or an answer; `preferred` orders the codecs we accept. */
export function readAudio(sdp: string, preferred: readonly AudioCodec[] = ['PCMU', 'PCMA']): ReadResult {
  let session: sdpTransform.SessionDescription;
  try {
    session = sdpTransform.parse(sdp);
  } catch (error) {
    return { ok: false, reason: `unreadable SDP: ${(error as Error).message}` };
  }
  const media = session.media?.find((m) => m.type === 'audio' && m.port !== 0);
  if (!media) return { ok: false, reason: 'no active audio stream (m=audio with a port)' };
  if (media.protocol !== 'RTP/AVP' && media.protocol !== 'RTP/AVPF') return { ok: false, reason: `unsupported transport ${media.protocol}: Conclave speaks plain RTP/AVP` };
  const address = media.connection?.ip ?? session.connection?.ip;
  if (!address) return { ok: false, reason: 'no connection address (c=)' };

  const formats = String(media.payloads ?? '').split(' ').filter(Boolean).map(Number);
  const nameOf = (pt: number): string | undefined => {
    const rtp = media.rtp.find((r) => r.payload === pt);
    if (rtp) return `${rtp.codec.toUpperCase()}/${rtp.rate ?? 8000}`;
    if (pt === 0) return 'PCMU/8000';
    if (pt === 8) return 'PCMA/8000';
    return undefined;
  };
  let chosen: { codec: AudioCodec; payloadType: number } | undefined;
  for (const codec of preferred) {
    const pt = formats.find((f) => nameOf(f) === `${codec}/8000`);
    if (pt !== undefined) {
      chosen = { codec, payloadType: pt };
      break;
    }
  }
  if (!chosen) return { ok: false, reason: 'no common codec: Conclave offers PCMU and PCMA' };
  const telephoneEvent = formats.find((f) => nameOf(f) === 'TELEPHONE-EVENT/8000') ?? null;
  const direction = (media.direction ?? session.direction ?? 'sendrecv') as Direction;
  return {
    ok: true,
    audio: {
      address,
      port: media.port,
      ...chosen,
      telephoneEvent,
      ptime: media.ptime ?? 20,
      direction,
      onHold: direction === 'sendonly' || direction === 'inactive' || address === '0.0.0.0',
      sessionId: String(session.origin?.sessionId ?? ''),
      sessionVersion: Number(session.origin?.sessionVersion ?? 0),
    },
  };
}

export interface LocalAudio {
  address: string;
  port: number;
  sessionId: string;
  sessionVersion: number;
}

/** RFC 3264 §6.1: the answer's direction mirrors the offer's. */
export function answerDirection(offered: Direction): Direction {
  if (offered === 'sendonly') return 'recvonly';
  if (offered === 'recvonly') return 'sendonly';
  return offered;
}

function write(local: LocalAudio, payloads: Array<{ pt: number; codec: string }>, direction: Direction): string {
  return sdpTransform.write({
    version: 0,
    origin: { username: 'conclave', sessionId: local.sessionId, sessionVersion: local.sessionVersion, netType: 'IN', ipVer: 4, address: local.address },
    name: 'Conclave',
    connection: { version: 4, ip: local.address },
    timing: { start: 0, stop: 0 },
    media: [
      {
        type: 'audio',
        port: local.port,
        protocol: 'RTP/AVP',
        payloads: payloads.map((p) => p.pt).join(' '),
        rtp: payloads.map((p) => ({ payload: p.pt, codec: p.codec, rate: 8000 })),
        fmtp: payloads.filter((p) => p.codec === 'telephone-event').map((p) => ({ payload: p.pt, config: '0-16' })),
        ptime: 20,
        direction,
      },
    ],
  });
}

/** Our offer for an outbound call: PCMU, PCMA, telephone-event. */
export function writeOffer(local: LocalAudio): string {
  return write(local, [{ pt: 0, codec: 'PCMU' }, { pt: 8, codec: 'PCMA' }, { pt: TELEPHONE_EVENT_PT, codec: 'telephone-event' }], 'sendrecv');
}

/** Our answer to the peer's offer: the codec chosen, telephone-event if offered, the mirrored direction. */
export function writeAnswer(local: LocalAudio, offer: RemoteAudio): string {
  const payloads: Array<{ pt: number; codec: string }> = [{ pt: offer.payloadType, codec: offer.codec }];
  if (offer.telephoneEvent !== null) payloads.push({ pt: offer.telephoneEvent, codec: 'telephone-event' });
  return write(local, payloads, answerDirection(offer.direction));
}
