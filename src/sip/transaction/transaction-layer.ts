/**
 * The transaction layer (RFC 3261 §17): routes every received message to its transaction
 * (§17.1.3, §17.2.3), creates server transactions for new requests, absorbs retransmissions,
 * and forgets each transaction the moment it reaches Terminated, so its maps only hold live
 * transactions.
 *
 * What reaches the TU: each new request once, with its server transaction; ACKs that match
 * no transaction (the ACK of a 2xx, §17.2.1) with none; responses through the callback given
 * to `sendRequest`; responses matching no transaction (2xx retransmissions after the client
 * transaction ended, §17.1.1.2) through `onStrayResponse`.
 *
 * Admission: with a RequestAdmission, a new request (not a retransmission, not an ACK) is
 * first weighed against its source's budget and the size of the transaction table. One that
 * is refused gets a stateless `503 Service Unavailable` with Retry-After (RFC 3261 §21.5.4,
 * §8.2.6: no transaction is kept for it; a retransmission of it is weighed again) or nothing
 * at all, and never reaches the TU.
 */
import { stampReceived, responseDestination, type SipDestination, type SipTransport } from './transport.js';
import { ClientInviteTransaction } from './client-invite-transaction.js';
import { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import { ServerInviteTransaction } from './server-invite-transaction.js';
import { ServerNonInviteTransaction } from './server-non-invite-transaction.js';
import { clientTransactionKey, serverTransactionKey } from './transaction-key.js';
import { DEFAULT_TIMING, realTimers, type SipTimerConfig, type SipTimers } from './timing.js';
import type { TransactionContext } from './transaction.js';
import { InvalidStateError } from '../../errors.js';
import { newTag } from '../dialog/dialog.js';
import type { RefusalCause, RequestAdmission } from '../limits/request-admission.js';
import { responseTo, type SipMessage, type SipRequest, type SipResponse } from '../message.js';

export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;
export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;

export interface TransactionLayerOptions {
  transport: SipTransport;
  timers?: SipTimers;
  timing?: Partial<SipTimerConfig>;
  /** Send 100 Trying when an INVITE server transaction starts (default true). */
  sendTrying?: boolean;
  /** A new request, or an ACK matching no transaction (then `transaction` is undefined). */
  onRequest(request: SipRequest, source: SipDestination, transaction: ServerTransaction | undefined): void;
  onStrayResponse?(response: SipResponse, source: SipDestination): void;
  /** Budgets for new requests; without it every request is served. */
  admission?: RequestAdmission;
  /** A new request the admission refused (`refuse`: a 503 went back) or dropped. */
  onRefused?(request: SipRequest, source: SipDestination, action: 'refuse' | 'drop', cause: RefusalCause): void;
  /** Every transaction's state changes (RFC 3261 §17), for the debug log. */
  onTransactionState?: TransactionContext['onStateChange'];
}

export class SipTransactionLayer {
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly context: TransactionContext;
  private isClosed = false;

  constructor(private readonly options: TransactionLayerOptions) {
    this.context = {
      transport: options.transport,
      timers: options.timers ?? realTimers,
      timing: { ...DEFAULT_TIMING, ...options.timing },
      ...(options.onTransactionState ? { onStateChange: options.onTransactionState } : {}),
    };
    // A request a stream transport could not deliver after all ends its transaction at once
    // (§17.1.4), so the TU fails over or fails the request instead of waiting for Timer B/F.
    options.transport.setUndeliveredHandler?.((request) => {
      const key = request.kind === 'request' ? clientTransactionKey(request) : undefined;
      const tx = key === undefined ? undefined : this.clients.get(key);
      if (tx && (tx.state === 'calling' || tx.state === 'trying')) tx.transportFailed();
    });
  }

  get serverTransactionCount(): number {
    return this.servers.size;
  }

  get clientTransactionCount(): number {
    return this.clients.size;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Hands a parsed message from the transport to its transaction or to the TU. */
  receive(message: SipMessage, source: SipDestination): void {
    if (this.isClosed) return;
    if (message.kind === 'response') this.receiveResponse(message, source);
    else this.receiveRequest(message, source);
  }

  /**
   * Starts a client transaction; the request must carry a top Via with a unique magic-cookie
   * branch (§8.1.1.7, see `newBranch`). `onResponse` gets each response the TU should see.
   */
  sendRequest(
    request: SipRequest,
    destination: SipDestination,
    onResponse: (response: SipResponse) => void,
  ): ClientTransaction {
    if (this.isClosed) throw new InvalidStateError('the transaction layer is closed');
    if (request.method === 'ACK') throw new InvalidStateError('ACK is sent by the TU or the INVITE transaction, not as a transaction');
    const key = clientTransactionKey(request);
    if (key === undefined) throw new InvalidStateError('a request needs a top Via with a branch');
    if (this.clients.has(key)) throw new InvalidStateError(`a client transaction ${key} already exists`);
    const tx =
      request.method === 'INVITE'
        ? new ClientInviteTransaction(key, this.context, request, destination, onResponse)
        : new ClientNonInviteTransaction(key, this.context, request, destination, onResponse);
    this.clients.set(key, tx);
    tx.onTerminated(() => this.clients.delete(key));
    tx.start();
    return tx;
  }

  /** The INVITE server transaction a CANCEL refers to (§9.2: same key, method INVITE). */
  inviteTransactionFor(cancel: SipRequest): ServerInviteTransaction | undefined {
    const key = serverTransactionKey({ ...cancel, method: 'INVITE' });
    const tx = key === undefined ? undefined : this.servers.get(key);
    return tx instanceof ServerInviteTransaction ? tx : undefined;
  }

  /** Terminates every transaction (their timers with them); idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const tx of [...this.servers.values(), ...this.clients.values()]) tx.close();
  }

  private receiveRequest(request: SipRequest, source: SipDestination): void {
    stampReceived(request, source);
    const key = serverTransactionKey(request);
    if (key === undefined) return; // the parser guarantees a Via; a hand-built message may not
    const existing = this.servers.get(key);
    if (request.method === 'ACK') {
      const absorbed = existing instanceof ServerInviteTransaction && existing.receiveRequest(request);
      if (!absorbed) this.options.onRequest(request, source, undefined);
      return;
    }
    if (existing) {
      existing.receiveRequest(request);
      return;
    }
    const destination = responseDestination(request, source, this.context.transport.reliable);
    const admission = this.options.admission?.decide(request.method, source.host, this.servers.size);
    if (admission && admission.action !== 'admit') {
      if (admission.action === 'refuse') this.refuse(request, destination, this.options.admission!.retryAfter(admission.cause));
      this.options.onRefused?.(request, source, admission.action, admission.cause);
      return;
    }
    const tx =
      request.method === 'INVITE'
        ? new ServerInviteTransaction(key, this.context, request, destination, {
            sendTrying: this.options.sendTrying ?? true,
          })
        : new ServerNonInviteTransaction(key, this.context, request, destination);
    if (tx.closed) return; // the 100 Trying already failed to send
    this.servers.set(key, tx);
    tx.onTerminated(() => this.servers.delete(key));
    this.options.onRequest(request, source, tx);
  }

  /** A stateless 503 (§8.2.6) with a To tag (§8.2.6.2) and Retry-After (§20.33). */
  private refuse(request: SipRequest, destination: SipDestination, retryAfter: number): void {
    const response = responseTo(request, 503, newTag());
    response.headers.append('Retry-After', String(retryAfter));
    try {
      this.context.transport.send(response, destination);
    } catch {
      // The peer is gone (a TCP connection closed): nothing to tell it.
    }
  }

  private receiveResponse(response: SipResponse, source: SipDestination): void {
    const key = clientTransactionKey(response);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx) tx.receiveResponse(response);
    else this.options.onStrayResponse?.(response, source);
  }
}
