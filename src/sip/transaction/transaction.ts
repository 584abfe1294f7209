/**
 * What every RFC 3261 §17 transaction shares: a state, timers that die with it, a guarded
 * send that turns a transport failure into the transport-error event (§17.1.4, §17.2.4), and
 * a single trip to Terminated that tells the transaction layer to forget it.
 */
import type { SipMessage } from '../message.js';
import type { CancelTimer, SipTimerConfig, SipTimers } from './timing.js';
import type { SipDestination, SipTransport } from './transport.js';

export type TransactionState =
  | 'calling'
  | 'trying'
  | 'proceeding'
  | 'completed'
  | 'confirmed'
  /** RFC 6026 §7.1/§7.2: after a 2xx to INVITE, absorbing retransmissions for 64*T1. */
  | 'accepted'
  | 'terminated';

export interface TransactionContext {
  transport: SipTransport;
  timers: SipTimers;
  timing: SipTimerConfig;
  /** Every state a transaction moves to, with why when it is Terminated (the debug log). */
  onStateChange?(key: string, state: TransactionState, reason?: TerminationReason): void;
}

/** Why a transaction ended, for the transaction user. */
export type TerminationReason = 'normal' | 'timeout' | 'transport-error' | 'closed';

export abstract class Transaction {
  private stateValue: TransactionState;
  private readonly cancels = new Set<CancelTimer>();
  private readonly terminatedListeners: Array<(reason: TerminationReason) => void> = [];

  protected constructor(
    readonly key: string,
    protected readonly context: TransactionContext,
    initial: TransactionState,
  ) {
    this.stateValue = initial;
  }

  get state(): TransactionState {
    return this.stateValue;
  }

  get closed(): boolean {
    return this.stateValue === 'terminated';
  }

  /** Called once when the transaction reaches Terminated. */
  onTerminated(listener: (reason: TerminationReason) => void): void {
    this.terminatedListeners.push(listener);
  }

  /** Abandons the transaction and its timers (shutdown); idempotent. */
  close(): void {
    this.terminate('closed');
  }

  protected get reliable(): boolean {
    return this.context.transport.reliable;
  }

  protected get t1(): number {
    return this.context.timing.t1;
  }

  protected setState(state: TransactionState): void {
    this.stateValue = state;
    this.context.onStateChange?.(this.key, state);
  }

  /** Starts a timer that is cancelled when it fires, or when the transaction terminates. */
  protected startTimer(delayMs: number, fire: () => void): CancelTimer {
    const cancel = this.context.timers.set(delayMs, () => {
      this.cancels.delete(cancel);
      if (!this.closed) fire();
    });
    this.cancels.add(cancel);
    return () => {
      this.cancels.delete(cancel);
      cancel();
    };
  }

  /** Sends; on a transport failure terminates with 'transport-error' and returns false. */
  protected send(message: SipMessage, destination: SipDestination): boolean {
    try {
      this.context.transport.send(message, destination);
      return true;
    } catch {
      this.terminate('transport-error');
      return false;
    }
  }

  /** The transport found it could not deliver our request after all (§17.1.4): ends with 'transport-error'. */
  transportFailed(): void {
    this.terminate('transport-error');
  }

  protected terminate(reason: TerminationReason): void {
    if (this.closed) return;
    this.stateValue = 'terminated';
    this.context.onStateChange?.(this.key, 'terminated', reason);
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
    for (const listener of this.terminatedListeners) listener(reason);
  }
}
