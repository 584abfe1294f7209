/**
 * The requests a UAC sends outside a dialog, built field by field: the initial INVITE
 * (RFC 3261 §8.1.1, §13.2.1), OPTIONS (§11.1), the INVITE retried with digest credentials
 * (§22.2, §8.1.3.5: new branch, CSeq + 1) and CANCEL (§9.1).
 */
import { randomBytes } from 'node:crypto';
import { buildAuthorization, type DigestChallenge } from '../digest.js';
import { initialSeq, newTag } from '../dialog/dialog.js';
import { createRequest, cseq, type SipRequest } from '../message.js';
import type { InviteOptions } from './ua-options.js';
import { ALLOW } from './ua-messages.js';

/** A fresh Call-ID on our host. */
export function newCallId(host: string): string {
  return `${randomBytes(10).toString('hex')}@${host}`;
}

/** §8.1.1: the initial INVITE with its SDP offer. */
export function buildInvite(options: InviteOptions, fields: { callId: string; via: string; contact: string; userAgent: string }): SipRequest {
  const invite = createRequest('INVITE', options.to);
  invite.headers.append('Via', fields.via);
  invite.headers.append('Max-Forwards', '70');
  invite.headers.append('From', `<${options.from}>;tag=${newTag()}`);
  invite.headers.append('To', `<${options.to}>`);
  invite.headers.append('Call-ID', fields.callId);
  invite.headers.append('CSeq', `${initialSeq()} INVITE`);
  invite.headers.append('Contact', fields.contact);
  invite.headers.append('Allow', ALLOW);
  invite.headers.append('User-Agent', fields.userAgent);
  for (const [name, value] of options.headers ?? []) invite.headers.append(name, value);
  invite.headers.append('Content-Type', 'application/sdp');
  invite.body = Buffer.from(options.sdpOffer, 'utf8');
  return invite;
}

/** §11.1: an OPTIONS outside any dialog. */
export function buildOptions(uri: string, from: string, via: string, host: string): SipRequest {
  const request = createRequest('OPTIONS', uri);
  request.headers.append('Via', via);
  request.headers.append('Max-Forwards', '70');
  request.headers.append('From', `<${from}>;tag=${newTag()}`);
  request.headers.append('To', `<${uri}>`);
  request.headers.append('Call-ID', newCallId(host));
  request.headers.append('CSeq', `${initialSeq()} OPTIONS`);
  request.headers.append('Accept', 'application/sdp');
  return request;
}

/**
 * The INVITE again as a new transaction: a new Via (`via()` per Via header, so a new branch)
 * and CSeq + 1 (§8.1.3.5), without the headers named in `without`.
 */
export function buildInviteRetry(old: SipRequest, via: () => string, without: readonly string[] = []): SipRequest {
  const invite = createRequest('INVITE', old.uri, [], old.body);
  const seq = (cseq(old)?.seq ?? 1) + 1;
  const dropped = new Set(without.map((name) => name.toLowerCase()));
  for (const { name, value } of old.headers) {
    if (name === 'Via') invite.headers.append('Via', via());
    else if (name === 'CSeq') invite.headers.append('CSeq', `${seq} INVITE`);
    else if (!dropped.has(name.toLowerCase())) invite.headers.append(name, value);
  }
  return invite;
}

/** §22.2: the INVITE again with credentials, a new Via and CSeq + 1. */
export function buildAuthRetry(
  old: SipRequest,
  challenge: DigestChallenge,
  auth: { username: string; password: string },
  proxy: boolean,
  via: () => string,
): SipRequest {
  const authName = proxy ? 'Proxy-Authorization' : 'Authorization';
  const invite = buildInviteRetry(old, via, [authName]);
  invite.headers.append(authName, buildAuthorization(challenge, { ...auth, method: 'INVITE', uri: old.uri }));
  return invite;
}

/**
 * RFC 3263 §4.3: the INVITE for the next server DNS gave, as a new transaction; credentials
 * answered to the failed server's challenge are not for this one.
 */
export function buildFailoverInvite(old: SipRequest, via: () => string): SipRequest {
  return buildInviteRetry(old, via, ['Authorization', 'Proxy-Authorization']);
}

/** §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE. */
export function buildCancel(invite: SipRequest): SipRequest {
  const cancel = createRequest('CANCEL', invite.uri);
  const via = invite.headers.get('Via');
  if (via !== undefined) cancel.headers.append('Via', via);
  for (const route of invite.headers.getAll('Route')) cancel.headers.append('Route', route);
  cancel.headers.append('Max-Forwards', '70');
  for (const name of ['From', 'To', 'Call-ID']) cancel.headers.append(name, invite.headers.get(name) ?? '');
  cancel.headers.append('CSeq', `${cseq(invite)?.seq ?? 1} CANCEL`);
  return cancel;
}
