/**
 * A call as the application sees it: one INVITE dialog with its negotiated audio. The user
 * agent drives it (state, SDP, events); the application listens and may hang up or, for an
 * outbound call, cancel before the answer.
 */
import type { SipDialog } from '../dialog/dialog.js';
import type { SessionAudio } from '../sdp/session-audio.js';
import type { SipDestination } from '../transaction/transport.js';
import { TypedEmitter } from './emitter.js';

/**
 * calling → ringing (a 180/183 arrived) → active (2xx and ACK) → ended, for an outbound call;
 * connecting (2xx sent, waiting for the ACK) → active → ended, for an inbound one.
 */
export type CallState = 'calling' | 'ringing' | 'connecting' | 'active' | 'ended';

export interface CallEvents {
  /** A 180/183 (outbound); `remoteAudio` when a 183 carried early-media SDP. */
  provisional: { status: number; reason: string; remoteAudio?: SessionAudio };
  /** The 2xx with the SDP answer (outbound); the ACK has been sent. */
  answered: { remoteAudio: SessionAudio; sdp: string };
  /**
   * The INVITE's target failed (a timeout, a transport error or a 503: `status` 408/503) and the
   * next one DNS gave is being tried (RFC 3263 §4.3).
   */
  retrying: { failed: SipDestination; status: number; next: SipDestination };
  /** The INVITE failed (outbound): the final status (408 on timeout, 487 after cancel). */
  failed: { status: number; reason: string };
  /** The ACK for our 2xx arrived (inbound). */
  confirmed: Record<string, never>;
  /** The peer re-INVITEd and got our answer; `offer.onHold` says whether it holds the call. */
  reinvite: { offer: SessionAudio; sdp: string };
  /** An established (or answered) call ended. */
  ended: { by: 'local' | 'remote'; reason: string };
}

export interface ReinviteResult {
  status: number;
  reason: string;
  remoteAudio?: SessionAudio;
}

/** What the user agent does when the application acts on a call. */
export interface CallControl {
  hangup(call: SipCall, reason: string): void;
  reinvite(call: SipCall, sdpOffer: string): Promise<ReinviteResult>;
}

export class SipCall extends TypedEmitter<CallEvents> {
  state: CallState;
  /** Our SDP: the offer (outbound) or the answer (inbound), latest first. */
  localSdp: string | undefined;
  remoteSdp: string | undefined;
  remoteAudio: SessionAudio | undefined;
  dialog: SipDialog | undefined;

  constructor(
    readonly direction: 'inbound' | 'outbound',
    readonly callId: string,
    private readonly control: CallControl,
  ) {
    super();
    this.state = direction === 'outbound' ? 'calling' : 'connecting';
  }

  /** The peer holds the call (its last SDP was sendonly/inactive, RFC 3264 §8.4). */
  get onHold(): boolean {
    return this.remoteAudio?.onHold ?? false;
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  /**
   * Ends the call: CANCEL before the answer (sent once a provisional arrived, §9.1), BYE
   * after it (for an inbound call, once the ACK arrived or its wait ran out, §15).
   */
  hangup(reason = 'hangup'): void {
    this.control.hangup(this, reason);
  }

  /** BYE on a confirmed dialog; the same as hangup. */
  bye(): void {
    this.hangup('bye');
  }

  /** Sends a re-INVITE with a new offer (§14.1); resolves with the final status and answer. */
  reinvite(sdpOffer: string): Promise<ReinviteResult> {
    return this.control.reinvite(this, sdpOffer);
  }
}
