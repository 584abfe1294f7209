/** Requests as a UAC would send them, for transaction tests. */
import { createRequest, type SipRequest } from '../../../src/sip/message.js';

export function aRequest(method: string, branch = 'z9hG4bKabc123', over: { via?: string; cseq?: number } = {}): SipRequest {
  return createRequest(method, 'sip:bridge@127.0.0.1', [
    ['Via', over.via ?? `SIP/2.0/UDP 10.0.0.2:5062;branch=${branch}`],
    ['Max-Forwards', '70'],
    ['From', '<sip:alice@example.com>;tag=f1'],
    ['To', '<sip:bridge@127.0.0.1>'],
    ['Call-ID', 'call-1@10.0.0.2'],
    ['CSeq', `${over.cseq ?? 1} ${method}`],
  ]);
}
