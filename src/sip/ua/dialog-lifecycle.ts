/**
 * The lifetime of a call's dialog once it exists, for both sides: the UAS resending its 2xx
 * until the ACK (RFC 3261 §13.3.1.4), the UAC re-sending its ACK for retransmitted 2xx and
 * lingering 64*T1 to do so (§13.2.2.4), BYE (§15.1.1) and ending the call (§15, §12.3).
 */
import type { SipDialog } from '../dialog/dialog.js';
import { cseq, type SipRequest, type SipResponse } from '../message.js';
import { responseDestination, type SipDestination } from '../transaction/transport.js';
import { TwoHundredRetransmitter } from '../transaction/two-hundred-retransmitter.js';
import type { CallRecord } from './call-record.js';
import { sendToNextHop } from './dialog-next-hop.js';
import type { UaCore } from './ua-core.js';

/** §13.3.1.4: the UAS core resends its 2xx until the ACK, and BYEs when none comes. */
export function retransmit2xx(core: UaCore, record: CallRecord, request: SipRequest, source: SipDestination, response: SipResponse): void {
  const { transport } = core.options;
  record.pending2xx = {
    seq: cseq(request)?.seq ?? 0,
    retransmitter: new TwoHundredRetransmitter({
      transport,
      timers: core.timers,
      timing: core.timing,
      response,
      destination: responseDestination(request, source, transport.reliable),
      onGiveUp: () =>
        core.guard(() => {
          record.pending2xx = undefined;
          sendBye(core, record);
          endCall(core, record, 'local', 'ack-timeout');
        }),
    }),
  };
}

/** Sends (again) the last ACK of a UAC dialog (§13.2.2.4) to the dialog's next hop. */
export function resendAck(core: UaCore, record: CallRecord): void {
  const ack = record.lastAck;
  if (!ack) return;
  sendToNextHop(core, record, 'ACK', (destination) => core.options.transport.send(ack.request, destination));
}

/** §15.1.1: BYE on the dialog, which is forgotten at once. */
export function sendBye(core: UaCore, record: CallRecord): void {
  const dialog = record.dialog;
  if (!dialog || dialog.state === 'terminated') return;
  forget(core, record, dialog);
  if (core.isClosed) return;
  const bye = dialog.createRequest('BYE', { via: core.via() });
  sendToNextHop(core, record, 'BYE', (destination) => {
    if (!core.isClosed) core.layer.sendRequest(bye, destination, () => undefined);
  });
}

/** Marks the call ended and, unless a BYE is still owed, forgets its dialog. */
export function endCall(core: UaCore, record: CallRecord, by: 'local' | 'remote', reason: string, forgetDialog = true): void {
  if (forgetDialog && record.dialog) forget(core, record, record.dialog);
  const { call } = record;
  if (call.state === 'ended') return;
  call.state = 'ended';
  call.emit('ended', { by, reason });
}

/** Terminates the dialog; a UAC dialog lingers 64*T1 to re-ACK late 2xx. */
export function forget(core: UaCore, record: CallRecord, dialog: SipDialog): void {
  dialog.terminate();
  core.dialogs.delete(dialog.key);
  record.pending2xx?.retransmitter.close();
  if (record.lastAck && !core.lingering.has(dialog.key) && !core.isClosed) {
    const cancel = core.timers.set(64 * core.timing.t1, () => core.lingering.delete(dialog.key));
    core.lingering.set(dialog.key, { record, cancel });
  }
}
