/**
 * The UAS side of the user agent core for requests outside a dialog (RFC 3261 §8.2): method
 * and Require checks (§8.2.1, §8.2.2.3), new INVITEs handed to the application and answered
 * with 180/2xx/failure (§13.3.1), OPTIONS (§11.2), CANCEL (§9.2), BYE without a dialog
 * (§15.1.2), and REGISTER handed to the application's registrar when it has one (§10.3). ACKs and in-dialog requests go to the UasDialog.
 */
import { InvalidStateError } from '../../errors.js';
import { dialogIdOfRequest, newTag, SipDialog } from '../dialog/dialog.js';
import { parseNameAddr } from '../header-values.js';
import { listValues, type SipRequest } from '../message.js';
import type { ServerInviteTransaction } from '../transaction/server-invite-transaction.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import type { SipDestination } from '../transaction/transport.js';
import { SipCall, type CallControl } from './call.js';
import type { CallRecord } from './call-record.js';
import { retransmit2xx } from './dialog-lifecycle.js';
import { IncomingCall, type IncomingControl, type RejectOptions } from './incoming-call.js';
import type { UaCore } from './ua-core.js';
import { ALLOW, capabilities, KNOWN_METHODS, readOffer } from './ua-messages.js';
import type { RegisterResponder, SipUserAgentOptions } from './ua-options.js';
import type { UasDialog } from './uas-dialog.js';

export class UserAgentServer {
  private readonly pendingInvites = new Map<ServerTransaction, IncomingCall>();
  private readonly incomingTx = new WeakMap<IncomingCall, ServerInviteTransaction>();
  private readonly incomingControl: IncomingControl = {
    ringing: (incoming) => this.ringing(incoming),
    progress: (incoming, sdp) => this.progress(incoming, sdp),
    accept: (incoming, sdp) => this.accept(incoming, sdp),
    reject: (incoming, status, opts) => this.reject(incoming, status, opts),
  };

  constructor(
    private readonly core: UaCore,
    private readonly inDialog: UasDialog,
    private readonly callControl: CallControl,
  ) {}

  /** A request from the transaction layer; no server transaction means an ACK. */
  receiveRequest(request: SipRequest, source: SipDestination, tx: ServerTransaction | undefined): void {
    const core = this.core;
    if (!tx) {
      this.inDialog.receiveAck(request);
      return;
    }
    if (request.method === 'CANCEL') {
      this.receiveCancel(request, tx);
      return;
    }
    if (dialogIdOfRequest(request) !== undefined) {
      this.inDialog.receiveInDialog(request, source, tx);
      return;
    }
    if (request.method === 'REGISTER' && core.options.onRegister) {
      this.receiveRegister(request, source, tx, core.options.onRegister);
      return;
    }
    if (!KNOWN_METHODS.has(request.method)) {
      core.respond(tx, request, 501, { headers: [['Allow', ALLOW]] });
      return;
    }
    switch (request.method) {
      case 'INVITE':
        this.receiveInvite(request, source, tx as ServerInviteTransaction);
        return;
      case 'OPTIONS':
        core.respond(tx, request, 200, { headers: capabilities() });
        return;
      default:
        core.respond(tx, request, 481); // BYE outside a dialog (§15.1.2)
    }
  }

  /** §10.3: the registrar answers once; what it throws is answered 500 (§21.5.1). */
  private receiveRegister(request: SipRequest, source: SipDestination, tx: ServerTransaction, handler: NonNullable<SipUserAgentOptions['onRegister']>): void {
    const core = this.core;
    let answered = false;
    const respond: RegisterResponder = (status, options = {}) => {
      if (answered) return;
      answered = true;
      core.respond(tx, request, status, options);
    };
    Promise.resolve()
      .then(() => handler(request, source, respond))
      .catch((error: unknown) => {
        core.reportError(error);
        respond(500);
      });
  }

  private receiveInvite(request: SipRequest, source: SipDestination, tx: ServerInviteTransaction): void {
    const core = this.core;
    const required = listValues(request, 'Require');
    if (required.length > 0) {
      core.respond(tx, request, 420, { headers: [['Unsupported', required.join(', ')]] });
      return;
    }
    if (request.headers.get('Contact') === undefined || parseNameAddr(request.headers.get('Contact') ?? '') === undefined) {
      core.respond(tx, request, 400, { reason: 'Missing Contact' });
      return;
    }
    const offer = readOffer(request, core.options.codecs);
    if (!offer.ok) {
      core.respond(tx, request, 488, { headers: [['Warning', `305 conclave "${offer.reason.replace(/"/g, "'")}"`]] });
      return;
    }
    const handler = core.options.onInvite;
    if (!handler) {
      core.respond(tx, request, 480);
      return;
    }
    const incoming = new IncomingCall(request, source, newTag(), offer.audio, offer.sdp, this.incomingControl);
    incoming.onListenerError = (error) => core.reportError(error);
    this.incomingTx.set(incoming, tx);
    this.pendingInvites.set(tx, incoming);
    this.forgetWhenTerminated(tx);
    Promise.resolve()
      .then(() => handler(incoming))
      .catch((error: unknown) => {
        core.reportError(error);
        if (incoming.state === 'pending') incoming.reject(500);
      });
  }

  /**
   * A method of its own so that the listener, which the transaction keeps for up to 64*T1,
   * closes over the transaction alone: a closure made in receiveInvite would share its scope,
   * and with it the IncomingCall and everything hanging on it.
   */
  private forgetWhenTerminated(tx: ServerInviteTransaction): void {
    tx.onTerminated(() => this.pendingInvites.delete(tx));
  }

  private ringing(incoming: IncomingCall): void {
    const tx = this.incomingTx.get(incoming);
    if (!tx || tx.state !== 'proceeding') return;
    const response = this.core.dialogResponse(incoming.request, 180, incoming.localTag);
    this.core.safeRespond(tx, response);
  }

  /** A 183 with our SDP answer in the early dialog (the To tag the 200 will carry too). */
  private progress(incoming: IncomingCall, sdpAnswer: string): void {
    const tx = this.incomingTx.get(incoming);
    if (!tx || tx.state !== 'proceeding') return;
    const response = this.core.dialogResponse(incoming.request, 183, incoming.localTag);
    response.headers.append('Allow', ALLOW);
    response.headers.append('Content-Type', 'application/sdp');
    response.body = Buffer.from(sdpAnswer, 'utf8');
    this.core.safeRespond(tx, response);
  }

  /** §13.3.1.4: the 2xx with our answer makes the dialog; it is resent until the ACK. */
  private accept(incoming: IncomingCall, sdpAnswer: string): SipCall {
    const core = this.core;
    const tx = this.incomingTx.get(incoming);
    if (!tx || tx.state !== 'proceeding') throw new InvalidStateError('the INVITE transaction is over');
    const request = incoming.request;
    const response = core.dialogResponse(request, 200, incoming.localTag);
    response.headers.append('Allow', ALLOW);
    response.headers.append('Content-Type', 'application/sdp');
    response.body = Buffer.from(sdpAnswer, 'utf8');
    const dialog = SipDialog.asUas(request, response, core.contact);
    if (!dialog) throw new InvalidStateError('the INVITE cannot make a dialog');
    this.pendingInvites.delete(tx);
    const call = new SipCall('inbound', incoming.callId, this.callControl);
    call.onListenerError = (error) => core.reportError(error);
    call.dialog = dialog;
    call.localSdp = sdpAnswer;
    call.remoteSdp = incoming.offerSdp;
    call.remoteAudio = incoming.offer;
    const record: CallRecord = { call, dialog };
    core.dialogs.set(dialog.key, record);
    tx.respond(response);
    retransmit2xx(core, record, request, incoming.source, response);
    return call;
  }

  private reject(incoming: IncomingCall, status: number, options: RejectOptions): void {
    const tx = this.incomingTx.get(incoming);
    if (!tx || tx.state !== 'proceeding') return;
    // Answered: the call is no longer pending, and forgetting it here rather than when the
    // transaction ends (up to 32 s later) frees it and what hangs on it at once.
    this.pendingInvites.delete(tx);
    this.core.respond(tx, incoming.request, status, { ...options, toTag: incoming.localTag });
  }

  /** §9.2: 200 to the CANCEL, then 487 to the INVITE if it is still pending. */
  private receiveCancel(cancel: SipRequest, tx: ServerTransaction): void {
    const core = this.core;
    const invite = core.layer.inviteTransactionFor(cancel);
    if (!invite) {
      core.respond(tx, cancel, 481);
      return;
    }
    core.respond(tx, cancel, 200);
    const incoming = this.pendingInvites.get(invite);
    const request = invite.request;
    if (invite.state !== 'proceeding' || !request) return;
    this.pendingInvites.delete(invite);
    core.respond(invite, request, 487, incoming ? { toTag: incoming.localTag } : {});
    if (!incoming || incoming.state !== 'pending') return;
    incoming.state = 'cancelled';
    incoming.emit('cancel', {});
    core.options.onCancel?.(incoming);
  }
}
