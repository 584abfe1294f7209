/**
 * The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
 *
 * Trying: the request is retransmitted on Timer E (T1, doubling up to T2; unreliable only)
 * until a response or Timer F (64*T1) → timeout. Proceeding (after a 1xx): retransmissions
 * continue at T2. Completed (after a final): Timer K (T4; 0 on reliable transports) absorbs
 * response retransmissions, then Terminated. Every response except those absorbed in
 * Completed goes to the TU.
 */
import type { SipRequest, SipResponse } from '../message.js';
import { Transaction, type TransactionContext } from './transaction.js';
import type { SipDestination } from './transport.js';

export class ClientNonInviteTransaction extends Transaction {
  constructor(
    key: string,
    context: TransactionContext,
    readonly request: SipRequest,
    private readonly destination: SipDestination,
    private readonly onResponse: (response: SipResponse) => void,
  ) {
    super(key, context, 'trying');
  }

  /** Sends the request and starts Timers E and F. */
  start(): void {
    if (!this.send(this.request, this.destination)) return;
    if (!this.reliable) this.scheduleTimerE(this.t1);
    this.startTimer(64 * this.t1, () => this.terminate('timeout')); // Timer F
  }

  receiveResponse(response: SipResponse): void {
    const state = this.state;
    if (state !== 'trying' && state !== 'proceeding') return; // Completed absorbs
    if (response.status < 200) {
      this.setState('proceeding');
      this.onResponse(response);
      return;
    }
    this.setState('completed');
    this.onResponse(response);
    this.startTimer(this.reliable ? 0 : this.context.timing.t4, () => this.terminate('normal')); // Timer K
  }

  private scheduleTimerE(interval: number): void {
    this.startTimer(interval, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      if (!this.send(this.request, this.destination)) return;
      const t2 = this.context.timing.t2;
      this.scheduleTimerE(this.state === 'trying' ? Math.min(2 * interval, t2) : t2);
    });
  }
}
