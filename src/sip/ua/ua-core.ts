/**
 * The state the UAC and UAS sides of the user agent share (RFC 3261 §8, §12): options,
 * timers, the transaction layer, the dialog table, lingering UAC dialogs (§13.2.2.4), calls
 * still waiting for a final response, and the error-safe ways of responding (§8.2.6).
 */
import { newTag } from '../dialog/dialog.js';
import { responseTo, type SipRequest, type SipResponse } from '../message.js';
import { DEFAULT_TIMING, realTimers, type CancelTimer, type SipTimerConfig, type SipTimers } from '../transaction/timing.js';
import { SipTransactionLayer, type ServerTransaction } from '../transaction/transaction-layer.js';
import type { SipDestination } from '../transaction/transport.js';
import type { CallRecord } from './call-record.js';
import type { RejectOptions } from './incoming-call.js';
import type { SipUserAgentOptions } from './ua-options.js';
import { DEFAULT_USER_AGENT, defaultContact, dialogResponse, viaValue } from './ua-messages.js';

/** Where the transaction layer delivers what no client transaction claimed. */
export interface UaCoreHandlers {
  onRequest(request: SipRequest, source: SipDestination, tx: ServerTransaction | undefined): void;
  onStrayResponse(response: SipResponse): void;
}

export class UaCore {
  readonly layer: SipTransactionLayer;
  readonly timers: SipTimers;
  readonly timing: SipTimerConfig;
  readonly contact: string;
  readonly dialogs = new Map<string, CallRecord>();
  /** UAC dialogs that ended, kept 64*T1 to re-ACK late 2xx retransmissions (§13.2.2.4). */
  readonly lingering = new Map<string, { record: CallRecord; cancel: CancelTimer }>();
  /** UAC calls before their final response. */
  readonly outbound = new Set<CallRecord>();
  isClosed = false;

  constructor(
    readonly options: SipUserAgentOptions,
    handlers: UaCoreHandlers,
  ) {
    this.timers = options.timers ?? realTimers;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.contact = options.contact ?? defaultContact(options.address);
    this.layer = new SipTransactionLayer({
      transport: options.transport,
      timers: this.timers,
      timing: this.timing,
      onRequest: (request, source, tx) => this.guard(() => handlers.onRequest(request, source, tx)),
      onStrayResponse: (response) => this.guard(() => handlers.onStrayResponse(response)),
      ...(options.admission ? { admission: options.admission } : {}),
      ...(options.onRefused ? { onRefused: options.onRefused } : {}),
      ...(options.onTransactionState ? { onTransactionState: options.onTransactionState } : {}),
    });
  }

  get userAgent(): string {
    return this.options.userAgent ?? DEFAULT_USER_AGENT;
  }

  reportError(error: unknown): void {
    this.options.onError?.(error);
  }

  /** Runs `action`, reporting anything it throws instead of letting it reach the transport. */
  guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.reportError(error);
    }
  }

  via(): string {
    return viaValue(this.options.address, this.options.transport.reliable);
  }

  /** A 1xx/2xx with our To tag, Contact and Server (§12.1.1). */
  dialogResponse(request: SipRequest, status: number, toTag: string): SipResponse {
    return dialogResponse(request, status, toTag, this.contact, this.userAgent);
  }

  /** A response; non-100 responses get a To tag when the request had none (§8.2.6.2). */
  respond(tx: ServerTransaction, request: SipRequest, status: number, options: RejectOptions & { toTag?: string } = {}): void {
    const response = responseTo(request, status, options.toTag ?? newTag(), options.reason);
    for (const [name, value] of options.headers ?? []) response.headers.append(name, value);
    this.safeRespond(tx, response);
  }

  safeRespond(tx: ServerTransaction, response: SipResponse): void {
    try {
      tx.respond(response);
    } catch (error) {
      this.reportError(error);
    }
  }
}
