/**
 * Pure message helpers shared by the UAC and UAS sides: our Via and default Contact values
 * (RFC 3261 §8.1.1.7, §8.1.1.8, §18.1.1 for rport per RFC 3581), dialog-creating responses
 * (§12.1.1), the Allow/Accept capabilities (§11.2, §20.5) and reading an SDP offer from a
 * request body (§13.3.1, RFC 3264).
 */
import { contentType, responseTo, type SipRequest, type SipResponse } from '../message.js';
import type { AudioCodec } from '../sdp/audio-session.js';
import { readSessionAudio, type SessionAudio } from '../sdp/session-audio.js';
import { newBranch } from '../transaction/transaction-key.js';
import type { SipDestination } from '../transaction/transport.js';

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';
export const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS']);
export const DEFAULT_USER_AGENT = 'Conclave';

function hostPort({ host, port }: SipDestination): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The Contact used when the options give none. */
export function defaultContact(address: SipDestination): string {
  return `<sip:conclave@${hostPort(address)}>`;
}

/** A top Via with a fresh branch (§8.1.1.7) and rport. */
export function viaValue(address: SipDestination, reliable: boolean): string {
  const transport = reliable ? 'TCP' : 'UDP';
  return `SIP/2.0/${transport} ${hostPort(address)};branch=${newBranch()};rport`;
}

/** A 1xx/2xx that makes or continues a dialog: To tag, Record-Route copied (§12.1.1), Contact. */
export function dialogResponse(request: SipRequest, status: number, toTag: string, contact: string, server: string): SipResponse {
  const response = responseTo(request, status, toTag);
  for (const rr of request.headers.getAll('Record-Route')) response.headers.append('Record-Route', rr);
  response.headers.append('Contact', contact);
  response.headers.append('Server', server);
  return response;
}

export function capabilities(): Array<readonly [string, string]> {
  return [
    ['Allow', ALLOW],
    ['Accept', 'application/sdp'],
  ];
}

export type OfferRead = { ok: true; audio: SessionAudio; sdp: string } | { ok: false; reason: string };

/** The SDP offer in an INVITE body; no body is a late offer, which we do not support. */
export function readOffer(request: SipRequest, codecs: readonly AudioCodec[] | undefined): OfferRead {
  if (request.body.length === 0) return { ok: false, reason: 'no SDP offer (late offer is not supported)' };
  const type = contentType(request)?.mediaType;
  if (type !== 'application/sdp') return { ok: false, reason: `unsupported body type ${type ?? '(none)'}` };
  const sdp = request.body.toString('utf8');
  // SRTP offers (RTP/SAVP with a=crypto) and WebRTC ones are read: the gateway answers them in kind.
  const read = readSessionAudio(sdp, codecs);
  return read.ok ? { ok: true, audio: read.audio, sdp } : read;
}
