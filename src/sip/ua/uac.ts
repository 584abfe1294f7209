/**
 * The UAC side of the user agent core: places INVITEs (RFC 3261 §8.1, §13.2.1), follows their
 * responses (§13.2.2), retries once per challenge with digest credentials (§22.2), moves on to
 * the next server DNS gave when one times out, cannot be sent to or answers 503 (RFC 3263
 * §4.3), cancels after a provisional (§9.1), ACKs the 2xx end to end and BYEs a 2xx it no
 * longer wants (§13.2.2.4), and sends OPTIONS (§11.1). No forking: a second 2xx is ACKed and
 * BYE'd.
 */
import { InvalidStateError } from '../../errors.js';
import { parseDigestChallenge } from '../digest.js';
import { dialogIdOfResponse, dialogKey, SipDialog, uriDestination } from '../dialog/dialog.js';
import { cseq, type SipResponse } from '../message.js';
import { readSessionAudio, type SessionAudio } from '../sdp/session-audio.js';
import type { SipDestination } from '../transaction/transport.js';
import { SipCall, type CallControl } from './call.js';
import type { CallRecord, OutboundState } from './call-record.js';
import { resendAck, sendBye } from './dialog-lifecycle.js';
import type { UaCore } from './ua-core.js';
import type { InviteOptions } from './ua-options.js';
import { buildAuthRetry, buildCancel, buildFailoverInvite, buildInvite, buildOptions, newCallId } from './uac-requests.js';

export class UserAgentClient {
  constructor(
    private readonly core: UaCore,
    private readonly callControl: CallControl,
  ) {}

  /** Places a call (§13.2.1). Progress arrives as the call's events. */
  invite(options: InviteOptions): SipCall {
    const core = this.core;
    if (core.isClosed) throw new InvalidStateError('the user agent is closed');
    const single = options.destination ?? uriDestination(options.to);
    const [destination, ...alternatives] = options.targets && options.targets.length > 0 ? options.targets : single ? [single] : [];
    if (!destination) throw new InvalidStateError(`cannot route to ${options.to}: give a sip: URI with an IP address, or a destination`);
    const id = newCallId(core.options.address.host);
    const contact = options.contact ?? core.contact;
    const invite = buildInvite(options, { callId: id, via: core.via(), contact, userAgent: core.userAgent });

    const call = new SipCall('outbound', id, this.callControl);
    call.localSdp = options.sdpOffer;
    call.onListenerError = (error) => core.reportError(error);
    const state: OutboundState = {
      invite, destination, alternatives, failoverAfterMs: options.failoverAfterMs, silenceTimer: undefined,
      tx: undefined, contact, auth: options.auth, answeredNonces: new Set(),
      provisional: false, final: false, cancelReason: undefined, cancelSent: false, ringTimer: undefined,
    };
    const record: CallRecord = { call, dialog: undefined, outbound: state };
    core.outbound.add(record);
    if (options.timeoutMs !== undefined) {
      state.ringTimer = core.timers.set(options.timeoutMs, () => this.requestCancel(record, 'timeout'));
    }
    this.sendInvite(record);
    return call;
  }

  /** An OPTIONS outside any dialog (§11); resolves with the final response. */
  sendOptions(uri: string, from: string, destination?: SipDestination): Promise<SipResponse> {
    const to = destination ?? uriDestination(uri);
    if (!to) return Promise.reject(new InvalidStateError(`cannot route to ${uri}`));
    const request = buildOptions(uri, from, this.core.via(), this.core.options.address.host);
    return new Promise((resolve, reject) => {
      const tx = this.core.layer.sendRequest(request, to, (response) => {
        if (response.status >= 200) resolve(response);
      });
      tx.onTerminated((reason) => {
        if (reason !== 'normal') reject(new Error(`OPTIONS ${reason}`));
      });
    });
  }

  /** Asks to cancel a call before its final response; CANCEL waits for a provisional (§9.1). */
  requestCancel(record: CallRecord, reason: string): void {
    const state = record.outbound;
    if (!state || state.final || state.cancelReason !== undefined) return;
    state.cancelReason = reason;
    if (state.provisional) this.sendCancel(record);
  }

  private sendInvite(record: CallRecord): void {
    const state = record.outbound as OutboundState;
    const invite = state.invite;
    const tx = this.core.layer.sendRequest(invite, state.destination, (response) =>
      this.core.guard(() => {
        if (state.tx === tx) this.stopSilenceTimer(state);
        // After an auth retry only a 2xx of the old INVITE still matters (it must be ACKed).
        if (state.tx === tx || (response.status >= 200 && response.status < 300)) this.inviteResponse(record, response);
      }),
    );
    state.tx = tx;
    tx.onTerminated((reason) => {
      if (state.tx !== tx || state.final || reason === 'normal' || reason === 'closed') return;
      const status = reason === 'timeout' ? 408 : 503;
      if (this.failOver(record, status)) return;
      this.fail(record, status, reason === 'timeout' ? 'Request Timeout' : 'Service Unavailable');
    });
    if (tx.closed) {
      // The send failed at once (a transport error before the listener above was there). Told
      // after the caller of invite() has had the call back and listened to it.
      queueMicrotask(() =>
        this.core.guard(() => {
          if (!this.failOver(record, 503)) this.fail(record, 503, 'Service Unavailable');
        }),
      );
      return;
    }
    if (state.alternatives.length === 0 || state.failoverAfterMs === undefined) return;
    // RFC 3263 §4.3 moves on when the transaction times out; Timer B's 32 s per dead server
    // would outlast a caller's patience, while a live one answers 100 Trying within a round
    // trip (§17.2.1), so silence this long is taken as that timeout.
    state.silenceTimer = this.core.timers.set(state.failoverAfterMs, () =>
      this.core.guard(() => {
        state.silenceTimer = undefined;
        if (this.core.isClosed || state.tx !== tx || tx.state !== 'calling' || state.final || state.cancelReason !== undefined) return;
        tx.close(); // stops its retransmissions; a late answer from it is a stray response
        if (!this.failOver(record, 408)) this.fail(record, 408, 'Request Timeout');
      }),
    );
  }

  private stopSilenceTimer(state: OutboundState): void {
    state.silenceTimer?.();
    state.silenceTimer = undefined;
  }

  /**
   * RFC 3263 §4.3: after a timeout, a transport error or a 503, the same request goes to the
   * next target as a new transaction (new branch); false when none is left or the call is being
   * cancelled.
   */
  private failOver(record: CallRecord, status: number): boolean {
    const state = record.outbound as OutboundState;
    if (this.core.isClosed || state.final || state.cancelReason !== undefined) return false;
    const next = state.alternatives.shift();
    if (!next) return false;
    const failed = state.destination;
    state.destination = next;
    state.invite = buildFailoverInvite(state.invite, () => this.core.via());
    state.provisional = false;
    record.call.emit('retrying', { failed, status, next });
    this.sendInvite(record);
    return true;
  }

  private inviteResponse(record: CallRecord, response: SipResponse): void {
    const state = record.outbound as OutboundState;
    const { call } = record;
    if (response.status < 200) {
      if (state.final) return;
      state.provisional = true;
      if (state.cancelReason !== undefined) this.sendCancel(record);
      if (response.status === 100) return;
      if (call.state === 'calling') call.state = 'ringing';
      const event: { status: number; reason: string; remoteAudio?: SessionAudio } = { status: response.status, reason: response.reason };
      if (response.body.length > 0) {
        const read = readSessionAudio(response.body.toString('utf8'), this.core.options.codecs);
        if (read.ok) event.remoteAudio = read.audio;
      }
      call.emit('provisional', event);
      return;
    }
    if (response.status < 300) {
      this.inviteSuccess(record, response);
      return;
    }
    if (state.final) return;
    if ((response.status === 401 || response.status === 407) && this.retryWithAuth(record, response)) return;
    if (response.status === 503 && this.failOver(record, 503)) return;
    const status = state.cancelReason === 'timeout' && response.status === 487 ? 408 : response.status;
    this.fail(record, status, status === response.status ? response.reason : 'Request Timeout');
  }

  /** §22.2: resend the INVITE with credentials, a new branch and CSeq + 1. */
  private retryWithAuth(record: CallRecord, response: SipResponse): boolean {
    const state = record.outbound as OutboundState;
    if (!state.auth || state.cancelReason !== undefined) return false;
    const proxy = response.status === 407;
    const challenges = response.headers.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    const challenge = challenges.map(parseDigestChallenge).find((c) => c !== undefined);
    if (!challenge) return false;
    const nonceKey = `${challenge.realm}\n${challenge.nonce}`;
    if (state.answeredNonces.has(nonceKey) && !challenge.stale) return false;
    state.answeredNonces.add(nonceKey);
    state.invite = buildAuthRetry(state.invite, challenge, state.auth, proxy, () => this.core.via());
    state.provisional = false;
    this.sendInvite(record);
    return true;
  }

  private inviteSuccess(record: CallRecord, response: SipResponse): void {
    const core = this.core;
    const state = record.outbound as OutboundState;
    const id = dialogIdOfResponse(response);
    if (!id) return;
    const existing = core.dialogs.get(dialogKey(id)) ?? core.lingering.get(dialogKey(id))?.record;
    const seq = cseq(response)?.seq;
    if (existing) {
      if (existing.lastAck && existing.lastAck.seq === seq) resendAck(core, existing);
      return;
    }
    const dialog = SipDialog.asUac(state.invite, response, state.contact);
    if (!dialog) return;
    if (!dialog.nextHopUri()) return;
    const auth = ['Authorization', 'Proxy-Authorization'].flatMap((name) =>
      state.invite.headers.getAll(name).map((value) => [name, value] as const),
    );
    const ack = dialog.createRequest('ACK', { via: core.via(), seq: seq ?? 0, headers: auth });
    const entry: CallRecord = state.final ? { call: record.call, dialog } : record;
    entry.dialog = dialog; // the ACK goes to its next hop
    entry.lastAck = { seq: seq ?? 0, request: ack };
    core.dialogs.set(dialog.key, entry);
    resendAck(core, entry);
    if (state.final) {
      // A second 2xx (another fork) or one that crossed a failure: ACK and BYE it (§13.2.2.4).
      sendBye(core, entry);
      return;
    }
    state.final = true;
    state.ringTimer?.();
    this.stopSilenceTimer(state);
    core.outbound.delete(record);
    record.call.dialog = dialog;
    if (state.cancelReason !== undefined) {
      // The 2xx crossed our CANCEL (§9.1): the call is up, so end it with BYE.
      sendBye(core, record);
      this.fail(record, state.cancelReason === 'timeout' ? 408 : 487, state.cancelReason === 'timeout' ? 'Request Timeout' : 'Request Terminated');
      return;
    }
    const sdp = response.body.toString('utf8');
    // An SRTP answer (RTP/SAVP) is read with its key, for a caller that offered SRTP; a WebRTC one for a WebRTC offer.
    const read = readSessionAudio(sdp, core.options.codecs);
    if (!read.ok) {
      sendBye(core, record);
      this.fail(record, 488, `unusable SDP answer: ${read.reason}`);
      return;
    }
    const { call } = record;
    call.state = 'active';
    call.remoteSdp = sdp;
    call.remoteAudio = read.audio;
    call.emit('answered', { remoteAudio: read.audio, sdp });
  }

  private fail(record: CallRecord, status: number, reason: string): void {
    const state = record.outbound;
    if (state) {
      state.final = true;
      state.ringTimer?.();
      this.stopSilenceTimer(state);
      this.core.outbound.delete(record);
    }
    if (record.call.state === 'ended') return;
    record.call.state = 'ended';
    record.call.emit('failed', { status, reason });
  }

  /** §9.1: once per INVITE, to the INVITE's destination. */
  private sendCancel(record: CallRecord): void {
    const state = record.outbound as OutboundState;
    if (state.cancelSent) return;
    state.cancelSent = true;
    const cancel = buildCancel(state.invite);
    try {
      this.core.layer.sendRequest(cancel, state.destination, () => undefined);
    } catch (error) {
      this.core.reportError(error);
    }
  }
}
