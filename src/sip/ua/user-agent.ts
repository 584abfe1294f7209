/**
 * The SIP user agent core (RFC 3261 §8, §12–§15): a UAS that hands new INVITEs to the
 * application and answers CANCEL, BYE, re-INVITE, OPTIONS and ACK itself, and a UAC that places
 * calls (with digest authentication, §22.2), cancels them (§9.1), ACKs 2xx end to end
 * (§13.2.2.4) and hangs up (§15.1). It sits on the transaction layer and one transport.
 *
 * Deliberate limits: no DNS (URIs must name IP addresses, or a destination is given), no
 * forking (a 2xx from a second dialog is ACKed and BYE'd), no late offer (an INVITE without
 * SDP gets 488), no PRACK/100rel, re-INVITEs we send are answered but never retried on 491.
 */
import { randomBytes } from 'node:crypto';
import { InvalidStateError } from '../../errors.js';
import { buildAuthorization, parseDigestChallenge } from '../digest.js';
import { dialogIdOfRequest, dialogIdOfResponse, dialogKey, initialSeq, newTag, SipDialog, uriDestination } from '../dialog/dialog.js';
import { parseNameAddr } from '../header-values.js';
import {
  contentType,
  createRequest,
  cseq,
  listValues,
  responseTo,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../message.js';
import { readAudio, type AudioCodec, type RemoteAudio } from '../sdp/audio-session.js';
import { DEFAULT_TIMING, realTimers, type CancelTimer, type SipTimerConfig, type SipTimers } from '../transaction/timing.js';
import { newBranch } from '../transaction/transaction-key.js';
import { SipTransactionLayer, type ClientTransaction, type ServerTransaction } from '../transaction/transaction-layer.js';
import type { ServerInviteTransaction } from '../transaction/server-invite-transaction.js';
import { responseDestination, type SipDestination, type SipTransport } from '../transaction/transport.js';
import { TwoHundredRetransmitter } from '../transaction/two-hundred-retransmitter.js';
import { SipCall, type CallControl, type ReinviteResult } from './call.js';
import { IncomingCall, type IncomingControl, type RejectOptions } from './incoming-call.js';

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS']);

export interface SipUserAgentOptions {
  transport: SipTransport & { setMessageHandler?(handler: (message: SipMessage, source: SipDestination) => void): void };
  /** Our address, for Via sent-by and the default Contact. */
  address: SipDestination;
  /** Contact value (`<sip:conclave@10.0.0.1:5060>`); default built from `address`. */
  contact?: string;
  /** User-Agent / Server header value; default `Conclave`. */
  userAgent?: string;
  timers?: SipTimers;
  timing?: Partial<SipTimerConfig>;
  /** Codecs we accept in offers, preferred first (default PCMU, PCMA). */
  codecs?: readonly AudioCodec[];
  /** A new INVITE with a usable offer. Without a handler, INVITEs get 480. */
  onInvite?(incoming: IncomingCall): void | Promise<void>;
  /** The caller cancelled a pending INVITE (it got its 487). */
  onCancel?(incoming: IncomingCall): void;
  /** The peer sent BYE (also the call's `ended` event with by: 'remote'). */
  onBye?(call: SipCall): void;
  /** A re-INVITE with a usable offer: return our SDP answer. Without a handler: 488. */
  onReinvite?(call: SipCall, offer: RemoteAudio, sdp: string): string | Promise<string>;
  /** Application callbacks that threw, and other non-fatal errors. */
  onError?(error: unknown): void;
}

export interface InviteOptions {
  /** Request-URI and To (a sip: URI). */
  to: string;
  /** From URI (a sip: URI). */
  from: string;
  /** Contact value; default the user agent's. */
  contact?: string;
  sdpOffer: string;
  auth?: { username: string; password: string };
  /** Ring timeout: after it the INVITE is cancelled and the call fails with 408. */
  timeoutMs?: number;
  /** Where to send (an outbound proxy); default the host and port of `to`. */
  destination?: SipDestination;
  headers?: Array<readonly [string, string]>;
}

/** The per-dialog state behind a SipCall. */
interface CallRecord {
  call: SipCall;
  dialog: SipDialog | undefined;
  /** UAS: the 2xx being retransmitted until the ACK with this CSeq number. */
  pending2xx?: { seq: number; retransmitter: TwoHundredRetransmitter };
  /** UAC: the last ACK sent for a 2xx, re-sent when that 2xx is retransmitted. */
  lastAck?: { seq: number; request: SipRequest; destination: SipDestination };
  /** UAS hung up before the ACK: BYE once it arrives or its wait runs out (§15). */
  byeAfterAck?: boolean;
  /** An incoming re-INVITE is being answered. */
  reinviting?: boolean;
  /** UAC, before the final response. */
  outbound?: OutboundState;
}

interface OutboundState {
  invite: SipRequest;
  destination: SipDestination;
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

export class SipUserAgent {
  readonly layer: SipTransactionLayer;
  private readonly timers: SipTimers;
  private readonly timing: SipTimerConfig;
  private readonly dialogs = new Map<string, CallRecord>();
  /** UAC dialogs that ended, kept 64*T1 to re-ACK late 2xx retransmissions (§13.2.2.4). */
  private readonly lingering = new Map<string, { record: CallRecord; cancel: CancelTimer }>();
  private readonly pendingInvites = new Map<ServerTransaction, IncomingCall>();
  private readonly outbound = new Set<CallRecord>();
  private readonly contact: string;
  private readonly callControl: CallControl;
  private readonly incomingControl: IncomingControl;
  private readonly incomingTx = new WeakMap<IncomingCall, ServerInviteTransaction>();
  private isClosed = false;

  constructor(private readonly options: SipUserAgentOptions) {
    this.timers = options.timers ?? realTimers;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    const { host, port } = options.address;
    this.contact = options.contact ?? `<sip:conclave@${host.includes(':') ? `[${host}]` : host}:${port}>`;
    this.layer = new SipTransactionLayer({
      transport: options.transport,
      timers: this.timers,
      timing: this.timing,
      onRequest: (request, source, tx) => this.guard(() => this.receiveRequest(request, source, tx)),
      onStrayResponse: (response) => this.guard(() => this.receiveStrayResponse(response)),
    });
    options.transport.setMessageHandler?.((message, source) => this.receive(message, source));
    this.callControl = {
      hangup: (call, reason) => this.hangup(call, reason),
      reinvite: (call, sdp) => this.sendReinvite(call, sdp),
    };
    this.incomingControl = {
      ringing: (incoming) => this.ringing(incoming),
      accept: (incoming, sdp) => this.accept(incoming, sdp),
      reject: (incoming, status, opts) => this.reject(incoming, status, opts),
    };
  }

  /** Calls with a dialog (answered or being answered). */
  get activeCalls(): SipCall[] {
    return [...new Set([...this.dialogs.values()].map((r) => r.call))].filter((c) => !c.ended);
  }

  /** A message from the transport. */
  receive(message: SipMessage, source: SipDestination): void {
    if (!this.isClosed) this.layer.receive(message, source);
  }

  /** Stops every timer and transaction; calls are dropped without BYE. The transport stays open. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const record of [...this.dialogs.values(), ...this.outbound]) {
      record.pending2xx?.retransmitter.close();
      record.outbound?.ringTimer?.();
    }
    for (const { cancel } of this.lingering.values()) cancel();
    this.lingering.clear();
    this.dialogs.clear();
    this.outbound.clear();
    this.layer.close();
  }

  // ---------------------------------------------------------------- UAC

  /** Places a call (§13.2.1). Progress arrives as the call's events. */
  invite(options: InviteOptions): SipCall {
    if (this.isClosed) throw new InvalidStateError('the user agent is closed');
    const destination = options.destination ?? uriDestination(options.to);
    if (!destination) throw new InvalidStateError(`cannot route to ${options.to}: give a sip: URI with an IP address, or a destination`);
    const id = `${randomBytes(10).toString('hex')}@${this.options.address.host}`;
    const contact = options.contact ?? this.contact;
    const invite = createRequest('INVITE', options.to);
    invite.headers.append('Via', this.via());
    invite.headers.append('Max-Forwards', '70');
    invite.headers.append('From', `<${options.from}>;tag=${newTag()}`);
    invite.headers.append('To', `<${options.to}>`);
    invite.headers.append('Call-ID', id);
    invite.headers.append('CSeq', `${initialSeq()} INVITE`);
    invite.headers.append('Contact', contact);
    invite.headers.append('Allow', ALLOW);
    invite.headers.append('User-Agent', this.options.userAgent ?? 'Conclave');
    for (const [name, value] of options.headers ?? []) invite.headers.append(name, value);
    invite.headers.append('Content-Type', 'application/sdp');
    invite.body = Buffer.from(options.sdpOffer, 'utf8');

    const call = new SipCall('outbound', id, this.callControl);
    call.localSdp = options.sdpOffer;
    call.onListenerError = (error) => this.options.onError?.(error);
    const state: OutboundState = {
      invite, destination, tx: undefined, contact, auth: options.auth, answeredNonces: new Set(),
      provisional: false, final: false, cancelReason: undefined, cancelSent: false, ringTimer: undefined,
    };
    const record: CallRecord = { call, dialog: undefined, outbound: state };
    this.outbound.add(record);
    if (options.timeoutMs !== undefined) {
      state.ringTimer = this.timers.set(options.timeoutMs, () => this.requestCancel(record, 'timeout'));
    }
    this.sendInvite(record);
    return call;
  }

  /** An OPTIONS outside any dialog (§11); resolves with the final response. */
  sendOptions(uri: string, from = 'sip:conclave@invalid', destination?: SipDestination): Promise<SipResponse> {
    const to = destination ?? uriDestination(uri);
    if (!to) return Promise.reject(new InvalidStateError(`cannot route to ${uri}`));
    const request = createRequest('OPTIONS', uri);
    request.headers.append('Via', this.via());
    request.headers.append('Max-Forwards', '70');
    request.headers.append('From', `<${from}>;tag=${newTag()}`);
    request.headers.append('To', `<${uri}>`);
    request.headers.append('Call-ID', `${randomBytes(10).toString('hex')}@${this.options.address.host}`);
    request.headers.append('CSeq', `${initialSeq()} OPTIONS`);
    request.headers.append('Accept', 'application/sdp');
    return new Promise((resolve, reject) => {
      const tx = this.layer.sendRequest(request, to, (response) => {
        if (response.status >= 200) resolve(response);
      });
      tx.onTerminated((reason) => {
        if (reason !== 'normal') reject(new Error(`OPTIONS ${reason}`));
      });
    });
  }

  private sendInvite(record: CallRecord): void {
    const state = record.outbound as OutboundState;
    const invite = state.invite;
    const tx = this.layer.sendRequest(invite, state.destination, (response) =>
      this.guard(() => {
        // After an auth retry only a 2xx of the old INVITE still matters (it must be ACKed).
        if (state.tx === tx || (response.status >= 200 && response.status < 300)) this.inviteResponse(record, response);
      }),
    );
    state.tx = tx;
    tx.onTerminated((reason) => {
      if (state.tx !== tx || state.final || reason === 'normal' || reason === 'closed') return;
      this.fail(record, reason === 'timeout' ? 408 : 503, reason === 'timeout' ? 'Request Timeout' : 'Service Unavailable');
    });
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
      const event: { status: number; reason: string; remoteAudio?: RemoteAudio } = { status: response.status, reason: response.reason };
      if (response.body.length > 0) {
        const read = readAudio(response.body.toString('utf8'), this.options.codecs);
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
    const old = state.invite;
    const invite = createRequest('INVITE', old.uri, [], old.body);
    const seq = (cseq(old)?.seq ?? 1) + 1;
    const authName = proxy ? 'Proxy-Authorization' : 'Authorization';
    for (const { name, value } of old.headers) {
      if (name === 'Via') invite.headers.append('Via', this.via());
      else if (name === 'CSeq') invite.headers.append('CSeq', `${seq} INVITE`);
      else if (name !== authName) invite.headers.append(name, value);
    }
    invite.headers.append(authName, buildAuthorization(challenge, { ...state.auth, method: 'INVITE', uri: old.uri }));
    state.invite = invite;
    state.provisional = false;
    this.sendInvite(record);
    return true;
  }

  private inviteSuccess(record: CallRecord, response: SipResponse): void {
    const state = record.outbound as OutboundState;
    const id = dialogIdOfResponse(response);
    if (!id) return;
    const existing = this.dialogs.get(dialogKey(id)) ?? this.lingering.get(dialogKey(id))?.record;
    const seq = cseq(response)?.seq;
    if (existing) {
      if (existing.lastAck && existing.lastAck.seq === seq) this.resendAck(existing);
      return;
    }
    const dialog = SipDialog.asUac(state.invite, response, state.contact);
    if (!dialog) return;
    const ackDestination = dialog.nextHop();
    if (!ackDestination) return;
    const auth = ['Authorization', 'Proxy-Authorization'].flatMap((name) =>
      state.invite.headers.getAll(name).map((value) => [name, value] as const),
    );
    const ack = dialog.createRequest('ACK', { via: this.via(), seq: seq ?? 0, headers: auth });
    const entry: CallRecord = state.final ? { call: record.call, dialog } : record;
    entry.lastAck = { seq: seq ?? 0, request: ack, destination: ackDestination };
    this.dialogs.set(dialog.key, entry);
    this.resendAck(entry);
    if (state.final) {
      // A second 2xx (another fork) or one that crossed a failure: ACK and BYE it (§13.2.2.4).
      this.sendBye(entry);
      return;
    }
    state.final = true;
    state.ringTimer?.();
    this.outbound.delete(record);
    record.dialog = dialog;
    record.call.dialog = dialog;
    if (state.cancelReason !== undefined) {
      // The 2xx crossed our CANCEL (§9.1): the call is up, so end it with BYE.
      this.sendBye(record);
      this.fail(record, state.cancelReason === 'timeout' ? 408 : 487, state.cancelReason === 'timeout' ? 'Request Timeout' : 'Request Terminated');
      return;
    }
    const sdp = response.body.toString('utf8');
    const read = readAudio(sdp, this.options.codecs);
    if (!read.ok) {
      this.sendBye(record);
      this.fail(record, 488, `unusable SDP answer: ${read.reason}`);
      return;
    }
    const { call } = record;
    call.state = 'active';
    call.remoteSdp = sdp;
    call.remoteAudio = read.audio;
    call.emit('answered', { remoteAudio: read.audio, sdp });
  }

  private resendAck(record: CallRecord): void {
    const ack = record.lastAck;
    if (!ack) return;
    try {
      this.options.transport.send(ack.request, ack.destination);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private fail(record: CallRecord, status: number, reason: string): void {
    const state = record.outbound;
    if (state) {
      state.final = true;
      state.ringTimer?.();
      this.outbound.delete(record);
    }
    if (record.call.state === 'ended') return;
    record.call.state = 'ended';
    record.call.emit('failed', { status, reason });
  }

  private requestCancel(record: CallRecord, reason: string): void {
    const state = record.outbound;
    if (!state || state.final || state.cancelReason !== undefined) return;
    state.cancelReason = reason;
    if (state.provisional) this.sendCancel(record);
  }

  /** §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE. */
  private sendCancel(record: CallRecord): void {
    const state = record.outbound as OutboundState;
    if (state.cancelSent) return;
    state.cancelSent = true;
    const invite = state.invite;
    const cancel = createRequest('CANCEL', invite.uri);
    const via = invite.headers.get('Via');
    if (via !== undefined) cancel.headers.append('Via', via);
    for (const route of invite.headers.getAll('Route')) cancel.headers.append('Route', route);
    cancel.headers.append('Max-Forwards', '70');
    for (const name of ['From', 'To', 'Call-ID']) cancel.headers.append(name, invite.headers.get(name) ?? '');
    cancel.headers.append('CSeq', `${cseq(invite)?.seq ?? 1} CANCEL`);
    try {
      this.layer.sendRequest(cancel, state.destination, () => undefined);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private hangup(call: SipCall, reason: string): void {
    const record = [...this.outbound].find((r) => r.call === call) ?? [...this.dialogs.values()].find((r) => r.call === call);
    if (!record || call.state === 'ended') return;
    if (record.outbound && !record.outbound.final) {
      this.requestCancel(record, reason);
      return;
    }
    if (record.pending2xx) {
      record.byeAfterAck = true;
    } else {
      this.sendBye(record);
    }
    this.endCall(record, 'local', reason, false);
  }

  private sendBye(record: CallRecord): void {
    const dialog = record.dialog;
    if (!dialog || dialog.state === 'terminated') return;
    this.forget(record, dialog);
    const destination = dialog.nextHop();
    if (!destination || this.isClosed) return;
    try {
      this.layer.sendRequest(dialog.createRequest('BYE', { via: this.via() }), destination, () => undefined);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Marks the call ended and, unless a BYE is still owed, forgets its dialog. */
  private endCall(record: CallRecord, by: 'local' | 'remote', reason: string, forget = true): void {
    if (forget && record.dialog) this.forget(record, record.dialog);
    const { call } = record;
    if (call.state === 'ended') return;
    call.state = 'ended';
    call.emit('ended', { by, reason });
  }

  private forget(record: CallRecord, dialog: SipDialog): void {
    dialog.terminate();
    this.dialogs.delete(dialog.key);
    record.pending2xx?.retransmitter.close();
    if (record.lastAck && !this.lingering.has(dialog.key) && !this.isClosed) {
      const cancel = this.timers.set(64 * this.timing.t1, () => this.lingering.delete(dialog.key));
      this.lingering.set(dialog.key, { record, cancel });
    }
  }

  private async sendReinvite(call: SipCall, sdpOffer: string): Promise<ReinviteResult> {
    const record = [...this.dialogs.values()].find((r) => r.call === call);
    const dialog = record?.dialog;
    const destination = dialog?.nextHop();
    if (!record || !dialog || !destination || call.state !== 'active') throw new InvalidStateError('the call has no confirmed dialog');
    const invite = dialog.createRequest('INVITE', { via: this.via(), body: sdpOffer });
    const seq = cseq(invite)?.seq ?? 0;
    return new Promise<ReinviteResult>((resolve) => {
      const tx = this.layer.sendRequest(invite, destination, (response) =>
        this.guard(() => {
          if (response.status < 200) return;
          if (response.status >= 300) {
            resolve({ status: response.status, reason: response.reason });
            return;
          }
          if (record.lastAck?.seq === seq) {
            this.resendAck(record);
            return;
          }
          dialog.refreshTarget(response);
          const ack = dialog.createRequest('ACK', { via: this.via(), seq });
          record.lastAck = { seq, request: ack, destination: dialog.nextHop() ?? destination };
          this.resendAck(record);
          const sdp = response.body.toString('utf8');
          const read = readAudio(sdp, this.options.codecs);
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

  private receiveStrayResponse(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300 || cseq(response)?.method !== 'INVITE') return;
    const id = dialogIdOfResponse(response);
    const record = id && (this.dialogs.get(dialogKey(id)) ?? this.lingering.get(dialogKey(id))?.record);
    if (record && record.lastAck?.seq === cseq(response)?.seq) this.resendAck(record);
  }

  // ---------------------------------------------------------------- UAS

  private receiveRequest(request: SipRequest, source: SipDestination, tx: ServerTransaction | undefined): void {
    if (!tx) {
      this.receiveAck(request);
      return;
    }
    if (request.method === 'CANCEL') {
      this.receiveCancel(request, tx);
      return;
    }
    if (dialogIdOfRequest(request) !== undefined) {
      this.receiveInDialog(request, source, tx);
      return;
    }
    if (!KNOWN_METHODS.has(request.method)) {
      this.respond(tx, request, 501, { headers: [['Allow', ALLOW]] });
      return;
    }
    switch (request.method) {
      case 'INVITE':
        this.receiveInvite(request, source, tx as ServerInviteTransaction);
        return;
      case 'OPTIONS':
        this.respond(tx, request, 200, { headers: this.capabilities() });
        return;
      default:
        this.respond(tx, request, 481); // BYE outside a dialog (§15.1.2)
    }
  }

  private receiveInvite(request: SipRequest, source: SipDestination, tx: ServerInviteTransaction): void {
    const required = listValues(request, 'Require');
    if (required.length > 0) {
      this.respond(tx, request, 420, { headers: [['Unsupported', required.join(', ')]] });
      return;
    }
    if (request.headers.get('Contact') === undefined || parseNameAddr(request.headers.get('Contact') ?? '') === undefined) {
      this.respond(tx, request, 400, { reason: 'Missing Contact' });
      return;
    }
    const offer = this.readOffer(request);
    if (!offer.ok) {
      this.respond(tx, request, 488, { headers: [['Warning', `305 conclave "${offer.reason.replace(/"/g, "'")}"`]] });
      return;
    }
    const handler = this.options.onInvite;
    if (!handler) {
      this.respond(tx, request, 480);
      return;
    }
    const incoming = new IncomingCall(request, source, newTag(), offer.audio, offer.sdp, this.incomingControl);
    incoming.onListenerError = (error) => this.options.onError?.(error);
    this.incomingTx.set(incoming, tx);
    this.pendingInvites.set(tx, incoming);
    tx.onTerminated(() => this.pendingInvites.delete(tx));
    Promise.resolve()
      .then(() => handler(incoming))
      .catch((error: unknown) => {
        this.options.onError?.(error);
        if (incoming.state === 'pending') incoming.reject(500);
      });
  }

  private readOffer(request: SipRequest): { ok: true; audio: RemoteAudio; sdp: string } | { ok: false; reason: string } {
    if (request.body.length === 0) return { ok: false, reason: 'no SDP offer (late offer is not supported)' };
    const type = contentType(request)?.mediaType;
    if (type !== 'application/sdp') return { ok: false, reason: `unsupported body type ${type ?? '(none)'}` };
    const sdp = request.body.toString('utf8');
    const read = readAudio(sdp, this.options.codecs);
    return read.ok ? { ok: true, audio: read.audio, sdp } : read;
  }

  private ringing(incoming: IncomingCall): void {
    const tx = this.incomingTx.get(incoming);
    if (!tx || tx.state !== 'proceeding') return;
    const response = this.dialogResponse(incoming.request, 180, incoming.localTag);
    this.safeRespond(tx, response);
  }

  private accept(incoming: IncomingCall, sdpAnswer: string): SipCall {
    const tx = this.incomingTx.get(incoming);
    if (!tx || tx.state !== 'proceeding') throw new InvalidStateError('the INVITE transaction is over');
    const request = incoming.request;
    const response = this.dialogResponse(request, 200, incoming.localTag);
    response.headers.append('Allow', ALLOW);
    response.headers.append('Content-Type', 'application/sdp');
    response.body = Buffer.from(sdpAnswer, 'utf8');
    const dialog = SipDialog.asUas(request, response, this.contact);
    if (!dialog) throw new InvalidStateError('the INVITE cannot make a dialog');
    const call = new SipCall('inbound', incoming.callId, this.callControl);
    call.onListenerError = (error) => this.options.onError?.(error);
    call.dialog = dialog;
    call.localSdp = sdpAnswer;
    call.remoteSdp = incoming.offerSdp;
    call.remoteAudio = incoming.offer;
    const record: CallRecord = { call, dialog };
    this.dialogs.set(dialog.key, record);
    tx.respond(response);
    this.retransmit2xx(record, request, incoming.source, response);
    return call;
  }

  /** §13.3.1.4: the UAS core resends its 2xx until the ACK, and BYEs when none comes. */
  private retransmit2xx(record: CallRecord, request: SipRequest, source: SipDestination, response: SipResponse): void {
    record.pending2xx = {
      seq: cseq(request)?.seq ?? 0,
      retransmitter: new TwoHundredRetransmitter({
        transport: this.options.transport,
        timers: this.timers,
        timing: this.timing,
        response,
        destination: responseDestination(request, source, this.options.transport.reliable),
        onGiveUp: () =>
          this.guard(() => {
            record.pending2xx = undefined;
            this.sendBye(record);
            this.endCall(record, 'local', 'ack-timeout');
          }),
      }),
    };
  }

  private reject(incoming: IncomingCall, status: number, options: RejectOptions): void {
    const tx = this.incomingTx.get(incoming);
    if (!tx || tx.state !== 'proceeding') return;
    this.respond(tx, incoming.request, status, { ...options, toTag: incoming.localTag });
  }

  private receiveCancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.layer.inviteTransactionFor(cancel);
    if (!invite) {
      this.respond(tx, cancel, 481);
      return;
    }
    this.respond(tx, cancel, 200);
    const incoming = this.pendingInvites.get(invite);
    if (invite.state !== 'proceeding') return;
    this.respond(invite, invite.request, 487, incoming ? { toTag: incoming.localTag } : {});
    if (!incoming || incoming.state !== 'pending') return;
    incoming.state = 'cancelled';
    incoming.emit('cancel', {});
    this.options.onCancel?.(incoming);
  }

  private receiveAck(ack: SipRequest): void {
    const id = dialogIdOfRequest(ack);
    const record = id && this.dialogs.get(dialogKey(id));
    const pending = record ? record.pending2xx : undefined;
    if (!record || !pending || pending.seq !== cseq(ack)?.seq) return;
    pending.retransmitter.acknowledged();
    record.pending2xx = undefined;
    record.dialog?.refreshTarget(ack);
    if (record.byeAfterAck) {
      this.sendBye(record);
      return;
    }
    if (record.call.state === 'connecting') {
      record.call.state = 'active';
      record.call.emit('confirmed', {});
    }
  }

  private receiveInDialog(request: SipRequest, source: SipDestination, tx: ServerTransaction): void {
    const id = dialogIdOfRequest(request);
    const record = id && this.dialogs.get(dialogKey(id));
    const dialog = record ? record.dialog : undefined;
    if (!record || !dialog || dialog.state === 'terminated') {
      this.respond(tx, request, 481);
      return;
    }
    if (dialog.checkRemoteCSeq(request) === 'out-of-order') {
      this.respond(tx, request, 500, { reason: 'CSeq Out of Order' });
      return;
    }
    switch (request.method) {
      case 'BYE':
        this.respond(tx, request, 200);
        this.endCall(record, 'remote', 'bye');
        this.options.onBye?.(record.call);
        return;
      case 'OPTIONS':
        this.respond(tx, request, 200, { headers: this.capabilities() });
        return;
      case 'INVITE':
        this.receiveReinvite(record, dialog, request, source, tx as ServerInviteTransaction);
        return;
      default:
        this.respond(tx, request, 501, { headers: [['Allow', ALLOW]] });
    }
  }

  private receiveReinvite(record: CallRecord, dialog: SipDialog, request: SipRequest, source: SipDestination, tx: ServerInviteTransaction): void {
    if (record.reinviting || record.pending2xx) {
      // §14.2: an INVITE while our answer to the previous one is unsettled.
      this.respond(tx, request, 500, { headers: [['Retry-After', String(1 + Math.floor(Math.random() * 10))]] });
      return;
    }
    const offer = this.readOffer(request);
    const handler = this.options.onReinvite;
    if (!offer.ok || !handler) {
      this.respond(tx, request, 488);
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
          const response = this.dialogResponse(request, 200, dialog.id.localTag);
          response.headers.append('Allow', ALLOW);
          response.headers.append('Content-Type', 'application/sdp');
          response.body = Buffer.from(answer, 'utf8');
          tx.respond(response);
          this.retransmit2xx(record, request, source, response);
          call.localSdp = answer;
          call.remoteSdp = offer.sdp;
          call.remoteAudio = offer.audio;
          call.emit('reinvite', { offer: offer.audio, sdp: offer.sdp });
        },
        (error: unknown) => {
          record.reinviting = false;
          this.options.onError?.(error);
          if (tx.state === 'proceeding') this.respond(tx, request, 500);
        },
      );
  }

  // ---------------------------------------------------------------- helpers

  /** A 1xx/2xx that makes or continues a dialog: To tag, Record-Route copied (§12.1.1), Contact. */
  private dialogResponse(request: SipRequest, status: number, toTag: string): SipResponse {
    const response = responseTo(request, status, toTag);
    for (const rr of request.headers.getAll('Record-Route')) response.headers.append('Record-Route', rr);
    response.headers.append('Contact', this.contact);
    response.headers.append('Server', this.options.userAgent ?? 'Conclave');
    return response;
  }

  private capabilities(): Array<readonly [string, string]> {
    return [
      ['Allow', ALLOW],
      ['Accept', 'application/sdp'],
    ];
  }

  /** A response; non-100 responses get a To tag when the request had none (§8.2.6.2). */
  private respond(
    tx: ServerTransaction,
    request: SipRequest,
    status: number,
    options: RejectOptions & { toTag?: string } = {},
  ): void {
    const response = responseTo(request, status, options.toTag ?? newTag(), options.reason);
    for (const [name, value] of options.headers ?? []) response.headers.append(name, value);
    this.safeRespond(tx, response);
  }

  private safeRespond(tx: ServerTransaction, response: SipResponse): void {
    try {
      tx.respond(response);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private via(): string {
    const { host, port } = this.options.address;
    const transport = this.options.transport.reliable ? 'TCP' : 'UDP';
    return `SIP/2.0/${transport} ${host.includes(':') ? `[${host}]` : host}:${port};branch=${newBranch()};rport`;
  }

  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
