/**
 * UAC requests inside a confirmed dialog: a re-INVITE with a new offer, ACKed end to end
 * (RFC 3261 §14.1, §13.2.2.4), and the re-ACK of a 2xx retransmission that reaches no client
 * transaction any more (§13.2.2.4, §17.1.1.2). A 491 is reported, never retried.
 */
import { InvalidStateError } from '../../errors.js';
import { dialogIdOfResponse, dialogKey } from '../dialog/dialog.js';
import { cseq, type SipResponse } from '../message.js';
import { readSessionAudio } from '../sdp/session-audio.js';
import type { SipDestination } from '../transaction/transport.js';
import type { ReinviteResult, SipCall } from './call.js';
import { resendAck } from './dialog-lifecycle.js';
import { nextHopOf } from './dialog-next-hop.js';
import type { UaCore } from './ua-core.js';

/** §14.1: re-INVITE on the call's dialog; resolves with the final status and any answer. */
export async function sendReinvite(core: UaCore, call: SipCall, sdpOffer: string): Promise<ReinviteResult> {
  const record = [...core.dialogs.values()].find((r) => r.call === call);
  const dialog = record?.dialog;
  const hop = record && nextHopOf(core, record);
  if (!record || !dialog || !hop || call.state !== 'active') throw new InvalidStateError('the call has no confirmed dialog');
  const invite = dialog.createRequest('INVITE', { via: core.via(), body: sdpOffer });
  const seq = cseq(invite)?.seq ?? 0;
  let destination: SipDestination;
  try {
    destination = await hop;
  } catch (error) {
    // RFC 3263 §4.3: no server to send to is a transport error, as for the initial INVITE.
    return { status: 503, reason: error instanceof Error ? error.message : String(error) };
  }
  return new Promise<ReinviteResult>((resolve) => {
    const tx = core.layer.sendRequest(invite, destination, (response) =>
      core.guard(() => {
        if (response.status < 200) return;
        if (response.status >= 300) {
          resolve({ status: response.status, reason: response.reason });
          return;
        }
        if (record.lastAck?.seq === seq) {
          resendAck(core, record);
          return;
        }
        dialog.refreshTarget(response);
        const ack = dialog.createRequest('ACK', { via: core.via(), seq });
        record.lastAck = { seq, request: ack };
        resendAck(core, record);
        const sdp = response.body.toString('utf8');
        const read = readSessionAudio(sdp, core.options.codecs);
        call.localSdp = sdpOffer;
        const result: ReinviteResult = { status: response.status, reason: response.reason };
        if (read.ok) {
          call.remoteSdp = sdp;
          call.remoteAudio = read.audio;
          result.remoteAudio = read.audio;
        }
        resolve(result);
      }),
    );
    tx.onTerminated((reason) => {
      if (reason !== 'normal') resolve({ status: reason === 'timeout' ? 408 : 503, reason });
    });
  });
}

/** A 2xx to an INVITE that matched no transaction: re-send the ACK it is owed. */
export function receiveStrayResponse(core: UaCore, response: SipResponse): void {
  if (response.status < 200 || response.status >= 300 || cseq(response)?.method !== 'INVITE') return;
  const id = dialogIdOfResponse(response);
  const record = id && (core.dialogs.get(dialogKey(id)) ?? core.lingering.get(dialogKey(id))?.record);
  if (record && record.lastAck?.seq === cseq(response)?.seq) resendAck(core, record);
}
