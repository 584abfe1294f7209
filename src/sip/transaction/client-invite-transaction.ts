/**
 * The INVITE client transaction (RFC 3261 §17.1.1, Figure 5, with the RFC 6026 §7.2
 * Accepted state).
 *
 * Calling: the INVITE is retransmitted on Timer A (T1, doubling without cap; unreliable only)
 * until a response, or Timer B (64*T1) → timeout. 1xx → Proceeding (no more retransmissions;
 * the TU decides when to give up, typically with CANCEL). 2xx → Accepted for Timer M (64*T1):
 * every 2xx, first and retransmitted, goes to the TU, which ACKs it end to end (§13.2.2.4).
 * 3xx–6xx → Completed: the transaction ACKs it itself (§17.1.1.3), re-ACKs retransmissions,
 * and waits Timer D (≥ 32 s; 0 on reliable transports) before Terminated.
 */
import { createRequest, type SipRequest, type SipResponse } from '../message.js';
import { Transaction, type TransactionContext } from './transaction.js';
import type { SipDestination } from './transport.js';

export class ClientInviteTransaction extends Transaction {
  private ack: SipRequest | undefined;

  constructor(
    key: string,
    context: TransactionContext,
    readonly request: SipRequest,
    private readonly destination: SipDestination,
    private readonly onResponse: (response: SipResponse) => void,
  ) {
    super(key, context, 'calling');
  }

  /** Sends the INVITE and starts Timers A and B. */
  start(): void {
    if (!this.send(this.request, this.destination)) return;
    if (!this.reliable) this.scheduleTimerA(this.t1);
    this.startTimer(64 * this.t1, () => {
      if (this.state === 'calling') this.terminate('timeout'); // Timer B
    });
  }

  receiveResponse(response: SipResponse): void {
    const state = this.state;
    if (response.status < 200) {
      if (state === 'calling' || state === 'proceeding') {
        this.setState('proceeding');
        this.onResponse(response);
      }
      return;
    }
    if (response.status < 300) {
      if (state === 'calling' || state === 'proceeding') {
        this.setState('accepted');
        this.startTimer(64 * this.t1, () => this.terminate('normal')); // Timer M
      }
      if (this.state === 'accepted') this.onResponse(response);
      return;
    }
    if (state === 'calling' || state === 'proceeding') {
      this.setState('completed');
      this.ack = buildAckForFailure(this.request, response);
      // ACK first, then tell the TU (Figure 5 of §17.1.1: "ACK sent", then "resp. to TU"): a TU
      // that retries at once (digest, §22.2) must not put its new INVITE ahead of this ACK.
      const acked = this.send(this.ack, this.destination);
      this.onResponse(response);
      if (!acked) return;
      this.startTimer(this.reliable ? 0 : Math.max(32_000, 64 * this.t1), () => this.terminate('normal')); // Timer D
    } else if (state === 'completed' && this.ack) {
      this.send(this.ack, this.destination); // a retransmitted final: ACK again, TU not told
    }
  }

  private scheduleTimerA(interval: number): void {
    this.startTimer(interval, () => {
      if (this.state !== 'calling') return;
      if (!this.send(this.request, this.destination)) return;
      this.scheduleTimerA(2 * interval);
    });
  }
}

/**
 * The ACK for a non-2xx final response (§17.1.1.3): same Request-URI, Call-ID, From and
 * CSeq number as the INVITE, To from the response (with its tag), only the INVITE's top Via
 * (same branch, so it matches the server transaction), the INVITE's Route set.
 */
export function buildAckForFailure(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = createRequest('ACK', invite.uri);
  const via = invite.headers.get('Via');
  if (via !== undefined) ack.headers.append('Via', via);
  for (const route of invite.headers.getAll('Route')) ack.headers.append('Route', route);
  ack.headers.append('Max-Forwards', '70');
  const from = invite.headers.get('From');
  if (from !== undefined) ack.headers.append('From', from);
  const to = response.headers.get('To') ?? invite.headers.get('To');
  if (to !== undefined) ack.headers.append('To', to);
  const callId = invite.headers.get('Call-ID');
  if (callId !== undefined) ack.headers.append('Call-ID', callId);
  const seq = invite.headers.get('CSeq')?.trim().split(/\s+/)[0];
  if (seq !== undefined) ack.headers.append('CSeq', `${seq} ACK`);
  return ack;
}
