/**
 * Transaction identifiers (RFC 3261 §17.1.3 client matching, §17.2.3 server matching).
 *
 * Server side: with the magic cookie, a request belongs to the transaction whose INVITE or
 * request had the same top-Via branch, the same sent-by, and the same method — except that
 * ACK matches the INVITE it acknowledges. Without the cookie (RFC 2543 peers) we fall back to
 * Call-ID, CSeq number, From tag and sent-by, which is the practical subset of §17.2.3's rules
 * (the To-tag and Request-URI comparisons only matter for forking proxies).
 *
 * Client side: the response's top-Via branch and CSeq method (so a CANCEL's 200 never matches
 * the INVITE sharing its branch).
 */
import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE, sentBy } from '../header-values.js';
import { callId, cseq, fromHeader, topVia, type SipRequest, type SipResponse } from '../message.js';

export function serverTransactionKey(request: SipRequest): string | undefined {
  const via = topVia(request);
  if (!via) return undefined;
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  if (via.branch?.startsWith(MAGIC_COOKIE)) return `${via.branch}|${sentBy(via)}|${method}`;
  const seq = cseq(request)?.seq;
  const id = callId(request);
  if (seq === undefined || id === undefined) return undefined;
  return `2543|${id}|${seq}|${fromHeader(request)?.tag ?? ''}|${sentBy(via)}|${method}`;
}

export function clientTransactionKey(message: SipRequest | SipResponse): string | undefined {
  const branch = topVia(message)?.branch;
  const method = message.kind === 'request' ? message.method : cseq(message)?.method;
  if (branch === undefined || method === undefined) return undefined;
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

/** A fresh RFC 3261 branch: magic cookie plus 64 random bits (§8.1.1.7). */
export function newBranch(): string {
  return `${MAGIC_COOKIE}${randomBytes(8).toString('hex')}`;
}
