/**
 * The UAS side of the user agent core for requests inside a dialog (RFC 3261 §12.2.2): the
 * ACK that stops our 2xx retransmissions (§13.3.1.4, §17.2.1), BYE (§15.1.2), OPTIONS
 * (§11.2), re-INVITE (§14.2, with 500 + Retry-After while one is unsettled) and 481/500/501
 * for unknown dialogs, out-of-order CSeqs and other methods.
 */
import { dialogIdOfRequest, dialogKey, type SipDialog } from '../dialog/dialog.js';
import { cseq, type SipRequest } from '../message.js';
import type { ServerInviteTransaction } from '../transaction/server-invite-transaction.js';
import type { ServerTransaction } from '../transaction/transaction-layer.js';
import type { SipDestination } from '../transaction/transport.js';
import type { CallRecord } from './call-record.js';
import { endCall, retransmit2xx, sendBye } from './dialog-lifecycle.js';
import type { UaCore } from './ua-core.js';
import { ALLOW, capabilities, readOffer } from './ua-messages.js';

export class UasDialog {
  constructor(private readonly core: UaCore) {}

  /** An ACK (no server transaction): for our 2xx, it confirms the call (§13.3.1.4). */
  receiveAck(ack: SipRequest): void {
    const core = this.core;
    const id = dialogIdOfRequest(ack);
    const record = id && core.dialogs.get(dialogKey(id));
    const pending = record ? record.pending2xx : undefined;
    if (!record || !pending || pending.seq !== cseq(ack)?.seq) return;
    pending.retransmitter.acknowledged();
    record.pending2xx = undefined;
    record.dialog?.refreshTarget(ack);
    if (record.byeAfterAck) {
      sendBye(core, record);
      return;
    }
    if (record.call.state === 'connecting') {
      record.call.state = 'active';
      record.call.emit('confirmed', {});
    }
  }

  /** A request with a To tag (§12.2.2). */
  receiveInDialog(request: SipRequest, source: SipDestination, tx: ServerTransaction): void {
    const core = this.core;
    const id = dialogIdOfRequest(request);
    const record = id && core.dialogs.get(dialogKey(id));
    const dialog = record ? record.dialog : undefined;
    if (!record || !dialog || dialog.state === 'terminated') {
      core.respond(tx, request, 481);
      return;
    }
    if (dialog.checkRemoteCSeq(request) === 'out-of-order') {
      core.respond(tx, request, 500, { reason: 'CSeq Out of Order' });
      return;
    }
    switch (request.method) {
      case 'BYE':
        core.respond(tx, request, 200);
        endCall(core, record, 'remote', 'bye');
        core.options.onBye?.(record.call);
        return;
      case 'OPTIONS':
        core.respond(tx, request, 200, { headers: capabilities() });
        return;
      case 'INVITE':
        this.receiveReinvite(record, dialog, request, source, tx as ServerInviteTransaction);
        return;
      default:
        core.respond(tx, request, 501, { headers: [['Allow', ALLOW]] });
    }
  }

  private receiveReinvite(record: CallRecord, dialog: SipDialog, request: SipRequest, source: SipDestination, tx: ServerInviteTransaction): void {
    const core = this.core;
    if (record.reinviting || record.pending2xx) {
      // §14.2: an INVITE while our answer to the previous one is unsettled.
      core.respond(tx, request, 500, { headers: [['Retry-After', String(1 + Math.floor(Math.random() * 10))]] });
      return;
    }
    const offer = readOffer(request, core.options.codecs);
    const handler = core.options.onReinvite;
    if (!offer.ok || !handler) {
      core.respond(tx, request, 488);
      return;
    }
    record.reinviting = true;
    dialog.refreshTarget(request);
    const { call } = record;
    Promise.resolve()
      .then(() => handler(call, offer.audio, offer.sdp))
      .then(
        (answer) => {
          record.reinviting = false;
          if (tx.state !== 'proceeding' || call.ended) return;
          const response = core.dialogResponse(request, 200, dialog.id.localTag);
          response.headers.append('Allow', ALLOW);
          response.headers.append('Content-Type', 'application/sdp');
          response.body = Buffer.from(answer, 'utf8');
          tx.respond(response);
          retransmit2xx(core, record, request, source, response);
          call.localSdp = answer;
          call.remoteSdp = offer.sdp;
          call.remoteAudio = offer.audio;
          call.emit('reinvite', { offer: offer.audio, sdp: offer.sdp });
        },
        (error: unknown) => {
          record.reinviting = false;
          core.reportError(error);
          if (tx.state === 'proceeding') core.respond(tx, request, 500);
        },
      );
  }
}
