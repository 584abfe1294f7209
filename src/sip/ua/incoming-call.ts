/**
 * An INVITE outside any dialog, waiting for the application's decision: ring, accept with an
 * SDP answer, or reject. The offer has been read already (an unusable one never gets here:
 * the user agent answers 488 itself). A CANCEL from the caller emits `cancel` and makes any
 * later decision a no-op for ringing/reject and an error for accept.
 */
import { InvalidStateError } from '../../errors.js';
import type { NameAddr } from '../header-values.js';
import { callId, fromHeader, toHeader, type SipRequest } from '../message.js';
import type { SessionAudio } from '../sdp/session-audio.js';
import type { SipDestination } from '../transaction/transport.js';
import type { SipCall } from './call.js';
import { TypedEmitter } from './emitter.js';

export type IncomingState = 'pending' | 'accepted' | 'rejected' | 'cancelled';

export interface RejectOptions {
  reason?: string;
  /** Extra headers, e.g. WWW-Authenticate for a 401. */
  headers?: Array<readonly [string, string]>;
}

export interface IncomingControl {
  ringing(incoming: IncomingCall): void;
  progress(incoming: IncomingCall, sdpAnswer: string): void;
  accept(incoming: IncomingCall, sdpAnswer: string): SipCall;
  reject(incoming: IncomingCall, status: number, options: RejectOptions): void;
}

export class IncomingCall extends TypedEmitter<{ cancel: Record<string, never> }> {
  state: IncomingState = 'pending';

  constructor(
    readonly request: SipRequest,
    readonly source: SipDestination,
    /** Our To tag for every response to this INVITE (§12.1.1). */
    readonly localTag: string,
    readonly offer: SessionAudio,
    readonly offerSdp: string,
    private readonly control: IncomingControl,
  ) {
    super();
  }

  get callId(): string {
    return callId(this.request) ?? '';
  }

  get from(): NameAddr | undefined {
    return fromHeader(this.request);
  }

  get to(): NameAddr | undefined {
    return toHeader(this.request);
  }

  /** 180 Ringing; ignored once the INVITE has a final answer. */
  ringing(): void {
    if (this.state === 'pending') this.control.ringing(this);
  }

  /**
   * 183 Session Progress carrying the SDP answer: early media, so the caller hears what we send
   * before the answer (a ringback tone). Sent unreliably, as most UAs do without 100rel
   * (RFC 3261 §13.3.1.1); the 200 that follows must carry the same answer (RFC 3264 §5, and
   * RFC 3960 §3's gateway model: the UAC plays the early media until the 200). Ignored once
   * the INVITE has a final answer.
   */
  progress(sdpAnswer: string): void {
    if (this.state === 'pending') this.control.progress(this, sdpAnswer);
  }

  /** 200 OK with the SDP answer; the 2xx is retransmitted until the ACK. */
  accept(sdpAnswer: string): SipCall {
    if (this.state !== 'pending') throw new InvalidStateError(`cannot accept an INVITE that is ${this.state}`);
    this.state = 'accepted';
    return this.control.accept(this, sdpAnswer);
  }

  /** A final failure (4xx–6xx); ignored once the INVITE has a final answer. */
  reject(status = 486, options: RejectOptions = {}): void {
    if (status < 300 || status > 699) throw new InvalidStateError(`reject needs a 3xx–6xx status, not ${status}`);
    if (this.state !== 'pending') return;
    this.state = 'rejected';
    this.control.reject(this, status, options);
  }
}
