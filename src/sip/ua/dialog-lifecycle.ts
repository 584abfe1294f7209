/**
 * The lifetime of a call's dialog once it exists, for both sides: the UAS resending its 2xx
 * until the ACK (RFC 3261 §13.3.1.4), the UAC re-sending its ACK for retransmitted 2xx and
 * lingering 64*T1 to do so (§13.2.2.4), BYE (§15.1.1) and ending the call (§15, §12.3).
 */
import type { SipDialog } from '../dialog/dialog.js';
import { cseq, type SipRequest, type SipResponse } from '../message.js';
import { responseDestination, type SipDestination } from '../transaction/transport.js';
import { TwoHundredRetransmitter } from '../transaction/two-hundred-retransmitter.js';
import { buildAuthorization, parseDigestChallenge } from '../digest.js';
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

/**
 * §15.1.1: BYE on the dialog, which is forgotten at once. A peer that challenges the BYE (a
 * carrier's proxy does, §22.2-§22.3) gets it once more with the credentials the call was placed
 * with, if it has any (a new CSeq, §8.1.3.5); otherwise it would keep its side of the call up.
 */
export function sendBye(core: UaCore, record: CallRecord): void {
  const dialog = record.dialog;
  if (!dialog || dialog.state === 'terminated') return;
  forget(core, record, dialog);
  if (core.isClosed) return;
  const send = (bye: SipRequest, challenged: boolean): void =>
    sendToNextHop(core, record, 'BYE', (destination) => {
      if (core.isClosed) return;
      core.layer.sendRequest(bye, destination, (response) =>
        core.guard(() => {
          const auth = record.outbound?.auth;
          if (challenged || !auth || (response.status !== 401 && response.status !== 407)) return;
          const retry = withCredentials(core, dialog, response, auth);
          if (retry) send(retry, true);
        }),
      );
    });
  send(dialog.createRequest('BYE', { via: core.via() }), false);
}

/** The BYE again, answering the response's digest challenge (§22.2 WWW-, §22.3 Proxy-Authenticate); undefined when it has none. */
function withCredentials(core: UaCore, dialog: SipDialog, response: SipResponse, auth: { username: string; password: string }): SipRequest | undefined {
  const proxy = response.status === 407;
  const challenge = response.headers.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate').map(parseDigestChallenge).find((c) => c !== undefined);
  if (!challenge) return undefined;
  const bye = dialog.createRequest('BYE', { via: core.via() });
  bye.headers.append(proxy ? 'Proxy-Authorization' : 'Authorization', buildAuthorization(challenge, { ...auth, method: 'BYE', uri: bye.uri }));
  return bye;
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
