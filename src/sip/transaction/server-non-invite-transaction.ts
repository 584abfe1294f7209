/**
 * The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
 *
 * Trying → (TU sends 1xx) Proceeding → (TU sends final) Completed → Timer J → Terminated.
 * Request retransmissions are absorbed in Trying, answered with the last provisional in
 * Proceeding and with the final response in Completed. Timer J is 64*T1 on unreliable
 * transports (to catch retransmissions for as long as the client may send them), 0 on
 * reliable ones.
 */
import { InvalidStateError } from '../../errors.js';
import type { SipRequest, SipResponse } from '../message.js';
import { Transaction, type TransactionContext } from './transaction.js';
import type { SipDestination } from './transport.js';

export class ServerNonInviteTransaction extends Transaction {
  private lastResponse: SipResponse | undefined;

  constructor(
    key: string,
    context: TransactionContext,
    readonly request: SipRequest,
    private readonly destination: SipDestination,
  ) {
    super(key, context, 'trying');
  }

  /** The TU's response (§17.2.2): provisional or final. */
  respond(response: SipResponse): void {
    const state = this.state;
    if (state !== 'trying' && state !== 'proceeding') {
      throw new InvalidStateError(`cannot respond in state ${state}`);
    }
    this.lastResponse = response;
    if (response.status < 200) {
      this.setState('proceeding');
      this.send(response, this.destination);
      return;
    }
    this.setState('completed');
    if (!this.send(response, this.destination)) return;
    this.startTimer(this.reliable ? 0 : 64 * this.t1, () => this.terminate('normal')); // Timer J
  }

  /** A retransmission of the request, matched by the transaction layer. */
  receiveRequest(_request: SipRequest): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.send(this.lastResponse, this.destination);
    }
  }
}
