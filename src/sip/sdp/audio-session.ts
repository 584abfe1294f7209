/**
 * SDP offer/answer for one audio stream, the way a conference bridge needs it (RFC 3264):
 * read the peer's offer or answer, pick G.711 (PCMU or PCMA) and RFC 4733 telephone-event,
 * learn where to send RTP and whether the peer holds the call (§8.4: `sendonly`/`inactive`,
 * or the old `c=0.0.0.0`); write our offer or answer with ptime 20. SDP text itself is parsed
 * and written by sdp-transform (RFC 4566).
 *
 * SRTP (RFC 4568 SDES, sdes-crypto.ts) only where the caller asks: `readAudio(…, { srtp: true })`
 * accepts `RTP/SAVP` with a usable `a=crypto` line (without it an SAVP offer is refused as
 * before, so a call that did not ask never answers SRTP with plain RTP); our offer and answer
 * carry `RTP/SAVP` and our `a=crypto` line when given keys. Which calls use SRTP is the caller's
 * policy. `a=crypto` in an `RTP/AVP` offer ("best effort" SRTP) is ignored: the answer is plain.
 */
import sdpTransform from 'sdp-transform';
import { readCrypto, writeCrypto } from './sdes-crypto.js';
import type { SdesCrypto } from './sdes-crypto.js';

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
  /**
   * An `RTP/SAVP` stream (read with `srtp: true`): the peer's `a=crypto` line we take — its key
   * unprotects what the peer sends. Absent for plain RTP.
   */
  crypto?: SdesCrypto;
}

export interface ReadOptions {
  /** Accept `RTP/SAVP`/`RTP/SAVPF` with SDES keys (default false: only plain RTP). */
  srtp?: boolean;
}

export type ReadResult = { ok: true; audio: RemoteAudio } | { ok: false; reason: string };

/** Reads an offer or an answer; `preferred` orders the codecs we accept. */
export function readAudio(sdp: string, preferred: readonly AudioCodec[] = ['PCMU', 'PCMA'], options: ReadOptions = {}): ReadResult {
  let session: sdpTransform.SessionDescription;
  try {
    session = sdpTransform.parse(sdp);
  } catch (error) {
    return { ok: false, reason: `unreadable SDP: ${(error as Error).message}` };
  }
  const media = session.media?.find((m) => m.type === 'audio' && m.port !== 0);
  if (!media) return { ok: false, reason: 'no active audio stream (m=audio with a port)' };
  const secure = media.protocol === 'RTP/SAVP' || media.protocol === 'RTP/SAVPF';
  if (media.protocol !== 'RTP/AVP' && media.protocol !== 'RTP/AVPF' && !(secure && options.srtp === true)) {
    return { ok: false, reason: `unsupported transport ${media.protocol}: Conclave speaks ${options.srtp === true ? 'RTP/AVP and RTP/SAVP' : 'plain RTP/AVP'}` };
  }
  let crypto: SdesCrypto | undefined;
  if (secure) {
    // RFC 4568 §7.1.1: the offerer lists its lines in preference order; the first we can use.
    crypto = (media.crypto ?? []).map(readCrypto).find((c): c is SdesCrypto => c !== null);
    if (crypto === undefined) return { ok: false, reason: 'no usable a=crypto: Conclave takes AES_CM_128_HMAC_SHA1_80 or _32 with one inline key, no MKI' };
  }
  const address = media.connection?.ip ?? session.connection?.ip;
  if (!address) return { ok: false, reason: 'no connection address (c=)' };

  const formats = payloadsOf(media);
  const nameOf = (pt: number): string | undefined => formatName(media, pt);
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
      ...(crypto ? { crypto } : {}),
    },
  };
}

/** The m= line's payload types, in the peer's order of preference. */
export function payloadsOf(media: sdpTransform.MediaDescription): number[] {
  return String(media.payloads ?? '').split(' ').filter(Boolean).map(Number);
}

/** `CODEC/rate` of a payload type, upper case, from its rtpmap or the static ones (RFC 3551). */
export function formatName(media: sdpTransform.MediaDescription, pt: number): string | undefined {
  const rtp = media.rtp.find((r) => r.payload === pt);
  if (rtp) return `${rtp.codec.toUpperCase()}/${rtp.rate ?? 8000}`;
  if (pt === 0) return 'PCMU/8000';
  if (pt === 8) return 'PCMA/8000';
  return undefined;
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

function write(local: LocalAudio, payloads: Array<{ pt: number; codec: string }>, direction: Direction, crypto: readonly SdesCrypto[]): string {
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
        protocol: crypto.length > 0 ? 'RTP/SAVP' : 'RTP/AVP',
        payloads: payloads.map((p) => p.pt).join(' '),
        rtp: payloads.map((p) => ({ payload: p.pt, codec: p.codec, rate: 8000 })),
        fmtp: payloads.filter((p) => p.codec === 'telephone-event').map((p) => ({ payload: p.pt, config: '0-16' })),
        ptime: 20,
        direction,
        ...(crypto.length > 0 ? { crypto: crypto.map(writeCrypto) } : {}),
      },
    ],
  });
}

export interface WriteOptions {
  /**
   * SRTP: our `a=crypto` lines (an offer: `offerCrypto()`, keep them to match the answer with
   * `offeredCryptoFor`; an answer: `answerCrypto(offer.crypto)`), making the stream `RTP/SAVP`.
   */
  crypto?: readonly SdesCrypto[];
}

/** Our offer for an outbound call: PCMU, PCMA, telephone-event (`RTP/SAVP` with `crypto`). */
export function writeOffer(local: LocalAudio, options: WriteOptions = {}): string {
  return write(local, [{ pt: 0, codec: 'PCMU' }, { pt: 8, codec: 'PCMA' }, { pt: TELEPHONE_EVENT_PT, codec: 'telephone-event' }], 'sendrecv', options.crypto ?? []);
}

/**
 * Our answer to the peer's offer: the codec chosen, telephone-event if offered, the mirrored
 * direction. An SRTP offer (`offer.crypto`) takes one line of ours with its tag and suite
 * (RFC 4568 §5.1.2); a plain offer takes none. Anything else is a caller's mistake and throws.
 */
export function writeAnswer(local: LocalAudio, offer: RemoteAudio, options: WriteOptions = {}): string {
  const crypto = options.crypto ?? [];
  if (offer.crypto === undefined ? crypto.length > 0 : crypto.length !== 1 || crypto[0]!.tag !== offer.crypto.tag || crypto[0]!.key.suite !== offer.crypto.key.suite) {
    throw new Error(offer.crypto === undefined ? 'a plain RTP offer is answered without crypto' : "an SRTP offer is answered with one crypto line of the offer's tag and suite");
  }
  const payloads: Array<{ pt: number; codec: string }> = [{ pt: offer.payloadType, codec: offer.codec }];
  if (offer.telephoneEvent !== null) payloads.push({ pt: offer.telephoneEvent, codec: 'telephone-event' });
  return write(local, payloads, answerDirection(offer.direction), crypto);
}
