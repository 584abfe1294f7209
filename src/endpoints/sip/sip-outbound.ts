/**
 * Dialling a `sip:` endpoint (RFC 3261 §13.2). A host name is looked up first (RFC 3263:
 * NAPTR, SRV, A; sip/dns/sip-resolver.ts) and the INVITE goes to each server found in turn
 * until one does not time out or answer 503 (§4.3); a URI naming an IP address goes there as
 * written, as it always has. An RTP leg is opened so the offer can name
 * its port (its RTP timeout held until the answer, however long the phone rings); the INVITE
 * rings until a 2xx (the leg learns the peer's address and codec from the answer), a failure, the call's `Timeout` (CANCEL, 408) or the REST API cancelling it.
 * Final statuses map to Twilio's call outcomes: 486/600 busy, 408/480/487 no-answer, other
 * failures `failed` (https://www.twilio.com/docs/voice/api/call-resource#call-status-values); the
 * deciding response's code goes with the outcome (Twilio's `SipResponseCode`).
 */
import { isIP } from 'node:net';
import type { DialOptions, DialResult } from '../../domain/call-ports.js';
import { SipResolutionError } from '../../sip/dns/sip-resolver.js';
import { parseSipUri } from '../../sip/sip-uri.js';
import type { SipDestination } from '../../sip/transaction/transport.js';
import { writeOffer, TELEPHONE_EVENT_PT, type LocalAudio } from '../../sip/sdp/audio-session.js';
import { isWebRtcAudio, type SessionAudio } from '../../sip/sdp/session-audio.js';
import type { SipCall } from '../../sip/ua/call.js';
import { offeredCryptoFor, type SdesCrypto } from '../../sip/sdp/sdes-crypto.js';
import { newSrtpKey } from '../../media/rtp/srtp-keys.js';
import type { MediaLeg } from '../media/media-leg.js';
import type { SipGateway } from './sip-gateway.js';
import type { TrunkInvite } from './sip-trunk.js';
import { remoteLegOf } from './sip-remote-leg.js';

const BUSY = new Set([486, 600]);
/**
 * How long a server with others after it may stay silent (not even 100 Trying) before the
 * next is tried: the INVITE has been sent four times by then (T1 = 0.5 s, doubling), and a
 * live server answers the first within a round trip.
 */
export const FAILOVER_AFTER_MS = 4_000;
const NO_ANSWER = new Set([408, 480, 487]);

/** A From URI for the caller ID: a sip: URI as given, otherwise its user part at our address. */
export function fromUri(from: string, host: string, port: number): string {
  if (/^sips?:/i.test(from)) return from;
  const user = from.replace(/^client:/, '').replace(/[^A-Za-z0-9+._~-]/g, '') || 'conclave';
  return `sip:${user}@${host}:${port}`;
}

/** What a call through the carrier trunk sets itself (sip-trunk.ts): its From, headers and credentials. */
export type InviteOverrides = Partial<Pick<TrunkInvite, 'from' | 'headers' | 'auth'>>;

/** The credentials a challenge is answered with: the trunk's, else the call's `SipAuthUsername`/`SipAuthPassword`. */
function inviteAuth(options: DialOptions, overrides: InviteOverrides): { auth?: { username: string; password: string } } {
  const auth = overrides.auth ?? options.sipAuth;
  return auth ? { auth } : {};
}

export class SipOutbound {
  constructor(private readonly gateway: SipGateway) {}

  async dial(uri: string, options: DialOptions, overrides: InviteOverrides = {}): Promise<DialResult> {
    const { gateway } = this;
    const { callSid, signal } = options;
    let targets: SipDestination[] | undefined;
    try {
      targets = await this.targetsOf(uri);
    } catch (error) {
      gateway.log.warn({ err: error, callSid, uri }, `SIP: cannot dial ${uri}: ${(error as Error).message}`);
      return { outcome: 'failed' };
    }
    if (signal.aborted) return { outcome: 'canceled' };
    const opened = await openOfferMedia(gateway, options, uri);
    if ('outcome' in opened) return opened;
    const { leg } = opened;
    let call: SipCall;
    try {
      call = gateway.ua.invite({
        to: uri,
        from: overrides.from ?? fromUri(options.from, gateway.publicAddress, gateway.port),
        sdpOffer: opened.sdpOffer,
        timeoutMs: options.timeoutSeconds * 1000,
        ...(targets ? { targets, failoverAfterMs: FAILOVER_AFTER_MS } : {}),
        ...inviteAuth(options, overrides),
        ...(overrides.headers ? { headers: overrides.headers } : {}),
      });
    } catch (error) {
      gateway.log.warn({ err: error, callSid, uri }, `SIP: cannot dial ${uri}: ${(error as Error).message}`);
      await leg.close();
      return { outcome: 'failed' };
    }
    gateway.traceCall(call.callId, callSid);
    // Cancelled (REST, shutdown): the call is over for Conclave at once. The user agent sends
    // the CANCEL when it may (after a provisional, RFC 3261 §9.1) and ends the INVITE itself.
    let cancelled = (): void => {};
    const cancel = (): void => {
      call.hangup('canceled');
      cancelled();
    };
    signal.addEventListener('abort', cancel, { once: true });
    call.on('retrying', ({ failed, status, next }) => {
      gateway.log.info({ callSid, uri, failed, status, next }, `SIP: ${uri} at ${failed.host}:${failed.port} failed (${status}); trying ${next.host}:${next.port}`);
    });
    let rang = false;
    call.on('provisional', (p) => {
      if (!rang && (p.status === 180 || p.status === 183)) {
        rang = true;
        options.onRinging();
      }
    });
    const outcome = await new Promise<DialResult>((resolve) => {
      // A CANCEL ends the INVITE with 487 Request Terminated (RFC 3261 §9.2).
      cancelled = () => resolve({ outcome: 'canceled', sipResponseCode: 487 });
      call.on('answered', (answer) => resolve(opened.connect(call, answer, { callSid, uri })));
      call.on('failed', ({ status, reason }) => {
        gateway.log.info({ callSid, uri, status, reason }, `SIP: ${uri} answered ${status} ${reason}`);
        resolve(outcomeOf(status, signal.aborted));
      });
    });
    signal.removeEventListener('abort', cancel);
    if (outcome.outcome !== 'answered') await leg.close();
    return outcome;
  }

  /**
   * The servers for a URI whose host is a name, best first; undefined for an IP address (the
   * user agent sends to it as written). Rejects when DNS names none (SipResolutionError).
   */
  async targetsOf(uri: string): Promise<SipDestination[] | undefined> {
    const sip = parseSipUri(uri);
    if (!sip) throw new SipResolutionError(`${uri} is not a SIP URI`);
    const maddr = sip.params.get('maddr');
    if (isIP((typeof maddr === 'string' ? maddr : sip.host).replace(/^\[(.*)\]$/, '$1')) !== 0) return undefined;
    const targets = await this.gateway.resolver.resolve(sip);
    // TLS targets (only when TLS is configured) check the certificate for the URI's host (RFC 5922 §7.2).
    return targets.map((t) => ({ host: t.host, port: t.port, transport: t.transport, ...(t.transport === 'tls' ? { serverName: sip.host } : {}) }));
  }
}

/**
 * `;secure=true` on the URI (Twilio's `<Sip>` for SRTP): SRTP is offered (RFC 4568 SDES, one
 * AES_CM_128_HMAC_SHA1_80 line, so the leg's key is known before the answer) and required.
 */
export function srtpOfferFor(uri: string): SdesCrypto | undefined {
  return parseSipUri(uri)?.params.get('secure') === 'true' ? { tag: 1, key: newSrtpKey('AES_CM_128_HMAC_SHA1_80') } : undefined;
}

/** What we offer a dialled party, and how its 2xx's answer connects the call. */
export interface OfferedMedia {
  leg: MediaLeg;
  sdpOffer: string;
  /** The answer of a 2xx: the leg takes it and the call is tracked; one that does not fit the offer is hung up (488). */
  connect(call: SipCall, answer: { remoteAudio: SessionAudio; sdp: string }, about: { callSid: string; uri: string }): DialResult;
}

/** A URI with `;transport=ws`/`wss`: a WebRTC SIP client registered over WebSocket (RFC 7118), which takes WebRTC media only. */
export function overWebSocket(uri: string): boolean {
  const transport = parseSipUri(uri)?.params.get('transport');
  return typeof transport === 'string' && /^wss?$/i.test(transport);
}

/**
 * The media leg of a call being dialled, its RTP timeout held until the answer, and our offer:
 * WebRTC (webrtc-media.ts) to a WebSocket contact, else RTP (SRTP for `;secure=true`). The
 * dial's result instead when no leg opens (no port free) or the call was cancelled meanwhile.
 */
export async function openOfferMedia(gateway: SipGateway, options: DialOptions, dialled: string, webrtc = overWebSocket(dialled)): Promise<OfferedMedia | DialResult> {
  let opened: OfferedMedia;
  try {
    opened = webrtc ? await offerWebRtcMedia(gateway, options.callSid) : await offerRtpMedia(gateway, options.callSid, srtpOfferFor(dialled));
  } catch {
    return { outcome: 'failed' }; // logged by the media plane (e.g. no RTP port free)
  }
  if (options.signal.aborted) {
    await opened.leg.close();
    return { outcome: 'canceled' };
  }
  return opened;
}

async function offerRtpMedia(gateway: SipGateway, callSid: string, ours: SdesCrypto | undefined): Promise<OfferedMedia> {
  const { leg, local } = await gateway.openMedia(callSid, { codec: 'PCMU', telephoneEvent: TELEPHONE_EVENT_PT, unanswered: true, ...(ours ? { srtp: { local: ours.key } } : {}) });
  return {
    leg,
    sdpOffer: writeOffer(local, ours ? { crypto: [ours] } : {}),
    connect: (call, { remoteAudio }, about) => connectAnswer(gateway, call, { leg, local, ours }, remoteAudio, about),
  };
}

async function offerWebRtcMedia(gateway: SipGateway, callSid: string): Promise<OfferedMedia> {
  const offered = await gateway.offerWebRtc(callSid);
  const { leg } = offered;
  return {
    leg,
    sdpOffer: offered.offerSdp,
    connect: (call, { remoteAudio, sdp }, about) => {
      if (!isWebRtcAudio(remoteAudio)) return refuseAnswer(gateway, call, about, 'without the WebRTC it was offered');
      gateway.track(call, { leg, webrtc: offered.local, peer: remoteAudio });
      offered.accept(sdp).catch((error: unknown) => {
        gateway.log.warn({ err: error, callSid: about.callSid, uri: about.uri }, `SIP: ${about.uri} answered with unusable WebRTC SDP; hung up`);
        void leg.close('media-failure');
      });
      leg.answered().catch((error: unknown) => gateway.media.unlessGone(error, about.callSid, 'start its RTP timeout'));
      return { outcome: 'answered', leg: remoteLegOf(call, leg) };
    },
  };
}

/** An answer that does not fit our offer: the call is hung up and the dial fails 488. */
function refuseAnswer(gateway: SipGateway, call: SipCall, about: { callSid: string; uri: string }, why: string): DialResult {
  gateway.log.warn({ callSid: about.callSid, uri: about.uri }, `SIP: ${about.uri} answered ${why}; hung up`);
  call.hangup();
  return { outcome: 'failed', sipResponseCode: 488 };
}

/** A final failure as Twilio's call outcome, with the status as its `SipResponseCode`. */
export function outcomeOf(status: number, cancelled: boolean): DialResult {
  const sipResponseCode = status;
  if (cancelled) return { outcome: 'canceled', sipResponseCode };
  if (BUSY.has(status)) return { outcome: 'busy', sipResponseCode };
  if (NO_ANSWER.has(status)) return { outcome: 'no-answer', sipResponseCode };
  return { outcome: 'failed', sipResponseCode };
}

/**
 * A 2xx answered `call`: its media leg sends to the answer and the call is tracked for
 * re-INVITEs. SRTP both ways or not at all: an answer that does not match the offer is hung up
 * and the dial fails 488.
 */
export function connectAnswer(
  gateway: SipGateway,
  call: SipCall,
  media: { leg: MediaLeg; local: LocalAudio; ours: SdesCrypto | undefined },
  remoteAudio: SessionAudio,
  about: { callSid: string; uri: string },
): DialResult {
  const { leg, ours } = media;
  const { callSid } = about;
  if (isWebRtcAudio(remoteAudio)) return refuseAnswer(gateway, call, about, 'with WebRTC to an RTP offer');
  const accepted = remoteAudio.crypto && ours ? offeredCryptoFor([ours], remoteAudio.crypto) : null;
  if ((ours && !accepted) || (!ours && remoteAudio.crypto)) return refuseAnswer(gateway, call, about, ours ? 'without the SRTP it was offered' : 'with SRTP it was not offered');
  gateway.track(call, { leg, local: media.local, ...(ours ? { crypto: ours } : {}) });
  const quietly = (what: string) => (error: unknown) => gateway.media.unlessGone(error, callSid, what);
  leg.setRemote({ address: remoteAudio.address, port: remoteAudio.port }, remoteAudio.codec, remoteAudio.telephoneEvent, remoteAudio.crypto?.key).catch(quietly('send to the answer'));
  leg.answered().catch(quietly('start its RTP timeout')); // its RTP timeout starts now
  return { outcome: 'answered', leg: remoteLegOf(call, leg) };
}
