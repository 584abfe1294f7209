/**
 * The SIP user agent core (RFC 3261 §8, §12–§15): a UAS that hands new INVITEs to the
 * application and answers CANCEL, BYE, re-INVITE, OPTIONS and ACK itself, and a UAC that places
 * calls (with digest authentication, §22.2), cancels them (§9.1), ACKs 2xx end to end
 * (§13.2.2.4) and hangs up (§15.1), and keeps registrations at a registrar (§10.2,
 * client-registration.ts). It sits on the transaction layer and one transport.
 *
 * This file is the facade: it wires the shared state (ua-core.ts), the UAC (uac.ts,
 * uac-dialog.ts), the UAS (uas.ts, uas-dialog.ts) and the dialog lifecycle
 * (dialog-lifecycle.ts), and routes a call's hangup to CANCEL or BYE.
 *
 * Deliberate limits: no DNS here (the caller resolves names, sip/dns/sip-resolver.ts, and gives
 * the targets; a URI without them must name an IP address), no forking (a 2xx from a second dialog is ACKed and BYE'd), no late offer (an INVITE without
 * SDP gets 488), no PRACK/100rel, re-INVITEs we send are answered but never retried on 491.
 */
import type { SipMessage, SipResponse } from '../message.js';
import type { SipTransactionLayer } from '../transaction/transaction-layer.js';
import type { SipDestination } from '../transaction/transport.js';
import type { CallControl, SipCall } from './call.js';
import { endCall, sendBye } from './dialog-lifecycle.js';
import { UaCore } from './ua-core.js';
import type { InviteOptions, SipUserAgentOptions } from './ua-options.js';
import { UserAgentClient } from './uac.js';
import { receiveStrayResponse, sendReinvite } from './uac-dialog.js';
import { UserAgentServer } from './uas.js';
import { UasDialog } from './uas-dialog.js';
import { ClientRegistration, type ClientRegistrationOptions } from './client-registration.js';

export { ALLOW } from './ua-messages.js';
export type { InviteOptions, RegisterResponder, SipUserAgentOptions } from './ua-options.js';

export class SipUserAgent {
  readonly layer: SipTransactionLayer;
  private readonly core: UaCore;
  private readonly uac: UserAgentClient;
  private readonly uas: UserAgentServer;

  constructor(options: SipUserAgentOptions) {
    this.core = new UaCore(options, {
      onRequest: (request, source, tx) => this.uas.receiveRequest(request, source, tx),
      onStrayResponse: (response) => receiveStrayResponse(this.core, response),
    });
    this.layer = this.core.layer;
    options.transport.setMessageHandler?.((message, source) => this.receive(message, source));
    const callControl: CallControl = {
      hangup: (call, reason) => this.hangup(call, reason),
      reinvite: (call, sdp) => sendReinvite(this.core, call, sdp),
    };
    this.uac = new UserAgentClient(this.core, callControl);
    this.uas = new UserAgentServer(this.core, new UasDialog(this.core), callControl);
  }

  /** Calls with a dialog (answered or being answered). */
  get activeCalls(): SipCall[] {
    return [...new Set([...this.core.dialogs.values()].map((r) => r.call))].filter((c) => !c.ended);
  }

  /** A message from the transport. */
  receive(message: SipMessage, source: SipDestination): void {
    if (!this.core.isClosed) this.layer.receive(message, source);
  }

  /** Stops every timer and transaction; calls are dropped without BYE. The transport stays open. */
  close(): void {
    const core = this.core;
    if (core.isClosed) return;
    core.isClosed = true;
    for (const record of [...core.dialogs.values(), ...core.outbound]) {
      record.pending2xx?.retransmitter.close();
      record.outbound?.ringTimer?.();
      record.outbound?.silenceTimer?.();
    }
    for (const { cancel } of core.lingering.values()) cancel();
    core.lingering.clear();
    core.dialogs.clear();
    core.outbound.clear();
    this.layer.close();
  }

  /** Places a call (§13.2.1). Progress arrives as the call's events. */
  invite(options: InviteOptions): SipCall {
    return this.uac.invite(options);
  }

  /** An OPTIONS outside any dialog (§11); resolves with the final response. */
  sendOptions(uri: string, from = 'sip:conclave@invalid', destination?: SipDestination): Promise<SipResponse> {
    return this.uac.sendOptions(uri, from, destination);
  }

  /** A binding this user agent keeps at a registrar (RFC 3261 §10.2, client-registration.ts). */
  registration(options: ClientRegistrationOptions): ClientRegistration {
    const core = this.core;
    return new ClientRegistration({ layer: this.layer, via: () => core.via(), host: core.options.address.host, userAgent: core.userAgent }, options);
  }

  /** CANCEL before the final response (§9.1), else BYE — after the ACK for an inbound call (§15). */
  private hangup(call: SipCall, reason: string): void {
    const core = this.core;
    const record = [...core.outbound].find((r) => r.call === call) ?? [...core.dialogs.values()].find((r) => r.call === call);
    if (!record || call.state === 'ended') return;
    if (record.outbound && !record.outbound.final) {
      this.uac.requestCancel(record, reason);
      return;
    }
    if (record.pending2xx) {
      record.byeAfterAck = true;
    } else {
      sendBye(core, record);
    }
    endCall(core, record, 'local', reason, false);
  }
}
