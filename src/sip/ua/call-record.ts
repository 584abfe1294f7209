/**
 * The user agent's private per-call state: the dialog behind a SipCall (RFC 3261 §12), the
 * 2xx/ACK reliability bookkeeping (§13.2.2.4, §13.3.1.4) and, for a UAC, the INVITE client
 * transaction state before the final response (§13.2.2, §9.1, §22.2).
 */
import type { SipDialog } from '../dialog/dialog.js';
import type { SipRequest } from '../message.js';
import type { CancelTimer } from '../transaction/timing.js';
import type { ClientTransaction } from '../transaction/transaction-layer.js';
import type { SipDestination } from '../transaction/transport.js';
import type { TwoHundredRetransmitter } from '../transaction/two-hundred-retransmitter.js';
import type { SipCall } from './call.js';

/** The per-dialog state behind a SipCall. */
export interface CallRecord {
  call: SipCall;
  dialog: SipDialog | undefined;
  /** UAS: the 2xx being retransmitted until the ACK with this CSeq number. */
  pending2xx?: { seq: number; retransmitter: TwoHundredRetransmitter };
  /** UAC: the last ACK sent for a 2xx, re-sent (to the next hop) when that 2xx is retransmitted. */
  lastAck?: { seq: number; request: SipRequest };
  /**
   * The dialog's next hop URI when it has a host name, and where DNS says it is (dialog-next-hop.ts):
   * the lookup, and its answer once there.
   */
  nextHop?: { uri: string; destination: Promise<SipDestination>; resolved?: SipDestination };
  /** UAS hung up before the ACK: BYE once it arrives or its wait runs out (§15). */
  byeAfterAck?: boolean;
  /** An incoming re-INVITE is being answered. */
  reinviting?: boolean;
  /** UAC, before the final response. */
  outbound?: OutboundState;
}

export interface OutboundState {
  invite: SipRequest;
  /** Where the current INVITE went (its CANCEL goes there too, §9.1). */
  destination: SipDestination;
  /** The targets not tried yet (RFC 3263 §4.3), best first. */
  alternatives: SipDestination[];
  failoverAfterMs: number | undefined;
  /** Fires when the current target has said nothing for `failoverAfterMs`. */
  silenceTimer: CancelTimer | undefined;
  tx: ClientTransaction | undefined;
  contact: string;
  auth: { username: string; password: string } | undefined;
  /** Nonces already answered, per realm: a second challenge with the same nonce fails. */
  answeredNonces: Set<string>;
  provisional: boolean;
  final: boolean;
  /** Why we want to cancel ('timeout' or the hangup reason); CANCEL waits for a provisional. */
  cancelReason: string | undefined;
  cancelSent: boolean;
  ringTimer: CancelTimer | undefined;
}
