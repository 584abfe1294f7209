/**
 * The INVITE server transaction (RFC 3261 §17.2.1, Figure 7, with the RFC 6026 §7.1
 * Accepted state).
 *
 * Proceeding: sends 100 Trying at once (§17.2.1 allows it whenever the TU may take longer
 * than 200 ms, which for a conference bridge fetching TwiML is always), resends the latest
 * provisional on INVITE retransmissions.
 * 2xx → Accepted (RFC 6026): the transaction lives 64*T1 (Timer L) to absorb INVITE
 * retransmissions, while the TU itself retransmits the 2xx until its ACK (§13.3.1.4; see
 * TwoHundredRetransmitter). Under plain RFC 3261 the transaction would end at once and a
 * retransmitted INVITE would look like a new call.
 * 3xx–6xx → Completed: resent on Timer G (T1 doubling to T2, unreliable only) and on each
 * INVITE retransmission until an ACK arrives (→ Confirmed) or Timer H (64*T1) says the ACK
 * never will. Confirmed absorbs further ACKs for Timer I (T4; 0 on reliable transports).
 */
import { InvalidStateError } from '../../errors.js';
import { responseTo, type SipRequest, type SipResponse } from '../message.js';
import { Transaction, type TransactionContext } from './transaction.js';
import type { SipDestination } from './transport.js';

export interface ServerInviteOptions {
  /** Send 100 Trying on creation (default true). */
  sendTrying?: boolean;
}

export class ServerInviteTransaction extends Transaction {
  private lastResponse: SipResponse | undefined;
  private invite: SipRequest | undefined;

  constructor(
    key: string,
    context: TransactionContext,
    request: SipRequest,
    private readonly destination: SipDestination,
    options: ServerInviteOptions = {},
  ) {
    super(key, context, 'proceeding');
    this.invite = request;
    if (options.sendTrying ?? true) {
      // §8.2.6.1: a 100 copies the request's Timestamp; it never carries a To tag.
      const trying = responseTo(request, 100);
      const timestamp = request.headers.get('Timestamp');
      if (timestamp !== undefined) trying.headers.append('Timestamp', timestamp);
      this.lastResponse = trying;
      this.send(trying, destination);
    }
  }

  /**
   * The INVITE, until its final response: a CANCEL's 487 copies it (§9.2). After that the
   * transaction only resends its last response for up to 64*T1, and lets go of the request
   * (its parsed headers, its SDP, the datagram they were cut from), which is most of what a
   * finished transaction would otherwise hold through a flood.
   */
  get request(): SipRequest | undefined {
    return this.invite;
  }

  /** The TU's response: provisional, 2xx, or a final failure. */
  respond(response: SipResponse): void {
    const state = this.state;
    if (state === 'accepted' && response.status >= 200 && response.status < 300) {
      this.send(response, this.destination); // RFC 6026 §8.5: TU retransmissions of the 2xx
      return;
    }
    if (state !== 'proceeding') throw new InvalidStateError(`cannot respond in state ${state}`);
    this.lastResponse = response;
    if (!this.send(response, this.destination)) return;
    if (response.status < 200) return;
    this.invite = undefined;
    if (response.status < 300) {
      this.setState('accepted');
      this.startTimer(64 * this.t1, () => this.terminate('normal')); // Timer L
      return;
    }
    this.setState('completed');
    if (!this.reliable) this.scheduleTimerG(this.t1);
    this.startTimer(64 * this.t1, () => this.terminate('timeout')); // Timer H
  }

  /**
   * An INVITE retransmission or an ACK matched to this transaction. Returns false for an ACK
   * the transaction does not absorb (one matching in Accepted: a 2xx ACK for the TU).
   */
  receiveRequest(request: SipRequest): boolean {
    const state = this.state;
    if (request.method === 'ACK') {
      if (state === 'completed') {
        this.setState('confirmed');
        this.startTimer(this.reliable ? 0 : this.context.timing.t4, () => this.terminate('normal')); // Timer I
        return true;
      }
      return state !== 'accepted';
    }
    if ((state === 'proceeding' || state === 'completed') && this.lastResponse) {
      this.send(this.lastResponse, this.destination);
    }
    return true;
  }

  /** Timer G: retransmit the final response, interval doubling up to T2 (§17.2.1). */
  private scheduleTimerG(interval: number): void {
    this.startTimer(interval, () => {
      if (this.state !== 'completed' || !this.lastResponse) return;
      if (!this.send(this.lastResponse, this.destination)) return;
      this.scheduleTimerG(Math.min(2 * interval, this.context.timing.t2));
    });
  }
}
